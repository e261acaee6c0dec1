// Find the bundle a k3s binary embeds: `//go:embed` stores `<sha256>.tar.zst` verbatim in
// the binary's read-only data, and its name elsewhere. Nothing records where the bytes are,
// so: one pass over the file (hashing all of it on the way, so nobody reads it twice) collects
// every `<64 hex>.tar.zst` name and every zstd magic number; each magic is then walked as a
// run of frames, and the runs are hashed, largest first, until one's hash equals a name.
import { createHash, type Hash } from 'node:crypto';
import type { Finding, Location, Sha256 } from '../inventory/model.ts';
import { BundleFindings } from './bundle-findings.ts';
import type { ByteSource } from './bytesource.ts';
import { type Frame, walkFrames } from './zstdframes.ts';

export interface BundleLocation {
  /** The name the frame matched, or (when none matched) the first name found. */
  declaredHash: Sha256;
  offset: number;
  length: number;
  /** sha256 of bytes [offset, offset + length). */
  sha256: Sha256;
  /** False: the frame's hash is not its name (tampering; see K3SG-BUNDLE-HASH). */
  hashMatches: boolean;
  frames: Frame[];
}

export interface BundleSearch {
  /** sha256 of the whole file. */
  sha256: Sha256;
  size: number;
  /** Every `<hash>.tar.zst` name found, in file order. Empty: not a K3s binary. */
  declaredHashes: Sha256[];
  bundle?: BundleLocation;
  /** K3SG-BUNDLE-FRAME-MISSING when names were found but no frame. */
  findings: Finding[];
}

export interface ScanOptions {
  /** Location of the file, the base for findings (default `[src.name]`). */
  location?: Location;
  /** Bytes read per step (default 8 MiB). */
  chunkSize?: number;
}

const SUFFIX = Buffer.from('.tar.zst', 'latin1');
const NAME_LENGTH = 64 + SUFFIX.length;
const MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
/** Bounds for hostile files: more names or magic numbers than this are ignored. */
const MAX_NAMES = 64;
const MAX_MAGICS = 65_536;
/** Candidate runs hashed at most (largest first); the real bundle is by far the largest. */
const MAX_RUNS_HASHED = 8;

function isLowerHex(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

type Reader = (offset: number, length: number) => Buffer;

/**
 * Reads of up to `max` bytes, into one reused buffer when the source can (each result is
 * valid until the next read): a fresh buffer per read is garbage that, in a synchronous pass
 * over a 200 MB file, piles up until the pass ends.
 */
function reader(src: ByteSource, max: number): Reader {
  const readInto = src.readInto?.bind(src);
  if (!readInto) return (offset, length) => src.read(offset, length);
  const buf = Buffer.allocUnsafe(max);
  return (offset, length) => buf.subarray(0, readInto(buf.subarray(0, length), offset));
}

/** Hash bytes [from, to) into `hash`, in `step`-sized reads. */
function hashRange(read: Reader, hash: Hash, from: number, to: number, step: number): void {
  for (let at = from; at < to; at += step) hash.update(read(at, Math.min(step, to - at)));
}

export function scanForBundle(src: ByteSource, options: ScanOptions = {}): BundleSearch {
  const step = options.chunkSize ?? 8 * 1024 * 1024;
  const whole = createHash('sha256');
  const names: Sha256[] = [];
  const magics: number[] = [];
  // Each read starts NAME_LENGTH - 1 bytes early, so a name or magic cut by a chunk border
  // is seen whole in the next read, and a whole name is never seen twice.
  const overlap = NAME_LENGTH - 1;
  const read = reader(src, step + overlap);
  for (let pos = 0; pos < src.size; pos += step) {
    const start = Math.max(0, pos - overlap);
    const buf = read(start, pos + step - start);
    const fresh = pos - start; // buf[fresh] is file byte `pos`
    whole.update(buf.subarray(fresh));
    for (let i = buf.indexOf(SUFFIX, Math.max(0, fresh - SUFFIX.length + 1)); i >= 0; i = buf.indexOf(SUFFIX, i + 1)) {
      if (i < 64 || !isLowerHex(buf, i - 64, i)) continue;
      const name = buf.toString('latin1', i - 64, i);
      if (names.length < MAX_NAMES && !names.includes(name)) names.push(name);
    }
    for (let i = buf.indexOf(MAGIC, Math.max(0, fresh - MAGIC.length + 1)); i >= 0; i = buf.indexOf(MAGIC, i + 1)) {
      if (magics.length >= MAX_MAGICS) break;
      magics.push(start + i);
    }
  }
  const result: BundleSearch = { sha256: whole.digest('hex'), size: src.size, declaredHashes: names, findings: [] };
  if (names.length === 0) return result;

  const runs = [];
  let firstReason = 'no zstd frame magic in the file';
  for (const at of magics) {
    const run = walkFrames(src, at);
    if (run.ok) runs.push(run);
    else if (runs.length === 0) firstReason = run.reason;
  }
  const declared = names[0] as Sha256;
  if (runs.length === 0) {
    const base = [...(options.location ?? [src.name]), `bundle:${declared}`];
    const findings = new BundleFindings(base, 'embedded', src.name);
    findings.add(
      'K3SG-BUNDLE-FRAME-MISSING',
      `${src.name} names an embedded bundle ${declared}.tar.zst but holds no valid zstd frame (${magics.length} candidate offsets; first: ${firstReason}): the bundle was removed or damaged.`,
    );
    result.findings = findings.list;
    return result;
  }
  runs.sort((a, b) => b.end - b.offset - (a.end - a.offset));
  const wanted = new Set(names);
  let best: BundleLocation | undefined;
  for (const run of runs.slice(0, MAX_RUNS_HASHED)) {
    // A run may hold the bundle and, by chance, another embedded frame right after it:
    // compare the hash at every frame boundary.
    const hash = createHash('sha256');
    let at = run.offset;
    for (let i = 0; i < run.frames.length; i++) {
      const f = run.frames[i] as Frame;
      hashRange(read, hash, at, f.offset + f.length, step);
      at = f.offset + f.length;
      const last = i === run.frames.length - 1;
      const digest = last ? hash.digest('hex') : hash.copy().digest('hex');
      const location = {
        offset: run.offset,
        length: at - run.offset,
        sha256: digest,
        frames: run.frames.slice(0, i + 1),
      };
      if (wanted.has(digest)) {
        result.bundle = { declaredHash: digest, hashMatches: true, ...location };
        return result;
      }
      if (last && !best) best = { declaredHash: declared, hashMatches: false, ...location };
    }
  }
  if (best) result.bundle = best;
  return result;
}
