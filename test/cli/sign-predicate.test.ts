// `k3sguard sign --predicate`: an in-toto attestation about files, DSSE-signed in a keyed
// Sigstore bundle. `verify --bundle --key` passes for each subject and fails for anything else;
// OpenSSL, knowing nothing of k3sguard, checks the signature over DSSE's PAE bytes; bad input
// is one line and exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertInputError, k3sguard, tempDir } from './run.ts';

const PROVENANCE = 'https://slsa.dev/provenance/v1';

interface Fixture {
  dir: string;
  key: string;
  pub: string;
  a: string;
  b: string;
  predicate: string;
}

function fixture(t: { after: (fn: () => void) => void }): Fixture {
  const dir = tempDir(t);
  const key = join(dir, 'org.pem');
  assert.equal(k3sguard(['sign', '--generate-key', key]).code, 0);
  const a = join(dir, 'a.bin');
  const b = join(dir, 'b.bin');
  writeFileSync(a, 'first artifact\n');
  writeFileSync(b, Buffer.from([0, 1, 2, 3, 255]));
  const predicate = join(dir, 'predicate.json');
  writeFileSync(predicate, JSON.stringify({ buildDefinition: { buildType: 'https://example.com/test' } }));
  return { dir, key, pub: join(dir, 'org.pub'), a, b, predicate };
}

/** `sign --predicate` of both fixture files into one bundle at `out`. */
function signBoth(f: Fixture, out: string) {
  return k3sguard([
    'sign',
    '--predicate',
    f.predicate,
    '--predicate-type',
    PROVENANCE,
    '--key',
    f.key,
    '-o',
    out,
    f.a,
    f.b,
  ]);
}

function decodeStatement(bundlePath: string): {
  envelope: Record<string, unknown>;
  statement: Record<string, unknown>;
} {
  const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
  const envelope = bundle.dsseEnvelope;
  return { envelope, statement: JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) };
}

test('sign --predicate: a v0.3 keyed bundle with a DSSE in-toto Statement v1 naming each file by name and sha256', (t) => {
  const f = fixture(t);
  const out = join(f.dir, 'prov.sigstore.json');
  const r = signBoth(f, out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /about 2 files with key /);
  const bundle = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.deepEqual(bundle.verificationMaterial.tlogEntries, []);
  assert.equal(typeof bundle.verificationMaterial.publicKey.hint, 'string');
  const { envelope, statement } = decodeStatement(out);
  assert.equal(envelope.payloadType, 'application/vnd.in-toto+json');
  assert.equal((envelope.signatures as unknown[]).length, 1);
  assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
  assert.equal(statement.predicateType, PROVENANCE);
  assert.deepEqual(statement.predicate, JSON.parse(readFileSync(f.predicate, 'utf8')));
  const sha = (p: string) => spawnSync('sha256sum', [p], { encoding: 'utf8' }).stdout.split(' ')[0];
  assert.deepEqual(statement.subject, [
    { name: 'a.bin', digest: { sha256: sha(f.a) } },
    { name: 'b.bin', digest: { sha256: sha(f.b) } },
  ]);
});

test('sign --predicate: verify passes for each subject, fails for a changed byte, another file, another key', (t) => {
  const f = fixture(t);
  const out = join(f.dir, 'prov.sigstore.json');
  const signed = signBoth(f, out);
  assert.equal(signed.code, 0, signed.stderr);
  for (const subject of [f.a, f.b]) {
    const r = k3sguard(['verify', subject, '--bundle', out, '--key', f.pub]);
    assert.equal(r.code, 0, `${subject}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /DSSE application\/vnd\.in-toto\+json/);
  }
  const changed = join(f.dir, 'changed.bin');
  const bytes = readFileSync(f.b);
  bytes[2] = (bytes[2] as number) ^ 1;
  writeFileSync(changed, bytes);
  const r = k3sguard(['verify', changed, '--bundle', out, '--key', f.pub, '--json']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /SUBJECT_MISMATCH/);
  assert.equal(k3sguard(['verify', f.predicate, '--bundle', out, '--key', f.pub]).code, 1, 'not a subject');
  const other = join(f.dir, 'other.pem');
  assert.equal(k3sguard(['sign', '--generate-key', other]).code, 0);
  assert.equal(k3sguard(['verify', f.a, '--bundle', out, '--key', join(f.dir, 'other.pub')]).code, 1, 'other key');
  // The statement changed after signing (a subject added): the signature no longer holds.
  const bundle = JSON.parse(readFileSync(out, 'utf8'));
  const { statement } = decodeStatement(out);
  (statement.subject as unknown[]).push({ name: 'changed.bin', digest: { sha256: '00'.repeat(32) } });
  bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
  const forged = join(f.dir, 'forged.sigstore.json');
  writeFileSync(forged, JSON.stringify(bundle));
  assert.equal(k3sguard(['verify', f.a, '--bundle', forged, '--key', f.pub]).code, 1, 'edited statement');
});

test('sign --predicate: one subject writes FILE.intoto.sigstore.json; OpenSSL verifies the signature over the PAE bytes', (t) => {
  const f = fixture(t);
  const r = k3sguard(['sign', '--predicate', f.predicate, '--predicate-type', PROVENANCE, '--key', f.key, f.a]);
  assert.equal(r.code, 0, r.stderr);
  const out = `${f.a}.intoto.sigstore.json`;
  assert.ok(existsSync(out));
  assert.equal(k3sguard(['verify', f.a, '--bundle', out, '--key', f.pub]).code, 0);
  if (spawnSync('openssl', ['version']).status !== 0) {
    t.skip('openssl is not installed: the independent check of the DSSE signature did not run');
    return;
  }
  // DSSE v1 PAE, built here from the specification, not by k3sguard's code.
  const { envelope } = decodeStatement(out);
  const payload = Buffer.from(envelope.payload as string, 'base64');
  const type = envelope.payloadType as string;
  const paeFile = join(f.dir, 'pae.bin');
  writeFileSync(
    paeFile,
    Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `), payload]),
  );
  const sigFile = join(f.dir, 'sig.der');
  writeFileSync(sigFile, Buffer.from((envelope.signatures as Array<{ sig: string }>)[0]?.sig ?? '', 'base64'));
  const ok = spawnSync('openssl', ['dgst', '-sha256', '-verify', f.pub, '-signature', sigFile, paeFile], {
    encoding: 'utf8',
  });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /Verified OK/);
  writeFileSync(paeFile, Buffer.concat([readFileSync(paeFile), Buffer.from(' ')]));
  const bad = spawnSync('openssl', ['dgst', '-sha256', '-verify', f.pub, '-signature', sigFile, paeFile]);
  assert.equal(bad.status, 1, 'openssl refuses other bytes');
});

test('sign --predicate: bad input is one line naming the problem, exit 2, no bundle written', (t) => {
  const f = fixture(t);
  const sign = (...args: string[]) => k3sguard(['sign', '--key', f.key, ...args]);
  const typed = ['--predicate-type', PROVENANCE];
  const out = join(f.dir, 'out.sigstore.json');
  const array = join(f.dir, 'array.json');
  writeFileSync(array, '[1, 2]');
  const notJson = join(f.dir, 'not.json');
  writeFileSync(notJson, '{"buildType": ');
  const nul = join(f.dir, 'null.json');
  writeFileSync(nul, 'null');
  assertInputError(sign('--predicate', array, ...typed, '-o', out, f.a), 'array.json', /array, not an object/);
  assertInputError(sign('--predicate', nul, ...typed, '-o', out, f.a), 'null.json', /null, not an object/);
  assertInputError(sign('--predicate', notJson, ...typed, '-o', out, f.a), 'not.json', /not JSON/);
  assertInputError(
    sign('--predicate', join(f.dir, 'absent.json'), ...typed, '-o', out, f.a),
    'absent.json',
    /no such file/,
  );
  assertInputError(
    sign('--predicate', f.predicate, ...typed, '-o', out, f.a, join(f.dir, 'gone.bin')),
    'gone.bin',
    /no such file/,
  );
  assertInputError(sign('--predicate', f.predicate, ...typed, '-o', out, f.dir), f.dir, /directory/);
  const usage = (r: ReturnType<typeof sign>, problem: RegExp) => {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, problem);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  };
  usage(sign('--predicate', f.predicate, '--predicate-type', 'provenance', '-o', out, f.a), /must be a URI/);
  usage(sign('--predicate', f.predicate, '-o', out, f.a), /go together/);
  usage(sign('--predicate-type', PROVENANCE, '-o', out, f.a), /go together/);
  usage(sign('--predicate', f.predicate, ...typed, f.a, f.b), /needs -o BUNDLE/);
  usage(sign('--predicate', f.predicate, ...typed, '-o', out), /needs the subject FILEs/);
  const twin = join(f.dir, 'sub');
  spawnSync('mkdir', [twin]);
  writeFileSync(join(twin, 'a.bin'), 'same name\n');
  usage(sign('--predicate', f.predicate, ...typed, '-o', out, f.a, join(twin, 'a.bin')), /two subjects named a\.bin/);
  usage(k3sguard(['sign', '--predicate', f.predicate, ...typed, '-o', out, f.a]), /needs the subject FILEs and --key/);
  usage(sign(f.a, f.b), /signs one FILE/);
  usage(k3sguard(['sign', '--generate-key', join(f.dir, 'k2.pem'), '--predicate', f.predicate]), /only the key path/);
  assert.ok(!existsSync(out), 'no bundle written by a failed run');
  // The key is an input: -o onto it is refused before anything is read.
  usage(sign('--predicate', f.predicate, ...typed, '-o', f.key, f.a), /./);
  assert.match(readFileSync(f.key, 'utf8'), /PRIVATE KEY/);
});
