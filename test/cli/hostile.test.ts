// Hostile bundles end to end: each embedded in a real Go binary the way K3s embeds its bundle,
// inspected through the real CLI. Each must give one line on stderr naming the file and the
// problem, exit code 2, and write nothing (the working directory stays empty).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildEmbedder, craftTar, type Entry, goSkip, zstdFile } from '../readers/bundle-fixtures.ts';
import { assertInputError, k3sguard, tempDir } from './run.ts';

function hostileBinary(dir: string, name: string, members: Entry[], zstdArgs = ['-3']): string {
  const work = join(dir, name);
  mkdirSync(work);
  const tar = join(work, 'bundle.tar');
  craftTar(tar, members);
  return buildEmbedder(zstdFile(tar, `${tar}.zst`, zstdArgs), work).binary;
}

function inspectIn(cwd: string, args: string[]) {
  const r = k3sguard(args, { cwd });
  assert.deepEqual(readdirSync(cwd), [], 'nothing written to the working directory');
  return r;
}

describe('hostile bundles through the CLI', { skip: goSkip() }, () => {
  test('a member with ../ is refused naming the member', (t) => {
    const dir = tempDir(t);
    const bin = hostileBinary(dir, 'dotdot', [
      { name: './bin/../../../tmp/k3sguard-escaped', type: 'file', data: 'pwned' },
    ]);
    const cwd = tempDir(t);
    assertInputError(inspectIn(cwd, ['inspect', bin]), bin, /\.\..*component/);
    assert.equal(existsSync('/tmp/k3sguard-escaped'), false);
  });

  test('an absolute member and a symlink out of the bundle are refused', (t) => {
    const dir = tempDir(t);
    const abs = hostileBinary(dir, 'abs', [{ name: '/etc/k3sguard-abs', type: 'file', data: 'x' }]);
    const link = hostileBinary(dir, 'link', [{ name: './bin/runc', type: 'symlink', link: '/usr/sbin/runc' }]);
    const cwd = tempDir(t);
    assertInputError(inspectIn(cwd, ['inspect', abs]), abs, /absolute path/);
    assertInputError(inspectIn(cwd, ['inspect', link]), link, /absolute path \/usr\/sbin\/runc/);
  });

  test('a truncated tar inside a consistent frame is TAR_CORRUPT, one line', (t) => {
    const dir = tempDir(t);
    const work = join(dir, 'trunc');
    mkdirSync(work);
    const tar = join(work, 'bundle.tar');
    craftTar(tar, [{ name: './bin/k3s', type: 'file', data: 'x'.repeat(5000) }]);
    const cut = join(work, 'cut.tar');
    writeFileSync(cut, readFileSync(tar).subarray(0, 3000));
    const bin = buildEmbedder(zstdFile(cut, `${cut}.zst`, ['-3']), work).binary;
    assertInputError(inspectIn(tempDir(t), ['inspect', bin]), bin, /truncat|end of archive|corrupt/i);
  });

  test('a zstd bomb stops at --max-bundle-size with one line, exit 2', (t) => {
    const dir = tempDir(t);
    const work = join(dir, 'bomb');
    mkdirSync(work);
    const zeros = join(work, 'zeros');
    // 512 MiB of zeros compress to a few KB: a bomb for a 64 MiB limit.
    execFileSync('bash', ['-c', `head -c 536870912 /dev/zero | zstd -q -19 -o "${zeros}.zst"`]);
    const bin = buildEmbedder(`${zeros}.zst`, work).binary;
    const r = inspectIn(tempDir(t), ['inspect', bin, '--max-bundle-size', '64MiB']);
    assertInputError(r, bin, /more than 67108864 bytes/);
  });

  test('corrupt zstd data under a name that matches it: ZSTD_CORRUPT, one line', (t) => {
    const dir = tempDir(t);
    const work = join(dir, 'corrupt');
    mkdirSync(work);
    const tar = join(work, 'bundle.tar');
    craftTar(tar, [{ name: './bin/k3s', type: 'file', data: 'k3s '.repeat(10_000) }]);
    const zst = zstdFile(tar, `${tar}.zst`, ['-3']);
    // Damage a byte in the last block's data, then name the frame by its (damaged) hash: a
    // consistent forgery, so the damage is an input error rather than a tampering finding.
    const bytes = readFileSync(zst);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 0xff;
    writeFileSync(zst, bytes);
    const bin = buildEmbedder(zst, work).binary;
    assertInputError(inspectIn(tempDir(t), ['inspect', bin]), bin, /corrupt zstd|truncat|TAR|tar/i);
  });
});
