// Walk Zstandard frames (RFC 8878) without decompressing them, to find where a frame ends.
// A K3s binary embeds its bundle verbatim somewhere in its read-only data; nothing records
// the bundle's length, so the only way to cut it out exactly is to read the frame header
// and then hop from block header to block header up to the last block (and the optional
// 4-byte checksum). Every field is checked against the format's limits, so random bytes
// that happen to start with the magic number are rejected quickly.
import type { ByteSource } from '../../io/bytesource.ts';

/** `28 B5 2F FD` read as little-endian. */
export const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50; // 0x184D2A50 to 0x184D2A5F
/** A block never holds more than 128 KiB (RFC 8878 3.1.1.2.3). */
const BLOCK_SIZE_MAX = 128 * 1024;
/** libzstd's largest window on 64-bit hosts; a bigger one is not a frame any decoder reads. */
const WINDOW_LOG_MAX = 31;
/** A run of frames longer than this is not a plausible embedded file. */
const MAX_FRAMES_IN_RUN = 4096;

export interface ZstdFrame {
  kind: 'zstd';
  offset: number;
  /** Exact length in bytes, header to checksum. */
  length: number;
  windowSize: number;
  /** Decompressed size, when the header records it. */
  contentSize?: number;
  hasChecksum: boolean;
  dictionaryId: number;
  blocks: number;
}

export interface SkippableFrame {
  kind: 'skippable';
  offset: number;
  length: number;
}

export type Frame = ZstdFrame | SkippableFrame;

export type FrameResult = { ok: true; frame: Frame } | { ok: false; reason: string };

export type FrameRun = { ok: true; offset: number; end: number; frames: Frame[] } | { ok: false; reason: string };

function u32(src: ByteSource, at: number): number | undefined {
  const b = src.read(at, 4);
  return b.length === 4 ? b.readUInt32LE(0) : undefined;
}

/** True when the four bytes at `at` are a zstd or skippable frame magic number. */
export function isFrameMagic(src: ByteSource, at: number): boolean {
  const m = u32(src, at);
  return m !== undefined && (m === ZSTD_MAGIC || (m & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC);
}

/** Parse the one frame (zstd or skippable) that starts at `offset`. */
export function readFrame(src: ByteSource, offset: number): FrameResult {
  const magic = u32(src, offset);
  if (magic === undefined) return { ok: false, reason: `no frame magic at ${offset}: end of data` };
  if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
    const size = u32(src, offset + 4);
    if (size === undefined) return { ok: false, reason: `skippable frame at ${offset} is truncated` };
    const length = 8 + size;
    if (offset + length > src.size) return { ok: false, reason: `skippable frame at ${offset} runs past the end` };
    return { ok: true, frame: { kind: 'skippable', offset, length } };
  }
  if (magic !== ZSTD_MAGIC) return { ok: false, reason: `no zstd magic at ${offset}` };
  return readZstdFrame(src, offset);
}

function readZstdFrame(src: ByteSource, offset: number): FrameResult {
  const fail = (why: string): FrameResult => ({ ok: false, reason: `zstd frame at ${offset}: ${why}` });
  // The header is at most 4 + 1 + 1 + 4 + 8 = 18 bytes.
  const head = src.read(offset, 18);
  if (head.length < 6) return fail('truncated header');
  const descriptor = head[4] as number;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  if ((descriptor & 0x08) !== 0) return fail('reserved header bit set');
  const hasChecksum = (descriptor & 0x04) !== 0;
  const dictIdBytes = [0, 1, 2, 4][descriptor & 0x03] as number;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : ([0, 2, 4, 8][fcsFlag] as number);
  let pos = 5;
  let windowSize = 0;
  if (!singleSegment) {
    const wd = head[pos++] as number;
    const windowLog = 10 + (wd >> 3);
    if (windowLog > WINDOW_LOG_MAX) return fail(`window log ${windowLog} is over ${WINDOW_LOG_MAX}`);
    const base = 2 ** windowLog;
    windowSize = base + (base / 8) * (wd & 0x07);
  }
  const headerLength = pos + dictIdBytes + fcsBytes;
  if (head.length < headerLength) return fail('truncated header');
  let dictionaryId = 0;
  if (dictIdBytes > 0) dictionaryId = head.readUIntLE(pos, dictIdBytes);
  pos += dictIdBytes;
  let contentSize: number | undefined;
  if (fcsBytes === 1) contentSize = head[pos];
  else if (fcsBytes === 2) contentSize = head.readUInt16LE(pos) + 256;
  else if (fcsBytes === 4) contentSize = head.readUInt32LE(pos);
  else if (fcsBytes === 8) {
    const big = head.readBigUInt64LE(pos);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) return fail('content size is implausibly large');
    contentSize = Number(big);
  }
  if (singleSegment) windowSize = contentSize ?? 0;
  const blockMax = Math.min(windowSize, BLOCK_SIZE_MAX);

  // Blocks: a 3-byte little-endian header (last flag, type, size) then the block's bytes.
  let at = offset + headerLength;
  let blocks = 0;
  let knownOutput = 0; // bytes that raw and RLE blocks regenerate
  let onlyKnown = true;
  for (;;) {
    const bh = src.read(at, 3);
    if (bh.length < 3) return fail(`truncated at block ${blocks}`);
    const header = bh.readUIntLE(0, 3);
    const last = (header & 1) === 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) return fail(`block ${blocks} has the reserved type`);
    if (size > blockMax) return fail(`block ${blocks} is ${size} bytes, over the ${blockMax}-byte maximum`);
    const stored = type === 1 ? 1 : size; // an RLE block stores one byte, repeated `size` times
    if (type === 2) onlyKnown = false;
    else knownOutput += size;
    at += 3 + stored;
    blocks++;
    if (at > src.size) return fail(`truncated inside block ${blocks - 1}`);
    if (contentSize !== undefined && knownOutput > contentSize) return fail('blocks exceed the declared content size');
    if (last) break;
  }
  if (onlyKnown && contentSize !== undefined && knownOutput !== contentSize) {
    return fail('blocks do not add up to the declared content size');
  }
  if (hasChecksum) {
    at += 4;
    if (at > src.size) return fail('truncated checksum');
  }
  const frame: ZstdFrame = { kind: 'zstd', offset, length: at - offset, windowSize, hasChecksum, dictionaryId, blocks };
  if (contentSize !== undefined) frame.contentSize = contentSize;
  return { ok: true, frame };
}

/**
 * The run of consecutive frames that starts with a zstd frame at `offset`: the first frame
 * must be valid; later frames (zstd or skippable) are followed while they are valid, and the
 * run ends before the first thing that is not one, since whatever follows an embedded file
 * in a binary is unrelated data.
 */
export function walkFrames(src: ByteSource, offset: number): FrameRun {
  if (u32(src, offset) !== ZSTD_MAGIC) return { ok: false, reason: `no zstd magic at ${offset}` };
  const first = readFrame(src, offset);
  if (!first.ok) return first;
  const frames: Frame[] = [first.frame];
  let end = offset + first.frame.length;
  while (frames.length < MAX_FRAMES_IN_RUN && isFrameMagic(src, end)) {
    const next = readFrame(src, end);
    if (!next.ok) break;
    frames.push(next.frame);
    end += next.frame.length;
  }
  return { ok: true, offset, end, frames };
}
