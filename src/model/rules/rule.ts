// A rule: the one place a check's id, severity and texts live. Findings, the tables, SARIF,
// `audit --list-rules` and docs/rules.md are all made from these records, so a rule's wording
// or severity can only ever be changed in one place. Every rule is listed in the catalogue
// (catalogue.ts), whatever raises it: the bundle and image readers, the image policy, audits.
import type { Finding, Location, Severity, SourceRegion } from '../inventory.ts';

/** Who raises the rule's findings; also the second word of its id (`K3SG-<AREA>-...`). */
export type RuleArea = 'bundle' | 'image' | 'policy' | 'iac' | 'node' | 'runtime' | 'process';

export interface Rule {
  /** `K3SG-<AREA>-...`; stable, never reused for another check. */
  id: string;
  area: RuleArea;
  severity: Severity;
  /** One line, no trailing period: what is wrong. */
  title: string;
  /** Why it matters for a K3s supply chain (a few sentences, Markdown allowed). */
  explanation: string;
  /** What to do about it (Markdown allowed). */
  fix: string;
  /** What it applies to, for docs (e.g. `shell script`, `registries.yaml`, `image archive`). */
  appliesTo: readonly string[];
}

/** A table's rule texts keyed by id (the area is the table's). */
export type RuleText = Omit<Rule, 'id' | 'area'>;

/** A table's rules by id (its keys), each a full record of `area`, in the table's order. */
export function ruleTable<Id extends string>(
  area: RuleArea,
  texts: Readonly<Record<Id, RuleText>>,
): Readonly<Record<Id, Rule>> {
  const out = {} as Record<Id, Rule>;
  for (const id of Object.keys(texts) as Id[]) {
    const t = texts[id];
    out[id] = { id, area, ...t, appliesTo: [...t.appliesTo] };
  }
  return out;
}

/**
 * The finding of `rule`. Given a location (a path through the target, e.g. the binary, its
 * bundle, the member), that is where it is. Given a source region (audits: a line and column
 * in a text file), the location defaults to the file alone; node audits may give a longer
 * path (e.g. the data dir, then the member).
 */
export function ruleFinding(rule: Rule, message: string, location: Location): Finding;
export function ruleFinding(rule: Rule, message: string, region: SourceRegion, location?: Location): Finding;
export function ruleFinding(rule: Rule, message: string, at: Location | SourceRegion, location?: Location): Finding {
  const base = { id: rule.id, severity: rule.severity, title: rule.title, message };
  if (isLocation(at)) return { ...base, location: at };
  return { ...base, location: location ?? [at.file], region: at };
}

function isLocation(at: Location | SourceRegion): at is Location {
  return Array.isArray(at);
}

/** A finding about a whole file (no line in it applies, e.g. a binary's mode): line 1, column 1. */
export function fileFinding(rule: Rule, message: string, file: string, location: Location = [file]): Finding {
  return ruleFinding(rule, message, { file, line: 1, column: 1 }, location);
}
