import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isInputError } from '../../src/model/errors.ts';
import { advisoriesFor, type K3sAdvisory } from '../../src/scan/advisories.ts';
import { lookupFromRecords } from '../../src/scan/lookup.ts';
import { mutated, realRecords, record } from './osv-fixture.ts';

const M4HF = 'GHSA-m4hf-6vgr-75r2';
const find = (list: K3sAdvisory[], id: string) => list.find((a) => a.ids.includes(id));

test('GHSA-m4hf-6vgr-75r2: v1.28.0+k3s1 is affected, v1.28.1+k3s1 is not; the fix on each line', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const on = (v: string) => find(advisoriesFor(v, recs.lookup), M4HF);
  assert.equal(on('v1.28.1+k3s1'), undefined);
  const a = on('v1.28.0+k3s1');
  assert.ok(a);
  assert.deepEqual(
    { id: a.id, ids: a.ids, severity: a.severity, line: a.line, fixedOnLine: a.fixedOnLine },
    { id: M4HF, ids: [M4HF, 'CVE-2023-32187'], severity: 'high', line: 'v1.28', fixedOnLine: 'v1.28.1+k3s1' },
  );
  assert.equal(a.cvss?.score, 7.5);
  // Each release line has its own fix (one `affected` entry per line).
  const lines: Array<[string, string]> = [
    ['v1.27.4+k3s1', 'v1.27.5+k3s1'],
    ['v1.27.0+k3s1', 'v1.27.5+k3s1'],
    ['v1.26.7+k3s2', 'v1.26.8+k3s1'],
    ['v1.25.12+k3s1', 'v1.25.13+k3s1'],
    ['v1.24.16+k3s1', 'v1.24.17+k3s1'],
  ];
  for (const [version, fix] of lines) assert.equal(on(version)?.fixedOnLine, fix, version);
  for (const fixed of ['v1.27.5+k3s1', 'v1.26.8+k3s1', 'v1.25.13+k3s1', 'v1.24.17+k3s1', 'v1.29.0+k3s1'])
    assert.equal(on(fixed), undefined, fixed);
  // Before 1.24 ("introduced 0"): no fix on the line; the first fixed release above it.
  const old = on('v1.23.17+k3s1');
  assert.equal(old?.fixedOnLine, undefined);
  assert.equal(old?.fixedAbove, 'v1.24.17+k3s1');
});

test('GHSA-864f-7xjm-2jp2 per its ranges (1.32.0-rc1 to 1.32.4-rc1), merged with GO-2025-3646', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const on = (v: string) => find(advisoriesFor(v, recs.lookup), 'GHSA-864f-7xjm-2jp2');
  for (const v of ['v1.32.0-rc1+k3s1', 'v1.32.0+k3s1', 'v1.32.3+k3s1', 'v1.32.3+k3s2', 'v1.32.4-rc0+k3s1'])
    assert.ok(on(v), `${v} affected`);
  for (const v of ['v1.31.9+k3s1', 'v1.32.4-rc1+k3s1', 'v1.32.4-rc2+k3s1', 'v1.32.4+k3s1', 'v1.33.0+k3s1'])
    assert.equal(on(v), undefined, `${v} not affected`);
  const a = on('v1.32.3+k3s1');
  assert.ok(a);
  assert.equal(a.id, 'GO-2025-3646', 'the Go vulndb id leads');
  assert.deepEqual(a.ids, ['GO-2025-3646', 'GHSA-864f-7xjm-2jp2', 'CVE-2025-46599']);
  assert.deepEqual(a.matchedRecords, ['GO-2025-3646', 'GHSA-864f-7xjm-2jp2'], 'both records agree');
  assert.equal(a.fixedOnLine, 'v1.32.4-rc1+k3s1');
  assert.equal(a.severity, 'medium');
});

test('the Go vulndb K3s records alone answer through their custom ranges', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const at = (v: string) => advisoriesFor(v, recs.govulndb).map((a) => [a.id, a.fixedOnLine, a.fixedAbove]);
  assert.deepEqual(at('v1.34.2+k3s1'), [['GO-2026-5973', 'v1.34.6+k3s1', 'v1.34.6+k3s1']]);
  assert.deepEqual(at('v1.32.1+k3s1'), [
    ['GO-2025-3646', 'v1.32.4-rc1+k3s1', 'v1.32.4-rc1+k3s1'],
    ['GO-2026-5973', undefined, 'v1.33.10+k3s1'],
  ]);
  assert.deepEqual(at('v1.35.3+k3s1'), []);
});

test('a withdrawn record never matches', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  // No K3s record of ../shared is withdrawn: GHSA-m4hf-6vgr-75r2 as it would read once withdrawn.
  const live = record(recs, M4HF);
  const withdrawn = mutated(live, (r) => {
    r.withdrawn = '2024-01-01T00:00:00Z';
  });
  assert.ok(find(advisoriesFor('v1.28.0+k3s1', lookupFromRecords([live])), M4HF));
  assert.deepEqual(advisoriesFor('v1.28.0+k3s1', lookupFromRecords([withdrawn])), []);
});

test('a plain version means its +k3s1 release; what is not a K3s version is a usage error', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  assert.deepEqual(advisoriesFor('v1.28.0', recs.lookup), advisoriesFor('v1.28.0+k3s1', recs.lookup));
  for (const bad of ['latest', 'v1.28', '1.28.0+k3sX']) {
    assert.throws(
      () => advisoriesFor(bad, recs.lookup),
      (e) => isInputError(e) && e.code === 'USAGE' && e.message.includes('vX.Y.Z[-rcN]+k3sN'),
    );
  }
});
