// Which vulnerability findings a scan reports: `--severity LIST` keeps only those severities
// (as trivy's option does) and `--ignore-unfixed` only findings whose records name a fixed
// version. The findings themselves are filtered, so every format (table, JSON, SARIF,
// CycloneDX) and the exit code agree on what was reported.
import type { Finding, Severity } from '../model/inventory.ts';

export interface FindingFilter {
  /** Only these severities; absent: every severity. */
  severities?: readonly Severity[];
  /** Leave out findings with no fixed version recorded. */
  ignoreUnfixed?: boolean;
}

export function filterFindings(findings: readonly Finding[], filter: FindingFilter): Finding[] {
  const { severities, ignoreUnfixed } = filter;
  return findings.filter(
    (f) => (!severities || severities.includes(f.severity)) && (!ignoreUnfixed || !!f.vulnerability?.fixed),
  );
}
