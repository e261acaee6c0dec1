// `k3sguard advisories --k3s-version vX.Y.Z+k3sN`: the K3s advisories affecting one release,
// with the way out on its own minor line. The same rules as a scan's 'k3s' matching: GHSA
// ECOSYSTEM ranges and the Go vulndb's custom_ranges for github.com/k3s-io/k3s (and its old
// path github.com/rancher/k3s), in K3s order (+k3sN counts; a plain `1.28.1` means
// v1.28.1+k3s1), placeholders ignored, withdrawn records ignored, aliases merged.
import { InputError } from '../model/errors.ts';
import type { Severity, VulnerabilityInfo } from '../model/inventory.ts';
import { k3sLine, parseK3sVersion } from '../versions/k3sversion.ts';
import { groupByAlias } from './aliases.ts';
import type { RecordLookup } from './lookup.ts';
import { K3S_ORDER } from './orders.ts';
import { GO_ECOSYSTEM, groupFixes, matchPackage, type RecordMatch, recordIds } from './records.ts';
import { severityOf } from './severity.ts';
import { K3S_MODULES } from './targets.ts';

export interface K3sAdvisory {
  /** The primary id: the Go vulndb's GO- id when there is one, else the GHSA id. */
  id: string;
  /** Every id of the vulnerability (GO-, GHSA-, CVE-), primary first. */
  ids: string[];
  /** The ids of the records whose ranges include the version (the others are aliases). */
  matchedRecords: string[];
  summary?: string;
  severity: Severity;
  cvss?: VulnerabilityInfo['cvss'];
  /** The minor line of the version asked about: `v1.27`. */
  line: string;
  /** The lowest release of that line that fixes it (`v1.27.5+k3s1`), when the records name one. */
  fixedOnLine?: string;
  /** The lowest fixed release above the version on any line: the way out when the line has none. */
  fixedAbove?: string;
}

/** The K3s advisories affecting `k3sVersion`, by primary id. Throws USAGE for a non-K3s version. */
export function advisoriesFor(k3sVersion: string, lookup: RecordLookup): K3sAdvisory[] {
  const installed = parseK3sVersion(k3sVersion);
  if (!installed)
    throw new InputError(
      'USAGE',
      undefined,
      `${JSON.stringify(k3sVersion)} is not a K3s version: expected vX.Y.Z[-rcN]+k3sN, e.g. v1.31.4+k3s1`,
    );
  const matches: RecordMatch[] = [];
  const seen = new Set<string>();
  for (const name of K3S_MODULES) {
    // K3s is a Linux distribution: its records are read for linux (no GOARCH limit applied).
    for (const m of matchPackage(lookup(GO_ECOSYSTEM, name), name, installed, K3S_ORDER, { goos: 'linux' })) {
      if (seen.has(m.record.id)) continue;
      seen.add(m.record.id);
      matches.push(m);
    }
  }
  return groupByAlias(matches, (m) => recordIds(m.record)).map((group) => {
    const { severity, cvss } = severityOf(group.members.map((m) => m.record));
    const fixes = groupFixes(group.members);
    const advisory: K3sAdvisory = {
      id: group.id,
      ids: group.ids,
      matchedRecords: group.members.map((m) => m.record.id),
      severity,
      line: k3sLine(installed),
    };
    const summary = group.members.map((m) => m.record.summary).find((s) => !!s);
    if (summary) advisory.summary = summary;
    if (cvss) advisory.cvss = cvss;
    const onLine = fixes.find((f) => f.sameLine)?.display;
    if (onLine) advisory.fixedOnLine = onLine;
    if (fixes[0]) advisory.fixedAbove = fixes[0].display;
    return advisory;
  });
}
