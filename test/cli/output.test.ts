// `-o` is written by one writer (src/cli/output.ts): never over a file the run reads, into a
// FIFO or character device rather than replacing it, and through a symlink to the file it
// points at, replaced atomically, the link kept.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  copyFileSync,
  lstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { realBinary } from '../fixtures/realbins.ts';
import { assertInputError, k3sguard, tempDir } from './run.ts';

const BOUND = { timeout: 60_000 };

test('-o naming an input is refused and the input is left as it was', (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'install.sh');
  writeFileSync(script, 'curl -sfL https://get.k3s.io | sh -\n');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  allowedRegistries: [ghcr.io]\n');
  const link = join(dir, 'link.sh');
  symlinkSync(script, link);
  for (const [args, out] of [
    [['audit', 'iac', script], script],
    [['audit', 'iac', script, '--policy', policy], policy],
    // The same file through a symlink is still the same file.
    [['audit', 'iac', script], link],
    [['audit', 'iac', link], script],
  ] as const) {
    const before = readFileSync(out);
    assertInputError(k3sguard([...args, '-o', out], BOUND), out, /an input of this run/);
    assert.deepEqual(readFileSync(out), before);
  }
  assert.equal(lstatSync(link).isSymbolicLink(), true);
});

test('sign FILE --key KEY -o KEY is refused: the private key survives', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'artifact');
  writeFileSync(file, 'bytes\n');
  const key = join(dir, 'org.pem');
  assert.equal(k3sguard(['sign', '--generate-key', key]).code, 0);
  const pem = readFileSync(key);
  assertInputError(k3sguard(['sign', file, '--key', key, '-o', key], BOUND), key, /an input of this run/);
  assert.deepEqual(readFileSync(key), pem);
  assertInputError(k3sguard(['sign', file, '--key', key, '-o', file], BOUND), file, /an input of this run/);
  assert.equal(readFileSync(file, 'utf8'), 'bytes\n');
});

test('inspect BIN -o BIN is refused and the binary is unchanged', (t) => {
  const bin = realBinary('esbuild-0.24.2');
  if ('skip' in bin) return t.skip(bin.skip);
  const dir = tempDir(t);
  const copy = join(dir, 'esbuild');
  copyFileSync(bin.path, copy);
  const before = readFileSync(copy);
  assertInputError(k3sguard(['inspect', '--no-progress', copy, '-o', copy], BOUND), copy, /an input of this run/);
  assert.ok(readFileSync(copy).equals(before));
});

test('-o a FIFO writes into it (a reader gets the report) and the FIFO stays a FIFO', async (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'install.sh');
  writeFileSync(script, 'curl -sfL https://get.k3s.io | sh -\n');
  const fifo = join(dir, 'report.fifo');
  execFileSync('mkfifo', [fifo]);
  const got = join(dir, 'got.json');
  // The reader writes to a file, not to a pipe of this process: spawnSync below blocks it.
  const out = openSync(got, 'w');
  const reader = spawn('cat', [fifo], { stdio: ['ignore', out, 'ignore'] });
  closeSync(out);
  const exited = once(reader, 'exit');
  const r = k3sguard(['audit', 'iac', script, '--format', 'json', '-o', fifo], BOUND);
  if (r.code === null || r.code === 2) reader.kill(); // nothing will ever open the FIFO for writing
  await exited;
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  assert.match(readFileSync(got, 'utf8'), /"k3sguard\/audit@1"/);
  assert.equal(lstatSync(fifo).isFIFO(), true);
});

test('-o /dev/stdout writes through the link into the pipe', (t) => {
  // As root a regression would replace /dev/stdout itself: only run it where that cannot happen.
  if (process.getuid?.() === 0) return t.skip('as root, a broken writer could replace /dev/stdout');
  const dir = tempDir(t);
  const script = join(dir, 'install.sh');
  writeFileSync(script, 'curl -sfL https://get.k3s.io | sh -\n');
  const r = k3sguard(['audit', 'iac', script, '-o', '/dev/stdout'], BOUND);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  assert.match(r.stdout, /audit iac: \d+ file\(s\) audited/);
});

test('-o a symlink to a file replaces the file it points at and keeps the link', (t) => {
  const dir = tempDir(t);
  const real = join(dir, 'report.txt');
  writeFileSync(real, 'old\n');
  const link = join(dir, 'latest.txt');
  symlinkSync('report.txt', link);
  const script = join(dir, 'install.sh');
  writeFileSync(script, 'curl -sfL https://get.k3s.io | sh -\n');
  assert.notEqual(k3sguard(['audit', 'iac', script, '-o', link], BOUND).code, 2);
  assert.equal(lstatSync(link).isSymbolicLink(), true);
  assert.equal(readlinkSync(link), 'report.txt');
  assert.match(readFileSync(real, 'utf8'), /audit iac: \d+ file\(s\) audited/);
  const dangling = join(dir, 'dangling.txt');
  symlinkSync('nowhere/x.txt', dangling);
  assertInputError(k3sguard(['audit', 'iac', script, '-o', dangling], BOUND), dangling, /a symlink to nothing/);
});
