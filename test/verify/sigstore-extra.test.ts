// The extra real bundles (sigstore-go, sigstore-js, cosign) with the expectation k3sguard
// adopts for each (sigstore-cases.ts says why where it differs from another client). npm
// provenance bundles are checked against their real artifact, the npm tarball, fetched with
// `npm pack` into the test cache.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifySigstore } from '../../src/verify/sigstore/verify.ts';
import {
  CONFORMANCE_DIR,
  EXTRA_DIR,
  extraCases,
  npmTarball,
  sha256Ref,
  sigstoreDataMissing,
} from './sigstore-cases.ts';

const missing = sigstoreDataMissing();
const cases = missing ? [] : extraCases();

test('every extra item is covered', { skip: missing }, () => {
  const index = readFileSync(join(EXTRA_DIR, 'INDEX.tsv'), 'utf8').trimEnd().split('\n').slice(1);
  const items = index.map((l) => l.split('\t')[0]);
  assert.equal(items.length, 10);
  for (const item of items)
    assert.ok(
      cases.some((c) => c.name.startsWith(`extra/${item}`)),
      `${item} has a case`,
    );
});

for (const c of cases) {
  // An OCI image or a bare digest has no file to give: those run with the digest only.
  const modes = c.artifact || c.npm ? (['file', 'digest'] as const) : (['digest'] as const);
  for (const mode of modes) {
    test(`${c.name} (${mode}) -> ${c.expected[mode]}`, async (t) => {
      let file = c.artifact;
      if (c.npm) {
        const tgz = npmTarball(c.npm);
        if ('skip' in tgz) return t.skip(tgz.skip);
        file = tgz.path;
      }
      const artifact = mode === 'file' ? file : (c.digest ?? (file ? sha256Ref(file) : undefined));
      assert.ok(artifact);
      const r = await verifySigstore({
        artifact,
        bundlePath: c.bundle,
        policy: c.policy,
        trustedRootPath: c.trustedRoot,
      });
      const check = r.checks[0];
      assert.equal(check?.status === 'ok' ? 'pass' : 'fail', c.expected[mode], `${check?.detail} (${c.why ?? ''})`);
      if (check?.status !== 'ok') assert.doesNotMatch(check?.detail ?? '', /INTERNAL_ERROR/);
    });
  }
}

test('the npm tarballs are the artifacts the provenance statements name (sha512)', { skip: missing }, (t) => {
  const expected: Record<string, string> = {
    'sigstore@1.3.0':
      '76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751',
    'sigstore@1.0.0':
      '7bea9f6e7ff37f5fab0b36bf061200fff03099fd2fd696b91d04bc5e4f225eb9fd6e0cadcad54ba980f43fb352a99e8810b4e0abeb5c0ef2cf9108cd1f258b36',
  };
  for (const [spec, sha512] of Object.entries(expected)) {
    const tgz = npmTarball(spec);
    if ('skip' in tgz) return t.skip(tgz.skip);
    assert.equal(createHash('sha512').update(readFileSync(tgz.path)).digest('hex'), sha512, spec);
  }
});

test('a provenance bundle verified against the wrong tarball names the subject mismatch', {
  skip: missing,
}, async (t) => {
  const tgz = npmTarball('sigstore@1.0.0');
  if ('skip' in tgz) return t.skip(tgz.skip);
  const c = cases.find((x) => x.name === 'extra/sigstore-go_bundle-provenance');
  assert.ok(c);
  const r = await verifySigstore({
    artifact: tgz.path,
    bundlePath: c.bundle,
    policy: c.policy,
    trustedRootPath: c.trustedRoot,
  });
  assert.match(
    r.checks[0]?.detail ?? '',
    /not a subject of the in-toto statement \(pkg:npm\/sigstore@1\.3\.0\) \[SUBJECT_MISMATCH\]/,
  );
});

test('digest mode explains why a sha512-only statement needs the file', { skip: missing }, async () => {
  const c = cases.find((x) => x.name === 'extra/sigstore-js_bundleV01-full-cert-chain');
  assert.ok(c);
  const r = await verifySigstore({
    artifact: sha256Ref(join(CONFORMANCE_DIR, 'a.txt')),
    bundlePath: c.bundle,
    policy: c.policy,
    trustedRootPath: c.trustedRoot,
  });
  assert.match(r.checks[0]?.detail ?? '', /names its subjects by sha512 only \[NEEDS_FILE\]/);
  assert.match(r.checks[0]?.hint ?? '', /give the file itself/);
});

test('other-name SAN (sigstore-go): k3sguard fails it on the checkpoint origin, not on the identity', {
  skip: missing,
}, async () => {
  const c = cases.find((x) => x.name === 'extra/sigstore-go_othername-san');
  assert.ok(c?.digest);
  const r = await verifySigstore({
    artifact: c.digest,
    bundlePath: c.bundle,
    policy: c.policy,
    trustedRootPath: c.trustedRoot,
  });
  assert.match(r.checks[0]?.detail ?? '', /invalid checkpoint signature \[TLOG_INCLUSION_PROOF_ERROR\]/);
});
