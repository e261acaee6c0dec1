// The one order of severities, used wherever findings are ranked, sorted, counted or compared
// with a threshold (`--fail-on`). `unknown` ranks below `low` and above `info`: it is a known
// vulnerability whose record gives no score, which deserves more attention than a note.
import type { Severity } from './inventory.ts';

/** Every severity, most severe first. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'unknown', 'info'];

/** 0 for `critical`, growing as severity falls. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** For `sort`: the more severe first. */
export function compareSeverity(a: Severity, b: Severity): number {
  return severityRank(a) - severityRank(b);
}

/** `s` is `threshold` or more severe. */
export function atLeast(s: Severity, threshold: Severity): boolean {
  return severityRank(s) <= severityRank(threshold);
}
