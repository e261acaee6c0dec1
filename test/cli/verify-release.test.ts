// The operator's flow through the real CLI, on a release folder built from real binaries:
// verify --release, lock add (two sources), verify --lock, and a one-byte change caught by both.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildRelease, flipMiddleByte, releaseInputs } from '../verify/release-fixture.ts';
import { k3sguard, tempDir } from './run.ts';

test('verify --release, lock add, verify --lock; a one-byte change in k3s fails both', async (t) => {
  const inputs = await releaseInputs();
  if ('skip' in inputs) return t.skip(inputs.skip);
  const dir = tempDir(t);
  const release = buildRelease(join(dir, 'release'), inputs);

  const clean = k3sguard(['verify', '--release', release, '--expect-version', 'v1.31.4+k3s1']);
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /verified: all \d+ checks passed/);

  const lock = join(dir, 'k3sguard.lock');
  const added = k3sguard(['lock', 'add', '--lock', lock, '--release', release, '--source', 'github-release']);
  assert.equal(added.code, 0, added.stdout + added.stderr);
  const second = k3sguard(['lock', 'add', '--lock', lock, '--release', release, '--source', 'internal-mirror']);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  const locked = readFileSync(lock, 'utf8');
  assert.match(locked, /github-release/);
  assert.match(locked, /internal-mirror/);
  assert.equal(k3sguard(['verify', '--lock', lock, '--release', release]).code, 0);

  // The binary as installed on a node: one byte changed.
  const installed = join(dir, 'k3s');
  copyFileSync(join(release, 'k3s'), installed);
  assert.equal(k3sguard(['verify', '--lock', lock, installed]).code, 0);
  flipMiddleByte(installed);
  const node = k3sguard(['verify', '--lock', lock, installed, '--json']);
  assert.equal(node.code, 1);
  assert.equal(JSON.parse(node.stdout).checks[0].status, 'mismatch');

  flipMiddleByte(join(release, 'k3s'));
  const tampered = k3sguard(['verify', '--release', release]);
  assert.equal(tampered.code, 1, tampered.stdout);
  assert.match(tampered.stdout, /MISMATCH +checksum +\S*release\/k3s +sha256 differs from sha256sum-amd64.txt/);
  assert.match(tampered.stdout, /NOT VERIFIED/);
  const byLock = k3sguard(['verify', '--lock', lock, '--release', release]);
  assert.equal(byLock.code, 1);
  // Locking the tampered binary: its bundle no longer matches its name, so nothing is written.
  const refused = k3sguard(['lock', 'add', '--lock', lock, join(release, 'k3s'), '--source', 'someone-else']);
  assert.equal(refused.code, 1, refused.stdout);
  assert.equal(readFileSync(lock, 'utf8'), locked);
  // A second source whose k3s is intact but different (bytes appended): the channels
  // disagree, which is refused loudly, naming both, and the lock is left as it was.
  const other = join(dir, 'other');
  mkdirSync(other);
  copyFileSync(inputs.k3s.path, join(other, 'k3s'));
  appendFileSync(join(other, 'k3s'), 'x');
  const conflict = k3sguard(['lock', 'add', '--lock', lock, join(other, 'k3s'), '--source', 'someone-else']);
  assert.equal(conflict.code, 1, 'two channels disagreeing is a verification failure');
  assert.match(conflict.stderr, /someone-else.*github-release|github-release.*someone-else/);
  assert.equal(readFileSync(lock, 'utf8'), locked);
});
