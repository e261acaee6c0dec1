// Regenerates the docs made from the source: docs/rules.md (the rule catalogue) and the table
// of every limit in docs/limits.md (between its two markers). Tests fail when either is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { limitsMarkdownTable } from '../src/model/limits.ts';
import { rulesMarkdown } from '../src/model/rules/catalogue.ts';

export const LIMITS_BEGIN = '<!-- limits table: generated from src/model/limits.ts by `npm run docs`; do not edit -->';
export const LIMITS_END = '<!-- end of the limits table -->';

/** docs/limits.md with its generated table replaced by the current one. */
export function withLimitsTable(doc: string): string {
  const begin = doc.indexOf(LIMITS_BEGIN);
  const end = doc.indexOf(LIMITS_END);
  if (begin < 0 || end < begin) throw new Error('docs/limits.md: the limits table markers are missing');
  return `${doc.slice(0, begin + LIMITS_BEGIN.length)}\n\n${limitsMarkdownTable()}\n\n${doc.slice(end)}`;
}

if (import.meta.main) {
  const root = new URL('../', import.meta.url);
  writeFileSync(new URL('docs/rules.md', root), rulesMarkdown());
  const limits = new URL('docs/limits.md', root);
  writeFileSync(limits, withLimitsTable(readFileSync(limits, 'utf8')));
}
