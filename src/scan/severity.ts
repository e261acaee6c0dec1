// A vulnerability's severity, from what its records say and nothing else:
// 1. a CVSS v3.x vector (`severity[]` type CVSS_V3): the base score computed from it, banded as
//    CVSS does (0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10 critical; 0.0 "none": info);
// 2. the GitHub advisory's own rating (`database_specific.severity`: LOW, MODERATE, HIGH,
//    CRITICAL), which GHSA derives from its CVSS; it also covers records with only a CVSS v4
//    vector, whose score is not computed here (the v4 formula is a lookup over macro-vectors);
// 3. otherwise `unknown`. The Go vulndb's own records carry neither: their severity comes from
//    a GHSA record of the same vulnerability when the database holds one, merged with them when
//    it matched the same package version, otherwise found by id (match.ts). Go's standard library
//    has no GHSA records, so `stdlib` findings stay `unknown` unless another source rates them.
import type { Severity, VulnerabilityInfo } from '../model/inventory.ts';
import type { OsvRecord } from '../vulndb/osv.ts';
import { cvss3 } from './cvss3.ts';

export function cvssBand(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'info';
}

const GHSA_RATING: Record<string, Severity> = { LOW: 'low', MODERATE: 'medium', HIGH: 'high', CRITICAL: 'critical' };

export interface SeverityVerdict {
  severity: Severity;
  cvss?: NonNullable<VulnerabilityInfo['cvss']>;
  /** Where it came from, for reports: `CVSS_V3 of GHSA-...`, `database_specific of GHSA-...`. */
  source?: string;
}

/** The severity of one vulnerability from its records, the primary record first. */
export function severityOf(records: readonly OsvRecord[]): SeverityVerdict {
  for (const r of records) {
    for (const s of r.severity ?? []) {
      if (s.type !== 'CVSS_V3') continue;
      const c = cvss3(s.score);
      if (c) return { severity: cvssBand(c.score), cvss: c, source: `CVSS_V3 of ${r.id}` };
    }
  }
  for (const r of records) {
    const rating = r.database_specific?.severity;
    const severity = typeof rating === 'string' ? GHSA_RATING[rating.toUpperCase()] : undefined;
    if (severity) return { severity, source: `database_specific.severity of ${r.id}` };
  }
  return { severity: 'unknown' };
}
