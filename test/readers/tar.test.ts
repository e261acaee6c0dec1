// The streaming tar reader against archives made by GNU tar in each of its formats, checked
// against Python's tarfile (an independent reader), fed in chunks of awkward sizes; and
// against damaged archives, each of which must fail with a coded error.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TarReader } from '../../src/io/tar.ts';
import { isInputError } from '../../src/model/errors.ts';
import { sh, tempDir, toolsSkip } from './bundle-fixtures.ts';

interface Listed {
  name: string;
  type: string;
  size: number;
  linkname: string;
  sha256?: string;
}

/** Run the reader over `tar`, `step` bytes at a time. */
function parse(tar: Buffer, step: number, limits?: ConstructorParameters<typeof TarReader>[1]): Listed[] {
  const reader = new TarReader('test.tar', limits);
  const out: Listed[] = [];
  let hash: ReturnType<typeof createHash> | undefined;
  for (let at = 0; at < tar.length; at += step) {
    for (const ev of reader.feed(tar.subarray(at, at + step))) {
      if (ev.type === 'entry') {
        const e = ev.entry;
        out.push({ name: e.name, type: e.type, size: e.size, linkname: e.linkname });
        hash = e.type === 'file' ? createHash('sha256') : undefined;
        if (e.type === 'file' && e.size === 0) (out.at(-1) as Listed).sha256 = createHash('sha256').digest('hex');
      } else if (ev.type === 'data') hash?.update(ev.data);
      else (out.at(-1) as Listed).sha256 = hash?.digest('hex');
    }
  }
  reader.finish();
  return out;
}

const PY_LIST = `
import hashlib, json, sys, tarfile
types = {tarfile.REGTYPE: 'file', tarfile.AREGTYPE: 'file', tarfile.LNKTYPE: 'hardlink', tarfile.SYMTYPE: 'symlink',
         tarfile.DIRTYPE: 'dir', tarfile.FIFOTYPE: 'fifo', tarfile.CHRTYPE: 'char', tarfile.BLKTYPE: 'block'}
out = []
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        e = {'name': m.name + ('/' if m.isdir() else ''), 'type': types[m.type], 'size': m.size if m.isreg() else 0,
             'linkname': m.linkname}
        if m.isreg():
            e['sha256'] = hashlib.sha256(t.extractfile(m).read()).hexdigest()
        out.append(e)
print(json.dumps(out))
`;

function pythonList(path: string): Listed[] {
  return JSON.parse(execFileSync('python3', ['-c', PY_LIST, path], { encoding: 'utf8' })) as Listed[];
}

/** GNU tar writes names of directories with a trailing slash; Python drops it. Compare without. */
const strip = (l: Listed[]) => l.map((e) => ({ ...e, name: e.name.replace(/\/$/, '') }));

function rejects(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isInputError(e), String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

const skip = toolsSkip() ?? (hasPython() ? undefined : 'python3 is not on PATH');
function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import tarfile'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('streaming tar reader', { skip }, () => {
  let dir = '';
  before(() => {
    dir = tempDir('k3sg-tar-');
    const tree = join(dir, 'tree');
    const deep = join(tree, 'bin', 'a-directory-with-a-rather-long-name', 'and-another-one-that-is-long-too-so-that');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'the-file-name-itself-pushes-the-path-past-one-hundred-bytes.txt'), 'deep\n');
    writeFileSync(join(tree, 'bin', 'k3s'), readFileSync('/usr/bin/zstd'));
    writeFileSync(join(tree, 'bin', 'empty'), '');
    sh(
      `cd ${tree}/bin && ln -s k3s kubectl && ln k3s k3s-hard && mkfifo pipe &&
       ln -s a-directory-with-a-rather-long-name/and-another-one-that-is-long-too-so-that/the-file-name-itself-pushes-the-path-past-one-hundred-bytes.txt long-link`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const format of ['gnu', 'pax', 'ustar']) {
    test(`GNU tar --format=${format}: same members as Python's tarfile, whatever the chunk size`, () => {
      const tar = join(dir, `${format}.tar`);
      // ustar cannot hold a link target over 100 bytes: leave that one out there.
      const exclude = format === 'ustar' ? '--exclude=./bin/long-link' : '';
      sh(`tar --format=${format} ${exclude} -cf ${tar} -C ${join(dir, 'tree')} ./bin`);
      const data = readFileSync(tar);
      const expected = strip(pythonList(tar));
      for (const step of [1 << 20, 1, 7, 511, 513, 4096]) {
        assert.deepEqual(strip(parse(data, step)), expected, `chunk size ${step}`);
      }
      const types = new Set(expected.map((e) => e.type));
      for (const t of ['file', 'dir', 'symlink', 'hardlink', 'fifo']) assert.ok(types.has(t), `${format} has a ${t}`);
      assert.ok(expected.some((e) => e.name.length > 100));
    });
  }

  test('a size field in GNU base-256 reads the same', () => {
    const tar = join(dir, 'b256.tar');
    sh(`tar --format=gnu -cf ${tar} -C ${join(dir, 'tree')} ./bin/k3s`);
    const data = readFileSync(tar);
    const before = parse(data, 1 << 20);
    const size = (before[0] as Listed).size;
    data.fill(0, 124, 136);
    data[124] = 0x80;
    data.writeUIntBE(size, 136 - 6, 6);
    rewriteChecksum(data, 0);
    assert.deepEqual(parse(data, 1 << 20), before);
    data[124] = 0xff; // negative
    rewriteChecksum(data, 0);
    rejects(() => parse(data, 1 << 20), 'TAR_CORRUPT', /negative base-256/);
  });

  test('damaged archives fail with TAR_CORRUPT', () => {
    const tar = join(dir, 'plain.tar');
    sh(`tar --format=gnu -cf ${tar} -C ${join(dir, 'tree')} ./bin/k3s ./bin/kubectl`);
    const good = readFileSync(tar);
    const memberSize = (parse(good, 1 << 20)[0] as Listed).size;

    const badSum = Buffer.from(good);
    badSum[10] = (badSum[10] as number) ^ 1;
    rejects(() => parse(badSum, 1 << 20), 'TAR_CORRUPT', /checksum/);

    rejects(
      () => parse(good.subarray(0, 512 + 1000), 1 << 20),
      'TAR_CORRUPT',
      /truncated: \d+ bytes of a member missing/,
    );
    const endOfMembers = 512 + Math.ceil(memberSize / 512) * 512 + 512;
    rejects(() => parse(good.subarray(0, endOfMembers), 1 << 20), 'TAR_CORRUPT', /no end-of-archive/);
    rejects(() => parse(good.subarray(0, endOfMembers + 512), 1 << 20), 'TAR_CORRUPT', /one of the two/);
    rejects(() => parse(good.subarray(0, 700), 1 << 20), 'TAR_CORRUPT', /truncated/);

    const trailing = Buffer.concat([good, Buffer.from('hidden payload')]);
    rejects(() => parse(trailing, 1 << 20), 'TAR_CORRUPT', /after the end-of-archive/);

    const lone = Buffer.concat([Buffer.alloc(512), good]);
    rejects(() => parse(lone, 1 << 20), 'TAR_CORRUPT', /lone zero block/);
  });

  test('a symlink header declaring data is refused (readers disagree on it)', () => {
    const tar = join(dir, 'link.tar');
    sh(`tar --format=gnu -cf ${tar} -C ${join(dir, 'tree')} ./bin/kubectl`);
    const data = readFileSync(tar);
    data.write('00000001000\0', 124, 'latin1');
    rewriteChecksum(data, 0);
    rejects(() => parse(data, 1 << 20), 'TAR_CORRUPT', /symlink entry .* declares 512 data bytes/);
  });

  test('oversized extended headers stop with TAR_LIMIT', () => {
    const tar = join(dir, 'pax.tar');
    sh(`tar --format=pax -cf ${tar} -C ${join(dir, 'tree')} ./bin`);
    const data = readFileSync(tar);
    rejects(
      () => parse(data, 1 << 20, { maxLongName: 64 * 1024, maxPaxHeader: 16, maxName: 4096 }),
      'TAR_LIMIT',
      /over the 16-byte/,
    );
  });
});

function rewriteChecksum(block: Buffer, at: number): void {
  block.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += block[at + i] as number;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
}
