// Keyless cosign verification on a real public-good signature (test/verify/cosign-keyless-real.ts):
// Fulcio certificate chained to the shipped trusted root, its embedded SCT, the Rekor SET, the
// identity policy, then the payload's image digest. Every failure case changes one thing.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { SignatureLayer } from '../../src/readers/images/cosign-layout.ts';
import { verifySignatureLayer } from '../../src/verify/cosign/verify.ts';
import { SHIPPED_TRUSTED_ROOT } from '../../src/verify/sigstore/trust.ts';
import type { SigstorePolicy } from '../../src/verify/sigstore/verify.ts';
import { REAL_KEYLESS as K, realKeylessBundleAnnotation } from './cosign-keyless-real.ts';

const POLICY: SigstorePolicy = { identity: K.identity, issuer: K.issuer };

function layer(change: { payload?: string; bundle?: string | null; signature?: string } = {}): SignatureLayer {
  const annotations: Record<string, string> = {
    'dev.cosignproject.cosign/signature': change.signature ?? K.signature,
    'dev.sigstore.cosign/certificate': K.certificate,
  };
  const bundle = change.bundle === undefined ? realKeylessBundleAnnotation() : change.bundle;
  if (bundle !== null) annotations['dev.sigstore.cosign/bundle'] = bundle;
  return {
    source: 'sha256-83ab2b….sig layer 0',
    annotations,
    payload: { bytes: Buffer.from(change.payload ?? K.payload) },
  };
}

function verify(l: SignatureLayer, subject: string = K.imageDigest, policy: SigstorePolicy = POLICY) {
  return verifySignatureLayer(l, subject, { policy, trustedRootPath: SHIPPED_TRUSTED_ROOT });
}

test('the real payload is the one the signature manifest names (sha256 of the layer)', () => {
  assert.equal(`sha256:${createHash('sha256').update(K.payload).digest('hex')}`, K.layerDigest);
});

test('a real public-good keyless cosign signature verifies: chain, SCT, Rekor SET, identity, image digest', async () => {
  const ok = await verify(layer());
  assert.equal(ok.status, 'ok', ok.detail);
  assert.match(ok.detail, /signature over sha256:83ab2ba6.*1 Rekor entry \(SET\)/);
  assert.equal(ok.actual, `identity ${K.identity}, issuer ${K.issuer}`);
  const regexp = await verify(layer(), K.imageDigest, {
    identityRegexp: '^cosign@cosign-test-[0-9]+\\.iam\\.gserviceaccount\\.com$',
    issuer: K.issuer,
  });
  assert.equal(regexp.status, 'ok', regexp.detail);
});

test('the same real signature for another image, signer or issuer fails, saying which', async () => {
  const other = await verify(layer(), `sha256:${'0'.repeat(64)}`);
  assert.equal(other.status, 'invalid');
  assert.match(other.detail, /SIGNED_OTHER_IMAGE/);
  const who = await verify(layer(), K.imageDigest, { identity: 'someone@example.com', issuer: K.issuer });
  assert.match(who.detail, /certificate identity error.*\[UNTRUSTED_SIGNER_ERROR\]/);
  assert.equal(who.status, 'invalid');
  const issuer = await verify(layer(), K.imageDigest, {
    identity: K.identity,
    issuer: 'https://token.actions.githubusercontent.com',
  });
  assert.equal(issuer.status, 'invalid');
  assert.match(issuer.detail, /expected issuer=https:\/\/token\.actions.*\[UNTRUSTED_SIGNER_ERROR\]/);
  // Exact identity is exact: a prefix of the real one is not it.
  const prefix = await verify(layer(), K.imageDigest, { identity: 'cosign@cosign-test', issuer: K.issuer });
  assert.equal(prefix.status, 'invalid');
});

test('one changed byte anywhere fails: payload, signature, log entry; no log entry at all fails', async () => {
  const payload = await verify(layer({ payload: K.payload.replace('value1', 'value2') }));
  assert.equal(payload.status, 'invalid', 'a payload the signature does not cover');
  assert.match(payload.detail, /TLOG_BODY_ERROR|SIGNATURE/);
  const sig = K.signature.replace('MEUCIQCE', 'MEUCIQCF');
  assert.equal((await verify(layer({ signature: sig }))).status, 'invalid', 'a changed signature');
  const entry = JSON.parse(realKeylessBundleAnnotation()) as { Payload: { integratedTime: number } };
  entry.Payload.integratedTime += 1;
  const set = await verify(layer({ bundle: JSON.stringify(entry) }));
  assert.equal(set.status, 'invalid', 'the SET covers the integrated time');
  assert.match(set.detail, /TLOG_INCLUSION_PROMISE_ERROR/);
  const noLog = await verify(layer({ bundle: null }));
  assert.equal(noLog.status, 'invalid', 'keyless needs the transparency log');
  assert.match(noLog.detail, /TLOG|TIMESTAMP/);
  const garbage = await verify(layer({ bundle: '{"SignedEntryTimestamp":1}' }));
  assert.equal(garbage.status, 'invalid');
  assert.match(garbage.detail, /ANNOTATION_INVALID/);
});
