// docs/limits.md lists every limit with its default: its reference table is generated from
// LIMIT_SPECS (`npm run docs`), and this fails when the file is stale.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { LIMIT_SPECS, LIMITS, type LimitName } from '../../src/model/limits.ts';
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
  for (const [key, spec] of Object.entries(LIMIT_SPECS)) {
    assert.ok(Number.isInteger(spec.value) && spec.value > 0, key);
    assert.equal(LIMITS[key as LimitName], spec.value, key);
    assert.ok(spec.what.length > 10, key);
  }
  for (const [kind, value] of Object.entries(LIMITS.optionFile)) assert.ok(Number.isInteger(value) && value > 0, kind);
});
