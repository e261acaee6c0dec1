// `k3sguard verify --bundle` and `k3sguard sign` through the real CLI: every sigstore-conformance
// case gives the suite's answer as an exit code, with the artifact and with its digest; the
// organisation signing flow round-trips; usage mistakes exit 2.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { conformanceCases, type SigstoreCase, sigstoreDataMissing } from '../verify/sigstore-cases.ts';
import { assertInputError, k3sguard, tempDir } from './run.ts';

function policyArgs(c: SigstoreCase): string[] {
  const p = c.policy;
  if ('keyPath' in p) return ['--key', p.keyPath];
  return p.identity !== undefined
    ? ['--certificate-identity', p.identity, '--certificate-oidc-issuer', p.issuer]
    : ['--certificate-identity-regexp', p.identityRegexp ?? '', '--certificate-oidc-issuer', p.issuer];
}

test('every sigstore-conformance case: exit 0 for a pass case, 1 for a _fail case, file and digest', {
  skip: sigstoreDataMissing(),
}, () => {
  const wrong: string[] = [];
  for (const c of conformanceCases()) {
    for (const [how, artifact] of [
      ['file', c.artifact],
      ['digest', c.digest],
    ] as const) {
      if (!artifact) continue;
      const r = k3sguard([
        'verify',
        artifact,
        '--bundle',
        c.bundle,
        '--trusted-root',
        c.trustedRoot,
        ...policyArgs(c),
        '--json',
      ]);
      const want = c.expected[how] === 'pass' ? 0 : 1;
      if (r.code !== want) wrong.push(`${c.name} (${how}): exit ${r.code}, want ${want}: ${r.stderr.trim()}`);
      else if (r.code === 1) {
        const out = JSON.parse(r.stdout);
        assert.equal(out.verified, false);
        assert.ok(out.checks[0].hint, `${c.name}: a failure says what to do`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test('organisation signing: generate a key, sign, verify; a changed file, another key, a changed bundle fail', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'k3s');
  copyFileSync(process.execPath, file);
  const key = join(dir, 'org.pem');
  assert.equal(k3sguard(['sign', '--generate-key', key]).code, 0);
  assert.equal(statSync(key).mode & 0o777, 0o600);
  assert.equal(k3sguard(['sign', '--generate-key', key]).code, 2, 'never overwrites a key');
  const signed = k3sguard(['sign', file, '--key', key]);
  assert.equal(signed.code, 0, signed.stderr);
  assert.ok(!signed.stdout.includes('PRIVATE KEY') && !signed.stderr.includes('PRIVATE KEY'));
  const bundle = `${file}.sigstore.json`;
  assert.ok(existsSync(bundle));
  const ok = k3sguard(['verify', file, '--bundle', bundle, '--key', join(dir, 'org.pub')]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const sha = JSON.parse(readFileSync(bundle, 'utf8')).messageSignature.messageDigest.digest;
  const byDigest = k3sguard([
    'verify',
    `sha256:${Buffer.from(sha, 'base64').toString('hex')}`,
    '--bundle',
    bundle,
    '--key',
    join(dir, 'org.pub'),
  ]);
  assert.equal(byDigest.code, 0, byDigest.stdout);

  const other = join(dir, 'other.pem');
  assert.equal(k3sguard(['sign', '--generate-key', other]).code, 0);
  assert.equal(k3sguard(['verify', file, '--bundle', bundle, '--key', join(dir, 'other.pub')]).code, 1);
  const tampered = JSON.parse(readFileSync(bundle, 'utf8'));
  tampered.messageSignature.signature = Buffer.from('not a signature').toString('base64');
  const badBundle = join(dir, 'bad.sigstore.json');
  writeFileSync(badBundle, JSON.stringify(tampered));
  assert.equal(k3sguard(['verify', file, '--bundle', badBundle, '--key', join(dir, 'org.pub')]).code, 1);
  appendFileSync(file, 'x');
  const changed = k3sguard(['verify', file, '--bundle', bundle, '--key', join(dir, 'org.pub')]);
  assert.equal(changed.code, 1);
  assert.match(changed.stdout, /INVALID/);
});

test('verify usage mistakes and unreadable inputs exit 2 with one line', (t) => {
  const dir = tempDir(t);
  assert.equal(k3sguard(['verify', '/bin/ls']).code, 2);
  assert.equal(k3sguard(['verify', '/bin/ls', '--bundle', 'x.json']).code, 2, 'no policy');
  assert.equal(k3sguard(['verify', '/bin/ls', '/bin/cp', '--bundle', 'x.json', '--key', 'k.pub']).code, 2);
  assertInputError(
    k3sguard(['verify', '/bin/ls', '--bundle', join(dir, 'missing.json'), '--key', '/etc/hostname']),
    'missing.json',
    /no such file|not found|cannot read/i,
  );
  assert.equal(k3sguard(['sign', '/bin/ls']).code, 2, 'sign needs --key');
});
