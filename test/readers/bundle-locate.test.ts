// Locating the bundle inside a real Go binary that //go:embed's it, as K3s's pkg/data does.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bufferSource, fileSource } from '../../src/io/bytesource.ts';
import { type BundleSearch, scanForBundle } from '../../src/readers/bundle/locate.ts';
import { buildEmbedder, goSkip, K3S_LIKE, packBundle, stageBin, tempDir } from './bundle-fixtures.ts';

function scanFile(path: string, chunkSize?: number): BundleSearch {
  const src = fileSource(path);
  try {
    return scanForBundle(src, chunkSize ? { chunkSize } : {});
  } finally {
    src.close();
  }
}

describe('scanForBundle on a Go binary embedding a bundle', { skip: goSkip() }, () => {
  let dir = '';
  let binary = '';
  let bundle = Buffer.alloc(0);
  let bundleSha = '';
  before(() => {
    dir = tempDir('k3sg-locate-');
    stageBin(join(dir, 'root'), K3S_LIKE);
    const zst = packBundle(join(dir, 'root'), dir);
    bundle = readFileSync(zst);
    const built = buildEmbedder(zst, dir);
    binary = built.binary;
    bundleSha = built.sha256;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('finds the frame whose sha256 is its name, at its exact offset and length', () => {
    const data = readFileSync(binary);
    const scan = scanFile(binary);
    assert.equal(scan.sha256, createHash('sha256').update(data).digest('hex'));
    assert.equal(scan.size, data.length);
    assert.deepEqual(scan.declaredHashes, [bundleSha]);
    assert.ok(scan.bundle);
    assert.equal(scan.bundle.hashMatches, true);
    assert.equal(scan.bundle.declaredHash, bundleSha);
    assert.equal(scan.bundle.sha256, bundleSha);
    assert.equal(scan.bundle.offset, data.indexOf(bundle));
    assert.equal(scan.bundle.length, bundle.length);
    assert.deepEqual(scan.findings, []);
  });

  test('names and magic numbers cut by a read-chunk border are still found', () => {
    const whole = scanFile(binary);
    const data = readFileSync(binary);
    const nameAt = data.indexOf(`${bundleSha}.tar.zst`);
    const frameAt = whole.bundle?.offset ?? -1;
    // Chunk sizes that put a border inside the name, inside the magic, and somewhere odd.
    for (const size of [nameAt + 30, nameAt + 70, frameAt + 2, 4099, 65_537]) {
      const scan = scanFile(binary, size);
      assert.deepEqual({ ...scan, bundle: scan.bundle && { ...scan.bundle } }, whole, `chunk size ${size}`);
    }
  });

  test('one byte changed inside the embedded frame: the best frame, with hashMatches false', () => {
    const data = readFileSync(binary);
    const scan = scanFile(binary);
    const at = (scan.bundle?.offset ?? 0) + Math.floor(bundle.length / 2);
    data[at] = (data[at] as number) ^ 0x40;
    const tampered = join(dir, 'k3s-flipped');
    writeFileSync(tampered, data);
    const t = scanFile(tampered);
    // The flip may land in a block header, which the walk then rejects; both are tampering.
    if (t.bundle) {
      assert.equal(t.bundle.hashMatches, false);
      assert.equal(t.bundle.declaredHash, bundleSha);
      assert.equal(t.bundle.offset, scan.bundle?.offset);
      assert.notEqual(t.bundle.sha256, bundleSha);
    } else {
      assert.equal(t.findings[0]?.id, 'K3SG-BUNDLE-FRAME-MISSING');
    }
  });

  test('a name with no frame behind it is a FRAME-MISSING finding', () => {
    const data = readFileSync(binary);
    const scan = scanFile(binary);
    const at = scan.bundle?.offset ?? 0;
    data.fill(0, at, at + 4); // wipe the magic number
    const wiped = join(dir, 'k3s-wiped');
    writeFileSync(wiped, data);
    const w = scanFile(wiped);
    assert.equal(w.bundle, undefined);
    assert.equal(w.findings.length, 1);
    assert.equal(w.findings[0]?.id, 'K3SG-BUNDLE-FRAME-MISSING');
    assert.equal(w.findings[0]?.severity, 'high');
    assert.deepEqual(w.findings[0]?.location, [wiped, `bundle:${bundleSha}`]);
  });

  test('a binary with no bundle name is no bundle, not an error', () => {
    const plain = join(dir, 'plain');
    copyFileSync('/usr/bin/zstd', plain);
    const scan = scanFile(plain);
    assert.deepEqual(scan.declaredHashes, []);
    assert.equal(scan.bundle, undefined);
    assert.deepEqual(scan.findings, []);
    // A frame with no name is not a bundle either.
    const frameOnly = scanForBundle(bufferSource('frame-only', Buffer.concat([Buffer.alloc(100), bundle])));
    assert.equal(frameOnly.bundle, undefined);
  });
});

describe('searchFile without hashing jumps over a large frame and finds what lies beyond it', {
  skip: goSkip(),
}, () => {
  test('names and magics after the bundle frame, at every chunk size', async () => {
    const { searchFile } = await import('../../src/readers/bundle/locate.ts');
    // A real frame over the 1 MiB jump threshold (2 MiB of incompressible bytes through zstd),
    // then a name and a magic after it.
    const { execFileSync } = await import('node:child_process');
    const blocks: Buffer[] = [createHash('sha256').update('seed').digest()];
    while (blocks.length < 65_536)
      blocks.push(
        createHash('sha256')
          .update(blocks.at(-1) as Buffer)
          .digest(),
      );
    const frame = execFileSync('zstd', ['-1', '-c'], { input: Buffer.concat(blocks), maxBuffer: 64 << 20 });
    assert.ok(frame.length > 1024 * 1024);
    const name = Buffer.from(`${'ab'.repeat(32)}.tar.zst`, 'latin1');
    const after = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0]);
    const data = Buffer.concat([Buffer.alloc(1000), frame, Buffer.alloc(77), name, Buffer.alloc(5), after]);
    const src = bufferSource('t', data);
    const full = searchFile(src, { hash: true });
    for (const chunkSize of [4099, 65_536, 1 << 20, 8 << 20]) {
      const quick = searchFile(src, { hash: false, chunkSize });
      assert.deepEqual(quick.names, ['ab'.repeat(32)], `chunk ${chunkSize}`);
      assert.equal(quick.magics[0], 1000);
      assert.equal(quick.magics.at(-1), data.length - after.length, `chunk ${chunkSize}`);
      assert.ok(full.magics.includes(data.length - after.length));
    }
  });
});

describe('scanForBundle hashes the runs in its one pass: the same answer as reading them again', () => {
  const variants = ['good', 'frame-byte-flipped', 'member-changed', 'truncated', 'truncated-after-frame'] as const;
  for (const variant of variants) {
    test(variant, async (t) => {
      const { k3sShaped } = await import('../fixtures/k3s-shaped.ts');
      const fixture = await k3sShaped(variant);
      if ('skip' in fixture) return t.skip(fixture.skip);
      const { chooseRun, frameRuns, searchFile } = await import('../../src/readers/bundle/locate.ts');
      const src = fileSource(fixture.path);
      try {
        // Small steps too: runs and frame ends then fall across many reads.
        for (const chunkSize of [undefined, 64 * 1024 + 7]) {
          const scan = scanForBundle(src, chunkSize ? { chunkSize } : {});
          const found = searchFile(src, { hash: true });
          const { runs } = frameRuns(src, found.magics);
          assert.equal(scan.sha256, found.sha256);
          assert.deepEqual(scan.declaredHashes, found.names);
          assert.deepEqual(scan.bundle, chooseRun(src, runs, found.names));
          if (variant === 'good') assert.equal(scan.bundle?.hashMatches, true);
          if (variant === 'frame-byte-flipped') assert.equal(scan.bundle?.hashMatches, false);
        }
      } finally {
        src.close();
      }
    });
  }
});
