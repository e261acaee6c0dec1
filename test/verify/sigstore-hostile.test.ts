// Hostile and mistaken input. A bundle is attacker-controlled: every one of hundreds of
// malformed variants of real bundles must give a verdict, never a throw. The operator's own
// inputs (files, key, policy) that cannot be used are InputErrors (exit 2). And the identity
// policy means what it says: exact is exact, a regexp must match the whole identity.
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/model/errors.ts';
import { type SigstorePolicy, verifySigstore } from '../../src/verify/sigstore/verify.ts';
import { tempDir } from '../cli/run.ts';
import { CONFORMANCE_DIR, PRODUCTION_ROOT, sigstoreDataMissing } from './sigstore-cases.ts';

const missing = sigstoreDataMissing();
const BEACON =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const GHA = 'https://token.actions.githubusercontent.com';
const A_TXT = join(CONFORMANCE_DIR, 'a.txt');
const KEY = join(CONFORMANCE_DIR, 'managed-key-and-trusted-root', 'key.pub');
const happy = (v: string) => join(CONFORMANCE_DIR, `happy-path-v${v}`, 'bundle.sigstore.json');

type Path = (string | number)[];

function allPaths(v: unknown, p: Path = []): Path[] {
  if (!v || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, c]) => {
    const here = [...p, Array.isArray(v) ? Number(k) : k];
    return [here, ...allPaths(c, here)];
  });
}

function replaced(root: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

test('every field of real bundles replaced by junk: always a verdict, never a throw', { skip: missing }, async (t) => {
  const dir = tempDir(t);
  const subjects: [string, string, SigstorePolicy, string][] = [
    [happy('0.3'), A_TXT, { identity: BEACON, issuer: GHA }, PRODUCTION_ROOT],
    ...['intoto-with-custom-trust-root', 'managed-key-and-trusted-root'].map(
      (c): [string, string, SigstorePolicy, string] => [
        join(CONFORMANCE_DIR, c, 'bundle.sigstore.json'),
        c.startsWith('intoto') ? join(CONFORMANCE_DIR, c, 'artifact') : A_TXT,
        c.startsWith('managed') ? { keyPath: join(CONFORMANCE_DIR, c, 'key.pub') } : { identity: BEACON, issuer: GHA },
        join(CONFORMANCE_DIR, c, 'trusted_root.json'),
      ],
    ),
  ];
  const junk = [undefined, null, {}, [], 0, -1, 'x', 'AAAA', true, [null], { $case: 'x' }];
  let runs = 0;
  let invalid = 0;
  for (const [bundle, artifact, policy, trustedRootPath] of subjects) {
    const json = JSON.parse(readFileSync(bundle, 'utf8'));
    for (const path of allPaths(json)) {
      for (const value of junk) {
        const file = join(dir, `b${runs++}.json`);
        writeFileSync(file, JSON.stringify(replaced(json, path, value)));
        const r = await verifySigstore({ artifact, bundlePath: file, policy, trustedRootPath });
        assert.equal(r.checks.length, 1);
        const c = r.checks[0];
        if (c?.status !== 'ok') {
          invalid++;
          assert.equal(c?.status, 'invalid', `${path.join('.')} = ${JSON.stringify(value)}`);
          assert.ok(c.hint, 'a failure says what to do');
        }
      }
    }
  }
  assert.ok(runs > 1000, `${runs} variants`);
  assert.ok(invalid > runs / 2, `${invalid} of ${runs} rejected`);
});

test('non-bundles: an object that is not a bundle gives a verdict; JSON that is no object is BAD_JSON', {
  skip: missing,
}, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'b.json');
  const policy = { identity: BEACON, issuer: GHA };
  for (const text of ['{}', '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}']) {
    writeFileSync(file, text);
    const r = await verifySigstore({ artifact: A_TXT, bundlePath: file, policy });
    assert.equal(r.checks[0]?.status, 'invalid', text);
  }
  for (const text of ['null', '[]', '42', '"bundle"']) {
    writeFileSync(file, text);
    await assert.rejects(
      verifySigstore({ artifact: A_TXT, bundlePath: file, policy }),
      (e: unknown) => e instanceof InputError && e.code === 'BAD_JSON' && e.file === file,
      text,
    );
  }
});

test('unreadable inputs are InputErrors with a code and the file they concern', { skip: missing }, async (t) => {
  const dir = tempDir(t);
  const badJson = join(dir, 'bad.json');
  writeFileSync(badJson, '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",');
  const badPem = join(dir, 'bad.pem');
  writeFileSync(badPem, 'not a key');
  const huge = join(dir, 'huge.json');
  writeFileSync(huge, '');
  truncateSync(huge, 17 << 20); // sparse: costs no disk
  const policy = { identity: BEACON, issuer: GHA };
  const cases: [Parameters<typeof verifySigstore>[0], string, string | undefined][] = [
    [{ artifact: join(dir, 'absent'), bundlePath: happy('0.3'), policy }, 'NOT_FOUND', join(dir, 'absent')],
    [{ artifact: dir, bundlePath: happy('0.3'), policy }, 'UNREADABLE', dir],
    [{ artifact: A_TXT, bundlePath: join(dir, 'absent.json'), policy }, 'NOT_FOUND', join(dir, 'absent.json')],
    [{ artifact: A_TXT, bundlePath: badJson, policy }, 'BAD_JSON', badJson],
    [{ artifact: A_TXT, bundlePath: huge, policy }, 'UNREADABLE', huge],
    [{ artifact: A_TXT, bundlePath: happy('0.3'), policy: { keyPath: huge } }, 'UNREADABLE', huge],
    [{ artifact: A_TXT, bundlePath: happy('0.3'), policy: { keyPath: badPem } }, 'BAD_KEY', badPem],
    [{ artifact: 'sha256:abc', bundlePath: happy('0.3'), policy }, 'USAGE', 'sha256:abc'],
    [{ artifact: A_TXT, bundlePath: happy('0.3'), policy: { issuer: GHA } }, 'USAGE', undefined],
    [
      { artifact: A_TXT, bundlePath: happy('0.3'), policy: { identity: BEACON, identityRegexp: '.*', issuer: GHA } },
      'USAGE',
      undefined,
    ],
    [{ artifact: A_TXT, bundlePath: happy('0.3'), policy: { identity: BEACON, issuer: '' } }, 'USAGE', undefined],
    [{ artifact: A_TXT, bundlePath: happy('0.3'), policy: { identityRegexp: '(', issuer: GHA } }, 'USAGE', undefined],
    [
      { artifact: A_TXT, bundlePath: happy('0.3'), policy: { keyPath: KEY, issuer: GHA } as SigstorePolicy },
      'USAGE',
      undefined,
    ],
  ];
  for (const [opts, code, file] of cases) {
    await assert.rejects(verifySigstore(opts), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.equal(e.code, code, e.message);
      assert.equal(e.file, file);
      return true;
    });
  }
});

test('an exact identity is exact: a prefix, or dots standing for other characters, do not match', {
  skip: missing,
}, async () => {
  // @sigstore/verify would take a string as an unanchored regular expression: both would pass.
  const verdict = async (policy: SigstorePolicy) =>
    (await verifySigstore({ artifact: A_TXT, bundlePath: happy('0.3'), policy, trustedRootPath: PRODUCTION_ROOT }))
      .checks[0];
  assert.equal((await verdict({ identity: BEACON, issuer: GHA }))?.status, 'ok');
  const prefix = await verdict({ identity: BEACON.slice(0, -4), issuer: GHA });
  assert.match(prefix?.detail ?? '', /\[UNTRUSTED_SIGNER_ERROR\]/);
  assert.match(prefix?.hint ?? '', /not by the expected signer/);
  assert.equal((await verdict({ identity: BEACON.replace(/\//g, '.'), issuer: GHA }))?.status, 'invalid');
  assert.equal((await verdict({ identity: BEACON, issuer: `${GHA}/` }))?.status, 'invalid');
  assert.equal((await verdict({ identity: BEACON, issuer: 'https://accounts.google.com' }))?.status, 'invalid');
  // A regexp must match the whole identity.
  assert.equal(
    (await verdict({ identityRegexp: 'https://github\\.com/sigstore-conformance/.*', issuer: GHA }))?.status,
    'ok',
  );
  assert.equal((await verdict({ identityRegexp: 'sigstore-conformance', issuer: GHA }))?.status, 'invalid');
});

test('a bundle for another artifact: digest mismatch for a message signature, subject mismatch for DSSE', {
  skip: missing,
}, async () => {
  const policy = { identity: BEACON, issuer: GHA };
  const other = join(CONFORMANCE_DIR, 'bundle-with-root-cert_fail', 'artifact');
  const ms = await verifySigstore({
    artifact: other,
    bundlePath: happy('0.3'),
    policy,
    trustedRootPath: PRODUCTION_ROOT,
  });
  assert.match(ms.checks[0]?.detail ?? '', /\[DIGEST_MISMATCH\]$/);
  const dsse = join(CONFORMANCE_DIR, 'intoto-with-custom-trust-root');
  const r = await verifySigstore({
    artifact: A_TXT,
    bundlePath: join(dsse, 'bundle.sigstore.json'),
    policy,
    trustedRootPath: join(dsse, 'trusted_root.json'),
  });
  assert.match(r.checks[0]?.detail ?? '', /not a subject of the in-toto statement \(d\.txt\) \[SUBJECT_MISMATCH\]$/);
});
