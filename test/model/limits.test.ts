// docs/limits.md lists every limit with its default: its reference table is generated from
// LIMITS and LIMIT_TEXT (`npm run docs`), and this fails when the file is stale.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { LIMIT_TEXT, LIMITS } from '../../src/model/limits.ts';
import { withLimitsTable } from '../../tools/docs.ts';

const DOC = new URL('../../docs/limits.md', import.meta.url);

test('docs/limits.md has the generated table of every limit, up to date (npm run docs)', () => {
  const doc = readFileSync(DOC, 'utf8');
  assert.equal(doc, withLimitsTable(doc), 'docs/limits.md is stale: run npm run docs');
  for (const key of Object.keys(LIMITS)) {
    if (key === 'optionFile') continue;
    assert.ok(doc.includes(`| \`${key}\` |`), `${key} is in the table`);
  }
});

test('every limit says what it bounds, and every default is a positive whole number', () => {
  for (const [key, value] of Object.entries(LIMITS)) {
    if (key === 'optionFile') continue;
    assert.ok(Number.isInteger(value) && value > 0, key);
    assert.ok(LIMIT_TEXT[key as keyof typeof LIMIT_TEXT].what.length > 10, key);
  }
  for (const [kind, value] of Object.entries(LIMITS.optionFile)) assert.ok(Number.isInteger(value) && value > 0, kind);
});
