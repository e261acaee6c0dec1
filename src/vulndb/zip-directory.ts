// Finding a zip's central directory from its end: the end of central directory record (the
// last one whose comment reaches exactly to the end of the file, so a comment cannot fake
// one), and, when the counts or offsets overflow 16/32 bits, the ZIP64 end record its
// locator points at. Also the ZIP64 extra field that carries an entry's 64-bit sizes.

import type { ByteSource } from '../io/bytesource.ts';
import { InputError } from '../model/errors.ts';

const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;

function u64(buf: Buffer, at: number, what: string, file: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError('ZIP_CORRUPT', file, `${what} ${v} is not plausible`);
  return Number(v);
}

export interface Directory {
  count: number;
  size: number;
  offset: number;
  /** Where the end records start: the central directory must end before. */
  endAt: number;
}

export function findDirectory(src: ByteSource): Directory {
  const file = src.name;
  if (src.size < 22) throw new InputError('ZIP_CORRUPT', file, 'too short to be a zip archive (truncated?)');
  const tailStart = Math.max(0, src.size - (22 + 0xffff));
  const tail = src.read(tailStart, src.size - tailStart);
  // The end record is the last signature whose comment length reaches exactly to the end.
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_END && i + 22 + tail.readUInt16LE(i + 20) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new InputError('ZIP_CORRUPT', file, 'no end of central directory record (truncated or not a zip)');
  const end = tail.subarray(at, at + 22);
  if (end.readUInt16LE(4) !== 0 || end.readUInt16LE(6) !== 0 || end.readUInt16LE(8) !== end.readUInt16LE(10))
    throw new InputError('ZIP_UNSUPPORTED', file, 'a multi-disk (split) zip archive is not supported');
  const dir: Directory = {
    count: end.readUInt16LE(10),
    size: end.readUInt32LE(12),
    offset: end.readUInt32LE(16),
    endAt: tailStart + at,
  };
  // ZIP64: a locator just before the end record points at the 64-bit end record.
  const locAt = tailStart + at - 20;
  if (locAt < 0) return dir;
  const loc = src.read(locAt, 20);
  if (loc.readUInt32LE(0) !== SIG_LOCATOR64) return dir;
  if (loc.readUInt32LE(4) !== 0 || loc.readUInt32LE(16) > 1)
    throw new InputError('ZIP_UNSUPPORTED', file, 'a multi-disk (split) zip archive is not supported');
  const end64At = u64(loc, 8, 'ZIP64 end record offset', file);
  const end64 = src.read(end64At, 56);
  if (end64.length < 56 || end64.readUInt32LE(0) !== SIG_END64 || end64At + 56 > locAt)
    throw new InputError('ZIP_CORRUPT', file, 'the ZIP64 end of central directory record is missing or misplaced');
  return {
    count: u64(end64, 32, 'entry count', file),
    size: u64(end64, 40, 'central directory size', file),
    offset: u64(end64, 48, 'central directory offset', file),
    endAt: end64At,
  };
}

/** A central directory entry as written, before any check. */
export interface RawEntry {
  name: string;
  flags: number;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
  disk: number;
}

// The ZIP64 extra field (0x0001) holds, in this order, only the fields whose 32-bit (16-bit
// for the disk) value is all ones.
export function applyZip64(raw: RawEntry, extra: Buffer, file: string): void {
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(p);
    const len = extra.readUInt16LE(p + 2);
    const body = extra.subarray(p + 4, p + 4 + len);
    p += 4 + len;
    if (id !== 0x0001) continue;
    let q = 0;
    const next = (what: string): number => {
      if (q + 8 > body.length) throw new InputError('ZIP_CORRUPT', file, `${raw.name}: ZIP64 extra field too short`);
      q += 8;
      return u64(body, q - 8, what, file);
    };
    if (raw.usize === 0xffffffff) raw.usize = next('uncompressed size');
    if (raw.csize === 0xffffffff) raw.csize = next('compressed size');
    if (raw.offset === 0xffffffff) raw.offset = next('local header offset');
    return;
  }
}
