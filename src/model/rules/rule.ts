// An audit rule: the one place a check's id, severity and texts live. Findings, the table and
// SARIF outputs, `audit --list-rules` and docs/rules.md are all made from these records, so a
// rule's wording can only ever be changed in one place.
import type { Finding, Location, Severity, SourceRegion } from '../inventory.ts';

export interface AuditRule {
  /** `K3SG-IAC-...` or `K3SG-NODE-...`; stable, never reused for another check. */
  id: string;
  area: 'iac' | 'node';
  severity: Severity;
  /** One line, no trailing period: what is wrong. */
  title: string;
  /** Why it matters for a K3s supply chain (a few sentences, Markdown allowed). */
  explanation: string;
  /** What to write instead (Markdown allowed). */
  fix: string;
  /** Kinds of files it applies to, for docs (e.g. `shell script`, `cloud-init`, `registries.yaml`). */
  appliesTo: string[];
}

/**
 * The finding of `rule` at `region`. `location` defaults to the file alone; node audits may give
 * a longer path (e.g. the data dir, then the member).
 */
export function ruleFinding(
  rule: AuditRule,
  message: string,
  region: SourceRegion,
  location: Location = [region.file],
): Finding {
  return { id: rule.id, severity: rule.severity, title: rule.title, message, location, region };
}

/** A finding about a whole file (no line in it applies, e.g. a binary's mode): line 1, column 1. */
export function fileFinding(rule: AuditRule, message: string, file: string, location: Location = [file]): Finding {
  return ruleFinding(rule, message, { file, line: 1, column: 1 }, location);
}
