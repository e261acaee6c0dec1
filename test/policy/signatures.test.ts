// requireSignature enforced on an archive: a relative key path is the policy file's, failing
// images become K3SG-POLICY-SIGNATURE findings, and the signature tags are not policy subjects.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseImagePolicy } from '../../src/policy/image-policy.ts';
import { readImages } from '../../src/readers/images/read.ts';
import { checkSignaturePolicy, policyImages, signaturePolicy } from '../../src/verify/cosign/policy-signatures.ts';
import { tempDir } from '../cli/run.ts';
import { layoutWithSignatures, realCosign } from '../verify/cosign-fixtures.ts';

const real = realCosign();

const keyPolicy = (file: string, key: string) =>
  parseImagePolicy(
    file,
    `apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  requireSignature: { key: ${key} }\n`,
  );

test('requireSignature.key: a relative key is read beside the policy; pass and fail as findings', {
  skip: 'skip' in real ? real.skip : false,
}, async (t) => {
  if ('skip' in real) return;
  const dir = tempDir(t);
  copyFileSync(real.pub, join(dir, 'cosign.pub'));
  const policy = keyPolicy(join(dir, 'policy.yaml'), 'cosign.pub');
  const signed = await readImages(layoutWithSignatures(join(dir, 'signed'), real.manifest, [real.valid]));
  assert.equal(policyImages(signed).length, 1);
  const ok = await checkSignaturePolicy(policy, signed);
  assert.deepEqual(ok.findings, []);
  assert.equal(ok.checks[0]?.status, 'ok');
  const unsigned = await readImages(layoutWithSignatures(join(dir, 'unsigned'), real.manifest, []));
  const missing = await checkSignaturePolicy(policy, unsigned);
  assert.equal(missing.findings.length, 1);
  assert.equal(missing.findings[0]?.id, 'K3SG-POLICY-SIGNATURE');
  assert.match(missing.findings[0]?.message ?? '', /no cosign signature.*requires a signature by ECDSA P-256 key/);
  const other = await readImages(layoutWithSignatures(join(dir, 'other'), real.manifest, [real.unknownKey]));
  assert.match((await checkSignaturePolicy(policy, other)).findings[0]?.message ?? '', /SIGNATURE_ERROR/);
});

test('no requireSignature: nothing checked; keyless requirements map to identity policies', async () => {
  const none = parseImagePolicy(
    'p.yaml',
    'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  requireDigest: true\n',
  );
  const empty = {
    target: 'x',
    format: 'oci-layout',
    compression: 'none',
    images: [],
    blobs: [],
    keptJson: new Map(),
    findings: [],
  } as const;
  assert.deepEqual(await checkSignaturePolicy(none, { ...empty, images: [], blobs: [], findings: [] }), {
    checks: [],
    findings: [],
    warnings: [],
  });
  assert.deepEqual(signaturePolicy('/etc/k3sguard/p.yaml', { kind: 'key', key: 'k.pub' }), {
    keyPath: '/etc/k3sguard/k.pub',
  });
  assert.deepEqual(signaturePolicy('p.yaml', { kind: 'key', key: '/abs/k.pub' }), { keyPath: '/abs/k.pub' });
  assert.deepEqual(
    signaturePolicy('p.yaml', {
      kind: 'keyless',
      issuer: 'https://i',
      identity: { regexp: 'https://github.com/acme/.*' },
    }),
    { identityRegexp: 'https://github.com/acme/.*', issuer: 'https://i' },
  );
});
