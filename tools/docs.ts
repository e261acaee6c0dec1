// Regenerates the docs made from the source: docs/rules.md (the rule catalogue), the table
// of every limit in docs/limits.md (between its two markers), and the JSON schemas of the agent's
// report and events (docs/report-schema.json, docs/event-schema.json) and the fleet server's
// OpenAPI document (docs/openapi.json). Tests fail when any is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { EVENT_JSON_SCHEMA } from '../src/model/event-schema.ts';
import { limitsMarkdownTable } from '../src/model/limits.ts';
import { REPORT_JSON_SCHEMA } from '../src/model/report-schema.ts';
import { rulesMarkdown } from '../src/model/rules/catalogue.ts';
import { openApiDocument } from '../src/server/api/openapi.ts';

export const LIMITS_BEGIN = '<!-- limits table: generated from src/model/limits.ts by `npm run docs`; do not edit -->';
export const LIMITS_END = '<!-- end of the limits table -->';

/** docs/limits.md with its generated table replaced by the current one. */
export function withLimitsTable(doc: string): string {
  const begin = doc.indexOf(LIMITS_BEGIN);
  const end = doc.indexOf(LIMITS_END);
  if (begin < 0 || end < begin) throw new Error('docs/limits.md: the limits table markers are missing');
  return `${doc.slice(0, begin + LIMITS_BEGIN.length)}\n\n${limitsMarkdownTable()}\n\n${doc.slice(end)}`;
}

/** The JSON schema files and their text, as `npm run docs` writes them. */
export function schemaFiles(): Record<string, string> {
  const text = (schema: object) => `${JSON.stringify(schema, null, 2)}\n`;
  return {
    'docs/report-schema.json': text(REPORT_JSON_SCHEMA),
    'docs/event-schema.json': text(EVENT_JSON_SCHEMA),
    'docs/openapi.json': text(openApiDocument()),
  };
}

if (import.meta.main) {
  const root = new URL('../', import.meta.url);
  writeFileSync(new URL('docs/rules.md', root), rulesMarkdown());
  const limits = new URL('docs/limits.md', root);
  writeFileSync(limits, withLimitsTable(readFileSync(limits, 'utf8')));
  for (const [path, text] of Object.entries(schemaFiles())) writeFileSync(new URL(path, root), text);
}
