// Signature checks from a digest alone (src/verify/sigstore/prehashed.ts), against node:crypto's own
// signatures: whatever OpenSSL signs over a message must verify over its digest, and nothing
// else may. Then keyed bundles for every key type verify --key supports, file and digest.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { keyId } from '../../src/verify/sigstore/keys.ts';
import {
  CURVES,
  canVerifyPrehashed,
  onCurve,
  parseDerSignature,
  verifyPrehashed,
} from '../../src/verify/sigstore/prehashed.ts';
import { verifySigstore } from '../../src/verify/sigstore/verify.ts';
import { tempDir } from '../cli/run.ts';

test('the curve constants are consistent: each generator is on its curve', () => {
  for (const [name, c] of Object.entries(CURVES)) assert.ok(onCurve(c, { x: c.gx, y: c.gy }), name);
});

test('ECDSA over a digest agrees with node:crypto for P-256 and P-384 and every hash, and rejects changes', () => {
  const combos = [
    ['P-256', 'sha256'],
    ['P-256', 'sha384'],
    ['P-256', 'sha512'], // digest longer than the order: leftmost bits (SEC 1 §4.1.3)
    ['P-384', 'sha256'], // digest shorter than the order
    ['P-384', 'sha384'],
    ['P-384', 'sha512'],
  ] as const;
  for (const [curve, alg] of combos) {
    for (let i = 0; i < 8; i++) {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const message = randomBytes(1 + i * 37);
      const sig = sign(alg, message, privateKey);
      const digest = createHash(alg).update(message).digest();
      assert.ok(verifyPrehashed(publicKey, alg, digest, sig), `${curve} ${alg} #${i}`);
      const otherDigest = Buffer.from(digest);
      xor(otherDigest, i % otherDigest.length, 0x80);
      assert.equal(verifyPrehashed(publicKey, alg, otherDigest, sig), false);
      const otherSig = Buffer.from(sig);
      xor(otherSig, otherSig.length - 1, 0x01);
      assert.equal(verifyPrehashed(publicKey, alg, digest, otherSig), false);
      const otherKey = generateKeyPairSync('ec', { namedCurve: curve }).publicKey;
      assert.equal(verifyPrehashed(otherKey, alg, digest, sig), false);
    }
  }
});

test('only strict DER signatures are read', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const sig = sign('sha256', Buffer.from('x'), privateKey);
  assert.ok(parseDerSignature(sig));
  assert.equal(parseDerSignature(Buffer.concat([sig, Buffer.from([0])])), undefined, 'trailing byte');
  assert.equal(parseDerSignature(sig.subarray(0, sig.length - 1)), undefined, 'truncated');
  assert.equal(
    parseDerSignature(sign('sha256', Buffer.from('x'), { key: privateKey, dsaEncoding: 'ieee-p1363' })),
    undefined,
  );
  // r = 0x00 0x01 (a needless leading zero) is not DER.
  assert.equal(parseDerSignature(Buffer.from('3008020200010202 0001'.replace(' ', ''), 'hex')), undefined);
  assert.equal(parseDerSignature(Buffer.from('300602018102017f', 'hex')), undefined, 'negative r');
});

test('RSA PKCS#1 v1.5 over a digest; Ed25519 and RSA-PSS are left to the whole file', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const message = randomBytes(64);
  for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
    const sig = sign(alg, message, rsa.privateKey);
    assert.ok(verifyPrehashed(rsa.publicKey, alg, createHash(alg).update(message).digest(), sig), alg);
    assert.equal(verifyPrehashed(rsa.publicKey, alg, createHash(alg).update('other').digest(), sig), false);
  }
  assert.equal(canVerifyPrehashed(generateKeyPairSync('ed25519').publicKey), false);
  assert.equal(canVerifyPrehashed(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey), false);
  assert.equal(canVerifyPrehashed(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey), false);
});

/** A keyed message-signature bundle as any Sigstore signer would write it, signed by node:crypto. */
function keyedBundle(
  dir: string,
  name: string,
  file: string,
  data: Buffer,
  pair: { publicKey: KeyObject; privateKey: KeyObject },
) {
  const isEd = pair.privateKey.asymmetricKeyType === 'ed25519';
  const signature = sign(isEd ? null : 'sha256', data, pair.privateKey);
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: keyId(pair.publicKey) }, tlogEntries: [] },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(data).digest('base64') },
      signature: signature.toString('base64'),
    },
  };
  const bundlePath = join(dir, `${name}.sigstore.json`);
  const keyPath = join(dir, `${name}.pub`);
  writeFileSync(bundlePath, JSON.stringify(bundle));
  writeFileSync(keyPath, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { artifact: file, bundlePath, policy: { keyPath } };
}

test('verify --key for P-384, P-521, Ed25519, RSA and RSA-PSS keys, from the file and from the digest', async (t) => {
  const dir = tempDir(t);
  const data = randomBytes(3 << 20); // past one read chunk
  const file = join(dir, 'artifact');
  writeFileSync(file, data);
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const keys = {
    p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
    ed25519: generateKeyPairSync('ed25519'),
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    rsapss: generateKeyPairSync('rsa-pss', { modulusLength: 2048 }),
  };
  // From a digest only ECDSA P-256/P-384 and RSA PKCS#1 can be checked; the others need the file.
  const digestOk = new Set(['p384', 'rsa']);
  for (const [name, pair] of Object.entries(keys)) {
    const opts = keyedBundle(dir, name, file, data, pair);
    const byFile = (await verifySigstore(opts)).checks[0];
    assert.equal(byFile?.status, 'ok', `${name}: ${byFile?.detail}`);
    const byDigest = (await verifySigstore({ ...opts, artifact: digest })).checks[0];
    if (digestOk.has(name)) assert.equal(byDigest?.status, 'ok', `${name} digest: ${byDigest?.detail}`);
    else {
      assert.match(byDigest?.detail ?? '', /covers the whole file, not its digest \[NEEDS_FILE\]/, name);
    }
    const wrong = keyedBundle(dir, `${name}-wrong`, file, Buffer.concat([data, Buffer.from('!')]), pair);
    const bad = (await verifySigstore(wrong)).checks[0];
    assert.equal(bad?.status, 'invalid', `${name}: a bundle for other bytes`);
  }
});

function xor(b: Buffer, i: number, mask: number): void {
  b.writeUInt8(b.readUInt8(i) ^ mask, i);
}
