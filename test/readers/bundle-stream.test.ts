// Reading real bundles (GNU tar + zstd CLI, manifests written by package-cli's commands)
// in one streaming pass: members, hashes and ELF bytes must match what the tools put in;
// tampering after the manifests were written must come out as findings.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileSource } from '../../src/io/bytesource.ts';
import { isInputError } from '../../src/model/errors.ts';
import { scanForBundle } from '../../src/readers/bundle/locate.ts';
import { type BundleScan, readEmbeddedBundle } from '../../src/readers/bundle/stream.ts';
import {
  buildEmbedder,
  ELF_A,
  ELF_B,
  goSkip,
  K3S_LIKE,
  locateWhole,
  packBundle,
  sh,
  sha256File,
  stageBin,
  tempDir,
  toolsSkip,
  zstdFile,
} from './bundle-fixtures.ts';

async function read(zst: string, options: Parameters<typeof readEmbeddedBundle>[2] = {}): Promise<BundleScan> {
  return readEmbeddedBundle(zst, locateWhole(zst), options);
}

/** What GNU tar itself lists: `<type><name>[ -> target]` per member, './' and trailing '/' removed. */
function gnuListing(tarZst: string): string[] {
  const out = sh(`zstd -dc --long=25 ${tarZst} | tar -tv --quoting-style=literal`);
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^(.)\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+(.*)$/.exec(line);
      assert.ok(m, line);
      const [, type, rest] = m as unknown as [string, string, string];
      return `${type}${rest.replace(/^\.\//, '').replace(/\/$/, '')}`;
    })
    .filter((l) => l !== 'd.' && l !== 'd');
}

function ourListing(scan: BundleScan): string[] {
  return scan.members.map((m) => {
    if (m.type === 'symlink') return `l${m.path} -> ${m.linkTarget}`;
    return `${m.type === 'dir' ? 'd' : '-'}${m.path}`;
  });
}

const ids = (scan: BundleScan) => scan.findings.map((f) => `${f.id} ${f.location.at(-1)}`).sort();

describe('readEmbeddedBundle', { skip: toolsSkip() }, () => {
  let dir = '';
  let good = '';
  before(() => {
    dir = tempDir('k3sg-stream-');
    stageBin(join(dir, 'root'), K3S_LIKE);
    good = packBundle(join(dir, 'root'), dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a good bundle: every member as GNU tar lists it, hashes as sha256sum computes, no findings', async () => {
    const elfs = new Map<string, string>();
    const scan = await read(good, {
      displayName: 'k3s',
      onElf(member, data) {
        // Read it back in odd pieces, across the chunks it arrived in.
        const h = createHash('sha256');
        for (let at = 0; at < data.size; at += 99_991) h.update(data.read(at, 99_991));
        assert.equal(h.digest('hex'), member.sha256);
        elfs.set(member.path, member.sha256);
      },
    });
    assert.deepEqual(ourListing(scan), gnuListing(good));
    assert.deepEqual(scan.findings, []);
    assert.deepEqual([...elfs.keys()].sort(), ['bin/containerd', 'bin/k3s']);
    assert.equal(elfs.get('bin/k3s'), sha256File(ELF_A));
    assert.equal(elfs.get('bin/containerd'), sha256File(ELF_B));
    const sums = readFileSync(join(dir, 'root', 'bin', '.sha256sums'), 'utf8');
    for (const line of sums.trim().split('\n')) {
      const [hash, rel] = line.split('  ');
      const m = scan.members.find((x) => x.path === `bin/${rel}`);
      assert.ok(m && m.type === 'file' && m.sha256 === hash, `bin/${rel}`);
    }
    assert.equal(scan.uncompressedSize, Number(sh(`zstd -dc --long=25 ${good} | wc -c`).trim()));
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
    assert.deepEqual([...scan.links].sort(byName), [
      { name: 'bin/aux/wg', target: 'wg-add.sh' },
      { name: 'bin/crictl', target: 'k3s' },
      { name: 'bin/ctr', target: 'k3s' },
      { name: 'bin/kubectl', target: 'k3s' },
    ]);
    assert.equal(scan.sha256, sha256File(good));
    assert.equal(scan.compressedSize, statSync(good).size);
  });

  test('the same tar in other frame layouts reads the same: two frames, --no-check, no content size', async () => {
    const tar = join(dir, 'data.tar');
    sh(`zstd -q -dc --long=25 ${good} > ${tar}`);
    const expected = ourListing(await read(good));
    const half = Math.floor(statSync(tar).size / 2);
    sh(
      `head -c ${half} ${tar} | zstd -q -3 > ${dir}/two.zst && tail -c +${half + 1} ${tar} | zstd -q -3 --no-check >> ${dir}/two.zst`,
    );
    const two = join(dir, 'two.zst');
    assert.equal(locateWhole(two).frames.length, 2);
    const variants = [two, zstdFile(tar, join(dir, 'nocheck.zst'), ['-16', '--long=25', '--no-check'])];
    sh(`zstd -q -16 --long=25 < ${tar} > ${dir}/stdin.zst`);
    variants.push(join(dir, 'stdin.zst'));
    for (const v of variants) {
      const scan = await read(v);
      assert.deepEqual(ourListing(scan), expected, v);
      assert.deepEqual(scan.findings, [], v);
    }
  });

  test('members changed after the manifests were written are findings', async () => {
    const root = join(dir, 'tampered');
    stageBin(root, K3S_LIKE);
    const bin = join(root, 'bin');
    appendFileSync(join(bin, 'k3s'), 'x'); // modified
    unlinkSync(join(bin, 'check-config')); // missing
    writeFileSync(join(bin, 'helper'), '#!/bin/sh\n'); // unlisted
    writeFileSync(join(bin, '.hidden'), 'x'); // unlisted (package-cli leaves hidden names out)
    unlinkSync(join(bin, 'kubectl'));
    symlinkSync('containerd', join(bin, 'kubectl')); // link retargeted
    unlinkSync(join(bin, 'crictl')); // link missing
    symlinkSync('k3s', join(bin, 'sh')); // link unlisted
    const zst = packBundle(root, join(dir, 'tampered-out'), ['-3']);
    const scan = await read(zst, { displayName: 'k3s', location: ['k3s', 'bundle:x'] });
    assert.deepEqual(ids(scan), [
      'K3SG-BUNDLE-LINK-MISMATCH bin/kubectl',
      'K3SG-BUNDLE-LINK-MISSING bin/crictl',
      'K3SG-BUNDLE-LINK-UNLISTED bin/sh',
      'K3SG-BUNDLE-MEMBER-MISSING bin/check-config',
      'K3SG-BUNDLE-MEMBER-MODIFIED bin/k3s',
      'K3SG-BUNDLE-MEMBER-UNLISTED bin/.hidden',
      'K3SG-BUNDLE-MEMBER-UNLISTED bin/helper',
    ]);
    const modified = scan.findings.find((f) => f.id === 'K3SG-BUNDLE-MEMBER-MODIFIED');
    assert.equal(modified?.severity, 'critical');
    assert.deepEqual(modified?.location, ['k3s', 'bundle:x', 'bin/k3s']);
    assert.match(modified?.message ?? '', /Do not run k3s/);
  });

  test('missing and malformed manifests are findings, the rest is still checked', async () => {
    const root = join(dir, 'manifests');
    stageBin(root, K3S_LIKE);
    unlinkSync(join(root, 'bin', '.links'));
    appendFileSync(join(root, 'bin', '.sha256sums'), 'not a checksum line\n');
    appendFileSync(join(root, 'bin', 'k3s'), 'x');
    const scan = await read(packBundle(root, join(dir, 'manifests-out'), ['-3']));
    assert.deepEqual(ids(scan), [
      'K3SG-BUNDLE-MANIFEST-MALFORMED bin/.sha256sums',
      'K3SG-BUNDLE-MANIFEST-MISSING bin/.links',
      'K3SG-BUNDLE-MEMBER-MODIFIED bin/k3s',
    ]);
  });

  test('one byte changed inside the frame: the hash finding, and no crash', async () => {
    const data = readFileSync(good);
    // Inside the first block's content (well past the header), so the frame still walks.
    data[200] = (data[200] as number) ^ 0x55;
    const flipped = join(dir, 'flipped.zst');
    writeFileSync(flipped, data);
    const loc = locateWhole(flipped, sha256File(good));
    assert.equal(loc.hashMatches, false);
    const scan = await readEmbeddedBundle(flipped, loc, { displayName: 'k3s' });
    assert.equal(scan.findings[0]?.id, 'K3SG-BUNDLE-HASH');
    assert.equal(scan.findings[0]?.severity, 'critical');
    // zstd's checksum (or the block decoder) catches the change: reported, not thrown.
    assert.equal(scan.findings[1]?.id, 'K3SG-BUNDLE-UNREADABLE');
    assert.match(scan.findings[1]?.message ?? '', /corrupt zstd data/);

    // The same corrupt frame under its own hash (a consistent forgery): a clean ZSTD_CORRUPT.
    await assert.rejects(readEmbeddedBundle(flipped, locateWhole(flipped)), (e: unknown) => {
      assert.ok(isInputError(e));
      assert.equal(e.code, 'ZSTD_CORRUPT');
      assert.equal(e.file, flipped);
      return true;
    });
  });

  test('a window over maxWindowLog stops with ZSTD_LIMIT', async () => {
    await assert.rejects(read(good, { maxWindowLog: 12 }), (e: unknown) => isInputError(e) && e.code === 'ZSTD_LIMIT');
  });

  test('end to end: a Go binary embedding the bundle, located and read', { skip: goSkip() }, async () => {
    const { binary, sha256 } = buildEmbedder(good, join(dir, 'go'));
    const src = fileSource(binary);
    const scan = scanForBundle(src);
    src.close();
    assert.ok(scan.bundle?.hashMatches);
    const seen: string[] = [];
    const bundle = await readEmbeddedBundle(binary, scan.bundle, {
      location: [binary, `bundle:${sha256}`],
      onElf: async (member) => {
        await new Promise((r) => setTimeout(r, 5)); // an async callback is awaited
        seen.push(member.path);
      },
    });
    assert.equal(bundle.declaredHash, sha256);
    assert.deepEqual(bundle.findings, []);
    assert.deepEqual(seen.sort(), ['bin/containerd', 'bin/k3s']);
    assert.deepEqual(ourListing(bundle), gnuListing(good));
    execFileSync(binary); // and it is a working program
  });
});
