// The rule catalogue is the single source: ids unique and well-formed, every text present,
// docs/rules.md exactly what the generator writes (run `npm run docs:rules` when this fails),
// and `audit --list-rules` prints every rule.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { allRules, findRule, rulesMarkdown } from '../../src/model/rules/catalogue.ts';
import { k3sguard } from '../cli/run.ts';

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'rules.md');

test('every rule: unique K3SG-<AREA>- id, severity, title, explanation, fix, appliesTo', () => {
  const seen = new Set<string>();
  for (const r of allRules()) {
    assert.match(r.id, r.area === 'iac' ? /^K3SG-IAC-[A-Z0-9-]+$/ : /^K3SG-NODE-[A-Z0-9-]+$/);
    assert.ok(!seen.has(r.id), `${r.id} twice`);
    seen.add(r.id);
    assert.ok(['critical', 'high', 'medium', 'low', 'info'].includes(r.severity), r.id);
    for (const text of [r.title, r.explanation, r.fix]) assert.ok(text.trim().length > 10, `${r.id}: text missing`);
    assert.ok(r.appliesTo.length > 0, r.id);
    assert.equal(findRule(r.id), r);
  }
});

test('docs/rules.md is generated from the catalogue and up to date (npm run docs:rules)', () => {
  assert.equal(readFileSync(DOC, 'utf8'), rulesMarkdown(), 'docs/rules.md is stale: run npm run docs:rules');
});

test('audit --list-rules prints every rule id; --json the records', () => {
  const r = k3sguard(['audit', '--list-rules']);
  assert.equal(r.code, 0, r.stderr);
  for (const rule of allRules()) assert.ok(r.stdout.includes(rule.id), rule.id);
  const json = JSON.parse(k3sguard(['audit', '--list-rules', '--json']).stdout) as Array<{ id: string }>;
  assert.deepEqual(
    json.map((x) => x.id),
    allRules().map((x) => x.id),
  );
});
