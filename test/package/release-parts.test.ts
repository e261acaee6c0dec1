// The parts of `npm run release` that decide what the provenance claims, on small real inputs:
// the source state of a real git repository (clean, changed, untracked), the materials read
// from a lock file, and the deploy manifests pinned to a digest. The whole release is built and
// verified in release.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderDeploy } from '../../tools/release-deploy.ts';
import { ReleaseError } from '../../tools/release-error.ts';
import { integrityDigest, lockDescriptors, npmPurl } from '../../tools/release-materials.ts';
import { provenancePredicate } from '../../tools/release-provenance.ts';
import { sourceState } from '../../tools/release-source.ts';
import { tempDir } from '../cli/run.ts';

function repo(dir: string): void {
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { stdio: 'ignore' });
  git('init', '-q');
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  git('add', 'a.txt');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
}

test('source state: the commit; a change or an untracked file makes it dirty, and the provenance says so', (t) => {
  const dir = tempDir(t);
  repo(dir);
  const clean = sourceState(dir);
  assert.match(clean.commit, /^[0-9a-f]{40}$/);
  assert.deepEqual(clean.changes, []);
  assert.equal(clean.remote, undefined);
  writeFileSync(join(dir, 'a.txt'), 'changed\n');
  writeFileSync(join(dir, 'new.txt'), 'untracked\n');
  const dirty = sourceState(dir);
  assert.equal(dirty.commit, clean.commit);
  assert.deepEqual(dirty.changes, [' M a.txt', '?? new.txt']);
  const at = new Date(0);
  const source = (s: typeof clean) =>
    (
      provenancePredicate({
        source: s,
        command: 'npm run release',
        sourceDateEpoch: 0,
        materials: [],
        startedOn: at,
        finishedOn: at,
        env: {},
      }) as { buildDefinition: { externalParameters: { source: Record<string, unknown> } } }
    ).buildDefinition.externalParameters.source;
  assert.equal(source(clean).dirty, false);
  assert.equal(source(clean).changes, undefined);
  assert.equal(source(dirty).dirty, true);
  assert.deepEqual(source(dirty).changes, [' M a.txt', '?? new.txt']);
  assert.throws(() => sourceState(tempDir(t)), ReleaseError, 'not a git checkout');
});

test('materials: every lock package by purl and integrity digest; one without integrity stops the release', (t) => {
  const dir = tempDir(t);
  const sha512 = Buffer.alloc(64, 7);
  const lock = join(dir, 'package-lock.json');
  writeFileSync(
    lock,
    JSON.stringify({
      lockfileVersion: 3,
      packages: {
        '': { name: 'root', version: '1.0.0' },
        'node_modules/@scope/a': { version: '1.2.3', integrity: `sha512-${sha512.toString('base64')}` },
        'node_modules/b': { version: '2.0.0', integrity: `sha512-${sha512.toString('base64')}`, dev: true },
      },
    }),
  );
  const deps = lockDescriptors(lock);
  assert.deepEqual(
    deps.map((d) => [d.name, d.uri, d.digest.sha512, d.annotations?.scope]),
    [
      ['@scope/a', 'pkg:npm/%40scope/a@1.2.3', sha512.toString('hex'), 'runtime'],
      ['b', 'pkg:npm/b@2.0.0', sha512.toString('hex'), 'build'],
    ],
  );
  assert.equal(npmPurl('@scope/a', '1.2.3'), 'pkg:npm/%40scope/a@1.2.3');
  assert.deepEqual(integrityDigest(`sha1-${Buffer.alloc(20, 1).toString('base64')}`), { sha1: '01'.repeat(20) });
  const bad = JSON.parse(readFileSync(lock, 'utf8'));
  bad.packages['node_modules/c'] = { version: '1.0.0', resolved: 'git+https://example.com/c.git' };
  writeFileSync(lock, JSON.stringify(bad));
  assert.throws(() => lockDescriptors(lock), /node_modules\/c has no version and integrity hash/);
});

test('deploy: the placeholder becomes the digest; a manifest naming another image stops the release', (t) => {
  const dir = tempDir(t);
  const deploy = join(dir, 'deploy');
  mkdirSync(deploy);
  const name = 'docker.io/library/k3sguard:0.1.0';
  const placeholder = ['$', '{K3SGUARD_IMAGE_DIGEST}'].join('');
  writeFileSync(join(deploy, 'a.yaml'), `kind: Job\nimage: ${name}@${placeholder}\n`);
  writeFileSync(join(deploy, 'b.yaml'), `kind: CronJob\nimage: ${name}@${placeholder}\n`);
  const out = join(dir, 'out.yaml');
  const digest = `sha256:${'ab'.repeat(32)}`;
  renderDeploy(deploy, name, digest, out);
  const text = readFileSync(out, 'utf8');
  assert.equal(text.split('---\n').length, 2);
  assert.equal([...text.matchAll(new RegExp(`image: ${name}@${digest}`, 'g'))].length, 2);
  assert.ok(!text.includes(placeholder));
  writeFileSync(join(deploy, 'c.yaml'), `kind: Job\nimage: docker.io/library/k3sguard:0.0.9@${placeholder}\n`);
  assert.throws(
    () => renderDeploy(deploy, name, digest, out),
    /deploy\/c\.yaml: image docker\.io\/library\/k3sguard:0\.0\.9/,
  );
});
