// Cosign image signatures: real cosign-made signatures (containers/image's fixtures) and the
// storage convention as skopeo and a real registry write it, verified by verifyImageSignatures;
// every tamper gives a failed check with a reason, never an exception.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { sign, X509Certificate } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readImages } from '../../src/readers/images/read.ts';
import { verifyImageSignatures } from '../../src/verify/cosign/verify.ts';
import type { VerifyCheck } from '../../src/verify/model.ts';
import { tempDir } from '../cli/run.ts';
import {
  layoutWithSignatures,
  putBlob,
  putSignatureManifest,
  realCosign,
  SIG_ANNOTATION,
  type SigLayer,
  sigTag,
  skopeoSigned,
  writeIndex,
} from './cosign-fixtures.ts';

async function verify(target: string, keyPath: string): Promise<VerifyCheck[]> {
  return (await verifyImageSignatures(await readImages(target), { policy: { keyPath } })).checks;
}

function only(checks: VerifyCheck[]): VerifyCheck {
  assert.equal(checks.length, 1, JSON.stringify(checks));
  return checks[0] as VerifyCheck;
}

const real = realCosign();
const skipReal = 'skip' in real ? real.skip : false;

test('real cosign signature verifies with cosign.pub, and names the image it signs', { skip: skipReal }, async (t) => {
  if ('skip' in real) return;
  const dir = layoutWithSignatures(join(tempDir(t), 'l'), real.manifest, [real.valid]);
  const archive = await readImages(dir);
  // The .sig manifest is no image of the wrong platform (its config names none).
  assert.ok(!archive.findings.some((f) => f.id === 'K3SG-IMAGE-PLATFORM'), JSON.stringify(archive.findings));
  const c = only((await verifyImageSignatures(archive, { policy: { keyPath: real.pub } })).checks);
  assert.equal(c.status, 'ok', JSON.stringify(c));
  assert.equal(c.kind, 'cosign');
  assert.match(c.detail, new RegExp(`signature over ${real.manifestDigest}`));
  assert.match(c.detail, /signed as 192\.168\.64\.2:5000\/cosign-signed-single-sample/);
  assert.match(c.actual ?? '', /ECDSA P-256 key/);
});

test('real: a signature made with another cosign key fails; a second, valid one passes', {
  skip: skipReal,
}, async (t) => {
  if ('skip' in real) return;
  const bad = only(
    await verify(layoutWithSignatures(join(tempDir(t), 'a'), real.manifest, [real.unknownKey]), real.pub),
  );
  assert.equal(bad.status, 'invalid');
  assert.match(bad.detail, /\[SIGNATURE_ERROR\]/);
  assert.match(bad.hint ?? '', /does not verify with this key/);
  const both = layoutWithSignatures(join(tempDir(t), 'b'), real.manifest, [real.unknownKey, real.valid2, real.withTag]);
  const ok = only(await verify(both, real.pub));
  assert.equal(ok.status, 'ok', JSON.stringify(ok));
  assert.match(ok.detail, /layer 2/);
});

test('real: a valid signature copied beside another image fails (SIGNED_OTHER_IMAGE)', {
  skip: skipReal,
}, async (t) => {
  if ('skip' in real) return;
  // The other image's .sig tag holds cosign's (valid) signature of 634a8f35...: the copy attack.
  const dir = join(tempDir(t), 'l');
  layoutWithSignatures(dir, real.otherManifest, [real.valid]);
  const c = only(await verify(dir, real.pub));
  assert.equal(c.status, 'invalid');
  assert.match(c.detail, new RegExp(`signature is for ${real.manifestDigest}, not this image`));
  assert.match(c.detail, /\[SIGNED_OTHER_IMAGE\]/);
  assert.match(c.hint ?? '', /made for another image/);
});

test('real: a modified payload fails the signature', { skip: skipReal }, async (t) => {
  if ('skip' in real) return;
  const payload = Buffer.from(real.valid.payload.toString('utf8').replace('192.168.64.2', '192.168.64.3'));
  assert.notDeepEqual(payload, real.valid.payload);
  const dir = layoutWithSignatures(join(tempDir(t), 'l'), real.manifest, [{ ...real.valid, payload }]);
  const c = only(await verify(dir, real.pub));
  assert.equal(c.status, 'invalid');
  assert.match(c.detail, /\[SIGNATURE_ERROR\]/);
});

test('real: no .sig tag is a missing signature; a wrong key file is an input error', { skip: skipReal }, async (t) => {
  if ('skip' in real) return;
  const dir = layoutWithSignatures(join(tempDir(t), 'l'), real.manifest, []);
  const c = only(await verify(dir, real.pub));
  assert.equal(c.status, 'missing');
  assert.match(c.detail, new RegExp(`no cosign signature \\(no sha256-${real.manifestDigest.slice(7)}\\.sig tag\\)`));
  assert.match(c.hint ?? '', /cosign sign/);
  const notKey = join(tempDir(t), 'k.pub');
  writeFileSync(notKey, '-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n');
  await assert.rejects(verify(dir, notKey), (e: Error & { code?: string }) => e.code === 'BAD_KEY');
});

test('real: damaged annotations and payloads are failed checks, not exceptions', { skip: skipReal }, async (t) => {
  if ('skip' in real) return;
  const cases: Array<[string, SigLayer, RegExp]> = [
    [
      'corrupt base64',
      { ...real.valid, annotations: { [SIG_ANNOTATION]: 'MEYC!!!' } },
      /not base64.*\[ANNOTATION_INVALID\]/,
    ],
    ['no signature', { ...real.valid, annotations: {} }, /no dev\.cosignproject\.cosign\/signature annotation/],
    ['truncated signature', { ...real.valid, annotations: { [SIG_ANNOTATION]: 'MEYCIQ==' } }, /\[SIGNATURE_ERROR\]/],
  ];
  for (const [name, layer, want] of cases) {
    const c = only(
      await verify(layoutWithSignatures(join(tempDir(t), name.replace(/ /g, '-')), real.manifest, [layer]), real.pub),
    );
    assert.equal(c.status, 'invalid', name);
    assert.match(c.detail, want, name);
  }
  // A payload that is not JSON at all: not kept as JSON, so not a signature payload.
  const dir = join(tempDir(t), 'bin');
  const image = putBlob(dir, real.manifest, 'application/vnd.docker.distribution.manifest.v2+json');
  const sig = putSignatureManifest(dir, [{ payload: Buffer.from([0, 1, 2, 3]), annotations: real.valid.annotations }]);
  writeIndex(dir, [
    { desc: image, ref: 'docker.io/library/x:1' },
    { desc: sig, ref: sigTag(image.digest) },
  ]);
  const c = only(await verify(dir, real.pub));
  assert.equal(c.status, 'invalid');
  assert.match(c.detail, /not a small JSON document \[PAYLOAD_UNREADABLE\]/);
});

// --- skopeo + docker-registry ---------------------------------------------------------------

test('skopeo-written .sig tags: each key verifies its own signature layer, other keys fail', async (t) => {
  const f = await skopeoSigned();
  if ('skip' in f) return t.skip(f.skip);
  for (const target of [f.layout, f.archive]) {
    const archive = await readImages(target);
    assert.deepEqual(archive.findings, [], target);
    const keys: string[] = [f.keys.p256, f.keys.p384, f.keys.ed25519];
    for (const key of keys) {
      const checks: VerifyCheck[] = (await verifyImageSignatures(archive, { policy: { keyPath: key } })).checks;
      // Two images (test, extra); their .sig tags are not images to check.
      assert.deepEqual(checks.map((c) => c.subject).sort(), [
        'docker.io/rancher/extra:2.0',
        'docker.io/rancher/test:1.0',
      ]);
      const test1 = checks.find((c) => c.subject === 'docker.io/rancher/test:1.0');
      assert.equal(test1?.status, 'ok', `${key}: ${JSON.stringify(test1)}`);
      assert.match(test1?.detail ?? '', new RegExp(`signature over ${f.testDigest}`));
    }
    const p384 = await verify(target, f.keys.p384);
    assert.equal(p384.find((c) => c.subject === 'docker.io/rancher/extra:2.0')?.status, 'invalid');
    const unused = await verify(target, f.keys.unused);
    assert.ok(unused.every((c) => c.status === 'invalid' && /SIGNATURE_ERROR/.test(c.detail)));
  }
});

test('skopeo: the extra image signature re-tagged as the test image signature fails', async (t) => {
  const f = await skopeoSigned();
  if ('skip' in f) return t.skip(f.skip);
  const dir = join(tempDir(t), 'swap');
  cpSync(f.layout, dir, { recursive: true });
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
    manifests: Array<{ annotations: Record<string, string> }>;
  };
  const ref = 'org.opencontainers.image.ref.name';
  // Drop the test image's own .sig and name extra's .sig manifest after the test image.
  index.manifests = index.manifests.filter((m) => m.annotations[ref] !== sigTag(f.testDigest));
  for (const m of index.manifests)
    if (m.annotations[ref] === sigTag(f.extraDigest)) m.annotations[ref] = sigTag(f.testDigest);
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  const c = (await verify(dir, f.keys.p256)).find((x) => x.subject === 'docker.io/rancher/test:1.0');
  assert.equal(c?.status, 'invalid');
  assert.match(c?.detail ?? '', new RegExp(`signature is for ${f.extraDigest}, not this image \\(${f.testDigest}\\)`));
});

// --- keyless (self-made: a test CA made with openssl; no real keyless .sig can be made here) ---

function opensslCa(dir: string): { caPem: string; leafPem: string; leafKey: string; root: string } | { skip: string } {
  try {
    const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    o([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      '/O=k3sguard-test/CN=test-fulcio',
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    o([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'leaf.key',
      '-out',
      'leaf.csr',
      '-subj',
      '/',
    ]);
    writeFileSync(
      join(dir, 'ext.cnf'),
      [
        'subjectAltName=critical,email:signer@example.com',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=codeSigning',
        '1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:https://issuer.example',
        '',
      ].join('\n'),
    );
    o([
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'ext.cnf',
      '-out',
      'leaf.pem',
    ]);
  } catch (e) {
    return { skip: `openssl failed: ${(e as Error).message.split('\n')[0]}` };
  }
  const caDer = new X509Certificate(readFileSync(join(dir, 'ca.pem'))).raw;
  const root = join(dir, 'trusted_root.json');
  writeFileSync(
    root,
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      ctlogs: [],
      timestampAuthorities: [],
      certificateAuthorities: [
        {
          subject: { organization: 'k3sguard-test', commonName: 'test-fulcio' },
          uri: 'https://fulcio.test',
          certChain: { certificates: [{ rawBytes: caDer.toString('base64') }] },
          validFor: { start: new Date(Date.now() - 86_400_000).toISOString() },
        },
      ],
    }),
  );
  return { caPem: join(dir, 'ca.pem'), leafPem: join(dir, 'leaf.pem'), leafKey: join(dir, 'leaf.key'), root };
}

test('keyless (self-made CA): a certificate-signed .sig without log evidence, bad PEM, or a key signature all fail cleanly', {
  skip: skipReal,
}, async (t) => {
  if ('skip' in real) return;
  const dir = tempDir(t);
  const ca = opensslCa(dir);
  if ('skip' in ca) return t.skip(ca.skip);
  const payload = real.valid.payload; // names real.manifestDigest
  const sig = sign('sha256', payload, readFileSync(ca.leafKey)).toString('base64');
  const cert = readFileSync(ca.leafPem, 'utf8');
  const chain = readFileSync(ca.caPem, 'utf8');
  const policy = { identity: 'signer@example.com', issuer: 'https://issuer.example' };
  const run = async (name: string, annotations: Record<string, string>) => {
    const l = layoutWithSignatures(join(dir, name), real.manifest, [{ payload, annotations }]);
    return only((await verifyImageSignatures(await readImages(l), { policy, trustedRootPath: ca.root })).checks);
  };
  const ann = { [SIG_ANNOTATION]: sig, 'dev.sigstore.cosign/certificate': cert, 'dev.sigstore.cosign/chain': chain };
  // Keyless needs a transparency-log entry and a timestamp: none here, so it must not pass.
  const noLog = await run('nolog', ann);
  assert.equal(noLog.status, 'invalid');
  assert.match(noLog.detail, /\[(TIMESTAMP_ERROR|TLOG_ERROR|CERTIFICATE_ERROR)\]/);
  assert.match(noLog.expected ?? '', /identity signer@example\.com, issuer https:\/\/issuer\.example/);
  const badPem = await run('badpem', {
    ...ann,
    'dev.sigstore.cosign/certificate': cert.replace(/[A-Za-z]{8}\n/, '!!!!!!!!\n'),
  });
  assert.equal(badPem.status, 'invalid');
  assert.match(badPem.detail, /\[ANNOTATION_INVALID\]/);
  const notCert = await run('notcert', { ...ann, 'dev.sigstore.cosign/certificate': 'hello' });
  assert.match(notCert.detail, /holds no PEM certificate \[ANNOTATION_INVALID\]/);
  const keyed = await run('keyed', real.valid.annotations);
  assert.match(keyed.detail, /signed with a key, not keyless \[ANNOTATION_INVALID\]/);
});
