// The rule catalogue is the single source of every finding id: ids unique and well-formed,
// every text present, every id written anywhere in src/ listed (so a new finding cannot bypass
// it), docs/rules.md exactly what the generator writes (run `npm run docs` when this
// fails), and `audit --list-rules` prints the audit rules.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePolicyWaivers } from '../../src/audit/waivers.ts';
import { isInputError } from '../../src/model/errors.ts';
import { allRules, auditRules, findRule, rulesMarkdown } from '../../src/model/rules/catalogue.ts';
import { k3sguard } from '../cli/run.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = join(ROOT, 'docs', 'rules.md');
const SRC = join(ROOT, 'src');

test('every rule: unique K3SG-<AREA>- id, severity, title, explanation, fix, appliesTo', () => {
  const seen = new Set<string>();
  for (const r of allRules()) {
    assert.match(r.id, new RegExp(`^K3SG-${r.area.toUpperCase()}-[A-Z0-9]+(?:-[A-Z0-9]+)*$`));
    assert.ok(!seen.has(r.id), `${r.id} twice`);
    seen.add(r.id);
    assert.ok(['critical', 'high', 'medium', 'low', 'info'].includes(r.severity), r.id);
    for (const text of [r.title, r.explanation, r.fix]) assert.ok(text.trim().length > 10, `${r.id}: text missing`);
    assert.ok(r.appliesTo.length > 0, r.id);
    assert.equal(findRule(r.id), r);
  }
  assert.deepEqual(
    new Set(allRules().map((r) => r.area)),
    new Set(['bundle', 'image', 'policy', 'iac', 'node', 'runtime', 'process']),
  );
});

test('every K3SG- id written anywhere in src/ is a rule of the catalogue', () => {
  // Whole ids only: a prefix such as `K3SG-POLICY-` (followed by `-` or a quote) is no id.
  const ID = /(?<![A-Z0-9-])K3SG-[A-Z0-9]+(?:-[A-Z0-9]+)+(?![A-Z0-9-])/g;
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const written = new Map<string, string>();
  for (const file of files) {
    for (const [id] of readFileSync(join(SRC, file), 'utf8').matchAll(ID)) written.set(id, file);
  }
  // The scan itself must see the ids the readers raise, or it would pass on nothing.
  assert.ok(written.has('K3SG-BUNDLE-HASH') && written.has('K3SG-IMAGE-DIFFID'), 'the scan found no ids');
  const missing = [...written].filter(([id]) => !findRule(id)).map(([id, file]) => `${id} (src/${file})`);
  assert.deepEqual(missing, []);
});

test('one check, one severity: rules with the same title in two areas agree', () => {
  const byTitle = new Map<string, string[]>();
  for (const r of allRules()) byTitle.set(r.title, [...(byTitle.get(r.title) ?? []), `${r.id} ${r.severity}`]);
  const shared = [...byTitle.values()].filter((ids) => ids.length > 1);
  // The HelmChart check runs on the repository (iac) and on the node: two ids, one severity.
  assert.deepEqual(shared, [['K3SG-IAC-HELMCHART-VERSION high', 'K3SG-NODE-HELMCHART-VERSION high']]);
});

test('docs/rules.md is generated from the catalogue and up to date (npm run docs)', () => {
  const doc = readFileSync(DOC, 'utf8');
  assert.equal(doc, rulesMarkdown(), 'docs/rules.md is stale: run npm run docs');
  for (const r of allRules()) assert.ok(doc.includes(`### ${r.id}\n`), r.id);
});

test('audit --list-rules prints every audit rule id (iac, node); --json the records', () => {
  const r = k3sguard(['audit', '--list-rules']);
  assert.equal(r.code, 0, r.stderr);
  for (const rule of auditRules()) assert.ok(r.stdout.includes(rule.id), rule.id);
  assert.ok(!r.stdout.includes('K3SG-BUNDLE-'), 'bundle rules are no audit rules');
  const json = JSON.parse(k3sguard(['audit', '--list-rules', '--json']).stdout) as Array<{ id: string }>;
  assert.deepEqual(
    json.map((x) => x.id),
    auditRules().map((x) => x.id),
  );
  assert.deepEqual(new Set(auditRules().map((x) => x.area)), new Set(['iac', 'node']));
});

test('an audit waiver may name only an audit rule: a bundle rule id is refused', () => {
  const policy = (rule: string) =>
    `apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages: {}\naudit:\n  waivers:\n    - rule: ${rule}\n      reason: x\n`;
  assert.equal(
    parsePolicyWaivers('p.yaml', policy('K3SG-NODE-HELMCHART-VERSION'))[0]?.rule,
    'K3SG-NODE-HELMCHART-VERSION',
  );
  assert.throws(
    () => parsePolicyWaivers('p.yaml', policy('K3SG-BUNDLE-HASH')),
    (e: unknown) => isInputError(e) && /"K3SG-BUNDLE-HASH" is a bundle rule, not an audit rule/.test(e.message),
  );
});
