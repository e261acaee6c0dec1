// The 35 sigstore-conformance bundle-verify cases, each run as the suite runs them: with the
// artifact file, and with `sha256:<hex>` in its place. A `_fail` case must give 'invalid'
// with a reason k3sguard can name (never the catch-all for a library crash); the others 'ok'.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifySigstore } from '../../src/verify/sigstore/verify.ts';
import { casesTsv, conformanceCases, sigstoreDataMissing } from './sigstore-cases.ts';

const missing = sigstoreDataMissing();
const cases = missing ? [] : conformanceCases();

test('the conformance set is the 35 cases CASES.tsv describes, and its expectations follow the _fail rule', {
  skip: missing,
}, () => {
  assert.equal(cases.length, 35);
  const tsv = casesTsv();
  assert.deepEqual([...tsv.keys()].sort(), cases.map((c) => c.name.replace('conformance/', '')).sort());
  for (const [name, row] of tsv) assert.equal(row.expected, name.endsWith('_fail') ? 'fail' : 'pass', name);
});

test('where @sigstore/verify 4.1.3 recorded a wrong answer, k3sguard still gives the expected one', {
  skip: missing,
}, async () => {
  // CASES.tsv's last column is the library's own result. Today it agrees with every case
  // present (the disputed trust-root-tlog-missing-validity-start_fail is not among the 35;
  // sigstore-trust.test.ts rebuilds it); if the data gains such a case, this names it.
  const disagreements = [...casesTsv()].filter(
    ([, r]) => (r.library.startsWith('PASS') ? 'pass' : 'fail') !== r.expected,
  );
  for (const [name, row] of disagreements) {
    const c = cases.find((x) => x.name === `conformance/${name}`);
    assert.ok(c, name);
    const r = await verifySigstore({
      artifact: c.artifact ?? c.digest,
      bundlePath: c.bundle,
      policy: c.policy,
      trustedRootPath: c.trustedRoot,
    });
    assert.equal(r.checks[0]?.status === 'ok' ? 'pass' : 'fail', row.expected, name);
  }
});

for (const c of cases) {
  for (const mode of ['file', 'digest'] as const) {
    test(`${c.name} (${mode}) -> ${c.expected[mode]}`, async () => {
      const artifact = mode === 'file' ? c.artifact : c.digest;
      assert.ok(artifact);
      const r = await verifySigstore({
        artifact,
        bundlePath: c.bundle,
        policy: c.policy,
        trustedRootPath: c.trustedRoot,
      });
      assert.equal(r.checks.length, 1);
      const check = r.checks[0];
      assert.ok(check);
      assert.equal(check.kind, 'sigstore');
      assert.equal(check.subject, artifact);
      assert.equal(r.trust.source, 'file');
      if (c.expected[mode] === 'pass') {
        assert.equal(check.status, 'ok', `${check.detail} / ${check.hint}`);
        assert.equal(check.hint, undefined);
      } else {
        assert.equal(check.status, 'invalid', check.detail);
        assert.doesNotMatch(check.detail, /\[INTERNAL_ERROR\]$/, 'a library crash, not a reason');
        assert.match(check.detail, /\[[A-Z_]+\]$/);
        assert.ok(check.hint && !check.hint.includes('\n'), 'one line saying what to do');
      }
    });
  }
}

test('the same verdicts with the shipped public-good root as default instead of the stored production root', {
  skip: missing,
}, async (t) => {
  // Cases without their own trusted_root.json use the public-good root; leaving
  // trustedRootPath out must pick the shipped copy (an empty trust dir: no cached update).
  const trustDir = mkdtempSync(join(tmpdir(), 'k3sguard-trust-'));
  t.after(() => rmSync(trustDir, { recursive: true, force: true }));
  const production = cases.filter((c) => c.trustedRoot.endsWith('production.trusted_root.json'));
  assert.ok(production.length >= 15);
  for (const c of production) {
    const r = await verifySigstore({ artifact: c.digest, bundlePath: c.bundle, policy: c.policy, trustDir });
    assert.equal(r.trust.source, 'shipped');
    assert.equal(r.checks[0]?.status === 'ok' ? 'pass' : 'fail', c.expected.digest, c.name);
  }
});
