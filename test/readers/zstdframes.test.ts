// Frames made by the real zstd CLI, walked without decompressing: the walk must end exactly
// where the file ends, whatever the frame options, and reject damaged frames.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bufferSource, fileSource } from '../../src/io/bytesource.ts';
import { readFrame, walkFrames, type ZstdFrame } from '../../src/readers/bundle/zstd-frames.ts';
import { sh, tempDir, toolsSkip, zstdFile } from './bundle-fixtures.ts';

const skip = toolsSkip();

describe('zstd frame walker', { skip }, () => {
  let dir = '';
  let input = '';
  let inputSize = 0;
  before(() => {
    dir = tempDir('k3sg-zstd-');
    input = join(dir, 'input.tar');
    // Something tar-like and compressible enough to give several blocks: a real tar of ELF files.
    sh(`tar cf ${input} -C /usr/bin zstd tar`);
    inputSize = statSync(input).size;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function walkWhole(path: string) {
    const src = fileSource(path);
    try {
      return { run: walkFrames(src, 0), size: src.size };
    } finally {
      src.close();
    }
  }

  const variants: Array<[string, string[], { checksum: boolean; contentSize: boolean }]> = [
    ['-16 --long=25 (K3s)', ['-16', '--long=25'], { checksum: true, contentSize: true }],
    ['--no-check', ['-3', '--no-check'], { checksum: false, contentSize: true }],
    ['-19 --long=25', ['-19', '--long=25'], { checksum: true, contentSize: true }],
    ['--no-content-size', ['-3', '--no-content-size'], { checksum: true, contentSize: false }],
  ];
  for (const [label, args, expect] of variants) {
    test(`a frame made with ${label} ends exactly at the end of the file`, () => {
      const out = zstdFile(input, join(dir, `${label.replace(/\W+/g, '_')}.zst`), args);
      const { run, size } = walkWhole(out);
      assert.ok(run.ok, run.ok ? '' : run.reason);
      assert.equal(run.end, size);
      assert.equal(run.frames.length, 1);
      const frame = run.frames[0] as ZstdFrame;
      assert.equal(frame.kind, 'zstd');
      assert.equal(frame.hasChecksum, expect.checksum);
      assert.equal(frame.contentSize, expect.contentSize ? inputSize : undefined);
      assert.ok(frame.blocks > 1);
    });
  }

  test('a frame from stdin (no content size) made with --long=25 has a 32 MiB window', () => {
    // Over 32 MiB of input, so zstd keeps the full window: 40 MiB of repeated random data.
    const big = join(dir, 'big.bin');
    const piece = randomBytes(1024 * 1024);
    writeFileSync(big, Buffer.concat(Array.from({ length: 40 }, () => piece)));
    const out = join(dir, 'big.zst');
    sh(`zstd -q -1 --long=25 < ${big} > ${out}`);
    const { run, size } = walkWhole(out);
    assert.ok(run.ok, run.ok ? '' : run.reason);
    assert.equal(run.end, size);
    const frame = run.frames[0] as ZstdFrame;
    assert.equal(frame.windowSize, 2 ** 25);
    assert.equal(frame.contentSize, undefined);
  });

  test('consecutive frames and skippable frames form one run', () => {
    const a = zstdFile(input, join(dir, 'a.zst'), ['-3']);
    const b = zstdFile(input, join(dir, 'b.zst'), ['-1', '--no-check']);
    const skippable = Buffer.alloc(8 + 10);
    skippable.writeUInt32LE(0x184d2a5e, 0);
    skippable.writeUInt32LE(10, 4);
    const joined = Buffer.concat([readFileSync(a), skippable, readFileSync(b)]);
    const garbage = randomBytes(333);
    garbage[0] = 0; // not a frame magic
    const data = Buffer.concat([randomBytes(1000), joined, garbage]);
    const run = walkFrames(bufferSource('multi', data), 1000);
    assert.ok(run.ok, run.ok ? '' : run.reason);
    assert.deepEqual(
      run.frames.map((f) => f.kind),
      ['zstd', 'skippable', 'zstd'],
    );
    assert.equal(run.end, 1000 + joined.length);
    // The zstd CLI decodes the same concatenation: it really is three frames.
    const file = join(dir, 'multi.zst');
    writeFileSync(file, joined);
    assert.equal(Number(sh(`zstd -dc ${file} | wc -c`).trim()), 2 * inputSize);
  });

  test('a frame embedded between random bytes is cut out exactly', () => {
    const z = readFileSync(zstdFile(input, join(dir, 'e.zst'), ['-16', '--long=25']));
    const data = Buffer.concat([randomBytes(4097), z, Buffer.alloc(100, 0xaa)]);
    const r = readFrame(bufferSource('embedded', data), 4097);
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(r.frame.length, z.length);
  });

  test('damaged frames are rejected with a reason', () => {
    const z = readFileSync(zstdFile(input, join(dir, 'd.zst'), ['-3']));
    const truncated = walkFrames(bufferSource('t', z.subarray(0, z.length - 10)), 0);
    assert.equal(truncated.ok, false);
    assert.match(truncated.ok ? '' : truncated.reason, /truncated/);

    const reservedBit = Buffer.from(z);
    reservedBit[4] = (reservedBit[4] as number) | 0x08;
    const r1 = walkFrames(bufferSource('r', reservedBit), 0);
    assert.match(r1.ok ? '' : r1.reason, /reserved header bit/);

    // First block header: after magic, descriptor, (window byte), content size.
    const frame = readFrame(bufferSource('z', z), 0);
    assert.ok(frame.ok);
    const reservedType = Buffer.from(z);
    const headerAt = headerLength(z);
    reservedType[headerAt] = ((reservedType[headerAt] as number) & ~0x06) | 0x06; // block type 3
    const r2 = walkFrames(bufferSource('b', reservedType), 0);
    assert.match(r2.ok ? '' : r2.reason, /reserved type/);

    assert.equal(walkFrames(bufferSource('n', Buffer.from('not a frame')), 0).ok, false);
  });
});

/** Frame header length, from the descriptor (for poking at the first block header). */
function headerLength(z: Buffer): number {
  const d = z[4] as number;
  const single = (d & 0x20) !== 0;
  const fcs = d >> 6 === 0 ? (single ? 1 : 0) : ([0, 2, 4, 8][d >> 6] as number);
  return 5 + (single ? 0 : 1) + ([0, 1, 2, 4][d & 3] as number) + fcs;
}
