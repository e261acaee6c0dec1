// Rules: a finding's id, severity and title come from one table per area (the bundle, image
// archives, ...), so reports, SARIF rules and suppressions all key on the same stable ids.
import type { Finding, Location, Severity } from '../inventory.ts';

export interface Rule {
  severity: Severity;
  title: string;
}

export type RuleTable = Readonly<Record<string, Rule>>;

/** The finding of rule `id` of `rules`, with its message and location. */
export function ruleFinding<T extends RuleTable>(
  rules: T,
  id: keyof T & string,
  message: string,
  location: Location,
): Finding {
  const rule = rules[id] as Rule;
  return { id, severity: rule.severity, title: rule.title, message, location };
}
