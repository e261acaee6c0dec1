// Organisation signing: `k3sguard sign` writes a standard Sigstore bundle that verify --key
// accepts (from the file and from its digest), that OpenSSL checks independently, and that is
// rejected for another key, a changed file and a changed bundle. Keys: encrypted or not,
// never echoed in errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/model/errors.ts';
import { keyId, PASSPHRASE_ENV } from '../../src/verify/sigstore/keys.ts';
import { generateSigningKey, signFile } from '../../src/verify/sigstore/sign.ts';
import { verifySigstore } from '../../src/verify/sigstore/verify.ts';
import { tempDir } from '../cli/run.ts';

interface Setup {
  dir: string;
  file: string;
  key: string;
  pub: string;
  bundle: string;
}

async function setup(t: { after: (fn: () => void) => void }, env: NodeJS.ProcessEnv = {}): Promise<Setup> {
  const dir = tempDir(t);
  const file = join(dir, 'k3s');
  // Not a K3s binary, but bytes nobody chose: this test file itself, repeated past one read chunk.
  writeFileSync(file, Buffer.concat(Array.from({ length: 200 }, () => readFileSync(import.meta.filename))));
  const gen = await generateSigningKey(join(dir, 'org.pem'), undefined, env);
  const signed = await signFile(file, gen.privateKeyPath, env);
  const bundle = join(dir, 'k3s.sigstore.json');
  writeFileSync(bundle, signed.bundle);
  return { dir, file, key: gen.privateKeyPath, pub: gen.publicKeyPath, bundle };
}

async function status(artifact: string, bundlePath: string, keyPath: string, requireTlog = false) {
  const r = await verifySigstore({ artifact, bundlePath, policy: { keyPath, requireTlog } });
  return r.checks[0];
}

test('sign writes a v0.3 message-signature bundle over the sha256, hinted with the key id, no log', async (t) => {
  const s = await setup(t);
  assert.equal(s.pub, join(s.dir, 'org.pub'));
  assert.equal(statSync(s.key).mode & 0o777, 0o600);
  const b = JSON.parse(readFileSync(s.bundle, 'utf8'));
  const sha256 = createHash('sha256').update(readFileSync(s.file)).digest();
  assert.equal(b.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.deepEqual(b.messageSignature.messageDigest, { algorithm: 'SHA2_256', digest: sha256.toString('base64') });
  assert.equal(b.verificationMaterial.publicKey.hint, keyId(createPublicKey(readFileSync(s.pub))));
  assert.deepEqual(b.verificationMaterial.tlogEntries, []);
  // OpenSSL, not k3sguard, checks the signature: a plain ECDSA P-256 / SHA-256 signature of the file.
  const sig = join(s.dir, 'sig.der');
  writeFileSync(sig, Buffer.from(b.messageSignature.signature, 'base64'));
  const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', s.pub, '-signature', sig, s.file], {
    encoding: 'utf8',
  });
  assert.match(out, /Verified OK/);
});

test('verify --key accepts the org bundle from the file and from its sha256 digest', async (t) => {
  const s = await setup(t);
  const byFile = await status(s.file, s.bundle, s.pub);
  assert.equal(byFile?.status, 'ok', byFile?.detail);
  assert.match(byFile?.detail ?? '', /no transparency log or timestamp \(organisation signature\)/);
  const digest = `sha256:${createHash('sha256').update(readFileSync(s.file)).digest('hex')}`;
  assert.equal((await status(digest, s.bundle, s.pub))?.status, 'ok');
});

test('verify --key rejects another key, a one-byte change to the file, and changes to the bundle', async (t) => {
  const s = await setup(t);
  const other = await generateSigningKey(join(s.dir, 'other.pem'));
  const wrongKey = await status(s.file, s.bundle, other.publicKeyPath);
  assert.equal(wrongKey?.status, 'invalid');
  assert.match(wrongKey?.detail ?? '', /\[SIGNATURE_ERROR\]/);

  const changed = join(s.dir, 'k3s-changed');
  const bytes = readFileSync(s.file);
  bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0x01, bytes.length >> 1);
  writeFileSync(changed, bytes);
  const tampered = await status(changed, s.bundle, s.pub);
  assert.equal(tampered?.status, 'invalid');
  assert.match(tampered?.detail ?? '', /\[DIGEST_MISMATCH\]/);
  assert.match(tampered?.hint ?? '', /do not deploy/);

  const b = JSON.parse(readFileSync(s.bundle, 'utf8'));
  const edits: [string, (x: typeof b) => void, RegExp][] = [
    ['signature', (x) => (x.messageSignature.signature = flip(x.messageSignature.signature)), /SIGNATURE_ERROR/],
    // A bundle re-pointed at the changed file: its digest now matches, the signature does not.
    ['digest', (x) => (x.messageSignature.messageDigest.digest = sha(bytes)), /SIGNATURE_ERROR/],
    [
      'key material',
      (x) => (x.verificationMaterial = { certificate: { rawBytes: 'AAAA' }, tlogEntries: [] }),
      /KEY_MATERIAL_MISMATCH/,
    ],
  ];
  for (const [what, edit, code] of edits) {
    const copy = structuredClone(b);
    edit(copy);
    const path = join(s.dir, `edited-${what.replace(' ', '-')}.json`);
    writeFileSync(path, JSON.stringify(copy));
    const artifact = what === 'digest' ? changed : s.file;
    const c = await status(artifact, path, s.pub);
    assert.equal(c?.status, 'invalid', what);
    assert.match(c?.detail ?? '', code, what);
  }
  // The hint is not authenticated and --key names the key: another hint changes nothing.
  const rehinted = structuredClone(b);
  rehinted.verificationMaterial.publicKey.hint = 'someone-else';
  writeFileSync(join(s.dir, 'rehinted.json'), JSON.stringify(rehinted));
  assert.equal((await status(s.file, join(s.dir, 'rehinted.json'), s.pub))?.status, 'ok');
});

test('an org bundle fails where the policy asks for more: a log entry, or a certificate identity', async (t) => {
  const s = await setup(t);
  const tlog = await status(s.file, s.bundle, s.pub, true);
  assert.equal(tlog?.status, 'invalid');
  assert.match(tlog?.detail ?? '', /expected 1 tlog entries, got 0 \[TLOG_ERROR\]/);
  const r = await verifySigstore({
    artifact: s.file,
    bundlePath: s.bundle,
    policy: { identity: 'release@example.org', issuer: 'https://accounts.example.org' },
  });
  assert.match(r.checks[0]?.detail ?? '', /signed with a key, not a certificate \[KEY_MATERIAL_MISMATCH\]/);
  assert.match(r.checks[0]?.hint ?? '', /--key/);
});

test('an encrypted key signs with $K3SGUARD_KEY_PASSPHRASE, and says what is missing without it', async (t) => {
  const env = { [PASSPHRASE_ENV]: 'correct horse battery staple' };
  const s = await setup(t, env);
  assert.match(readFileSync(s.key, 'latin1'), /BEGIN ENCRYPTED PRIVATE KEY/);
  assert.equal((await status(s.file, s.bundle, s.pub))?.status, 'ok');
  const keyText = readFileSync(s.key, 'latin1');
  for (const [e, message] of [
    [{}, /the key is encrypted: set K3SGUARD_KEY_PASSPHRASE/],
    [{ [PASSPHRASE_ENV]: 'wrong' }, /cannot decrypt the key: check K3SGUARD_KEY_PASSPHRASE/],
  ] as const) {
    await assert.rejects(signFile(s.file, s.key, e), (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.equal(err.code, 'BAD_KEY');
      assert.match(err.message, message);
      assert.ok(!err.oneLine().includes(keyText.slice(40, 80)), 'the key never appears in an error');
      return true;
    });
  }
});

test('key files that are the wrong kind are input errors with a code', async (t) => {
  const s = await setup(t);
  const p384 = join(s.dir, 'p384.pem');
  writeFileSync(
    p384,
    generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  const garbage = join(s.dir, 'garbage.pem');
  writeFileSync(garbage, '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
  const expectBadKey = async (p: Promise<unknown>, message: RegExp) =>
    assert.rejects(p, (e: unknown) => e instanceof InputError && e.code === 'BAD_KEY' && message.test(e.message));
  await expectBadKey(signFile(s.file, p384), /ECDSA P-256 keys, this is ECDSA P-384/);
  await expectBadKey(signFile(s.file, s.pub), /this is a public key/);
  await expectBadKey(status(s.file, s.bundle, s.key), /this is a private key: give the public key/);
  await expectBadKey(status(s.file, s.bundle, garbage), /not a PEM public key/);
  await assert.rejects(
    generateSigningKey(s.key),
    (e: unknown) => e instanceof InputError && /not overwriting/.test(e.message),
  );
  await assert.rejects(
    signFile(join(s.dir, 'absent'), s.key),
    (e: unknown) => e instanceof InputError && e.code === 'NOT_FOUND',
  );
});

function flip(b64: string): string {
  const b = Buffer.from(b64, 'base64');
  b.writeUInt8(b.readUInt8(b.length - 3) ^ 0x01, b.length - 3);
  return b.toString('base64');
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('base64');
}
