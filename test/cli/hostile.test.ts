// Hostile bundles end to end: each embedded in a real Go binary the way K3s embeds its bundle,
// inspected through the real CLI. Each must give one line on stderr naming the file and the
// problem, exit code 2, and write nothing (the working directory stays empty).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildEmbedder, goSkip, zstdFile } from '../readers/bundle-fixtures.ts';
import { assertInputError, k3sguard, tempDir } from './run.ts';

// Python's tarfile writes whatever names it is given: the way to make members GNU tar refuses to.
const PY_MAKE = `
import io, json, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as t:
    for name, kind, data in json.loads(sys.argv[2]):
        i = tarfile.TarInfo(name)
        if kind == 'symlink':
            i.type, i.linkname = tarfile.SYMTYPE, data
            t.addfile(i)
        else:
            b = data.encode()
            i.size = len(b)
            t.addfile(i, io.BytesIO(b))
`;

function hostileBinary(dir: string, name: string, members: Array<[string, string, string]>, zstdArgs = ['-3']): string {
  const work = join(dir, name);
  mkdirSync(work);
  const tar = join(work, 'bundle.tar');
  execFileSync('python3', ['-c', PY_MAKE, tar, JSON.stringify(members)]);
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
    const bin = hostileBinary(dir, 'dotdot', [['./bin/../../../tmp/k3sguard-escaped', 'file', 'pwned']]);
    const cwd = tempDir(t);
    assertInputError(inspectIn(cwd, ['inspect', bin]), bin, /\.\..*component/);
    assert.equal(existsSync('/tmp/k3sguard-escaped'), false);
  });

  test('an absolute member and a symlink out of the bundle are refused', (t) => {
    const dir = tempDir(t);
    const abs = hostileBinary(dir, 'abs', [['/etc/k3sguard-abs', 'file', 'x']]);
    const link = hostileBinary(dir, 'link', [['./bin/runc', 'symlink', '/usr/sbin/runc']]);
    const cwd = tempDir(t);
    assertInputError(inspectIn(cwd, ['inspect', abs]), abs, /absolute path/);
    assertInputError(inspectIn(cwd, ['inspect', link]), link, /absolute path \/usr\/sbin\/runc/);
  });

  test('a truncated tar inside a consistent frame is TAR_CORRUPT, one line', (t) => {
    const dir = tempDir(t);
    const work = join(dir, 'trunc');
    mkdirSync(work);
    const tar = join(work, 'bundle.tar');
    execFileSync('python3', ['-c', PY_MAKE, tar, JSON.stringify([['./bin/k3s', 'file', 'x'.repeat(5000)]])]);
    const cut = join(work, 'cut.tar');
    writeFileSync(cut, execFileSync('head', ['-c', '3000', tar]));
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
    execFileSync('python3', ['-c', PY_MAKE, tar, JSON.stringify([['./bin/k3s', 'file', 'k3s '.repeat(10_000)]])]);
    const zst = zstdFile(tar, `${tar}.zst`, ['-3']);
    // Damage a byte in the last block's data, then name the frame by its (damaged) hash: a
    // consistent forgery, so the damage is an input error rather than a tampering finding.
    const bytes = execFileSync('cat', [zst]);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 0xff;
    writeFileSync(zst, bytes);
    const bin = buildEmbedder(zst, work).binary;
    assertInputError(inspectIn(tempDir(t), ['inspect', bin]), bin, /corrupt zstd|truncat|TAR|tar/i);
  });
});
