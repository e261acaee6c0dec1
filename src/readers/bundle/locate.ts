// Find the bundle a k3s binary embeds: `//go:embed` stores `<sha256>.tar.zst` verbatim in
// the binary's read-only data, and its name elsewhere. Nothing records where the bytes are,
// so: one pass over the file (hashing all of it on the way, so nobody reads it twice) collects
// every `<64 hex>.tar.zst` name and every zstd magic number; each magic is then walked as a
// run of frames, and the runs are hashed, largest first, until one's hash equals a name.
import { createHash, type Hash } from 'node:crypto';
import type { ByteSource } from '../../io/bytesource.ts';
import type { Finding, Location, Sha256 } from '../../model/inventory.ts';
import { BundleFindings } from './findings.ts';
import { type Frame, type FrameRun, walkFrames } from './zstd-frames.ts';

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
const MAGIC_TAIL = MAGIC.subarray(1);
const ZST = Buffer.from('zst', 'latin1');
/** Bounds for hostile files: more names or magic numbers than this are ignored. */
const MAX_NAMES = 64;
const MAX_MAGICS = 65_536;
/** Candidate runs hashed at most (largest first); the real bundle is by far the largest. */
const MAX_RUNS_HASHED = 8;
/** A run of frames this large is jumped over by a search that is not hashing the file. */
const SKIP_RUN_BYTES = 1024 * 1024;

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
  const buf = scratch(max);
  return (offset, length) => buf.subarray(0, readInto(buf.subarray(0, length), offset));
}

// One scratch buffer per thread, reused from file to file: a fresh 8 MiB buffer per file costs
// its page faults again each time (measured: a third of the system time of a folder scan).
// Safe because a search or a hash runs to its end synchronously before the next begins.
let scratchBuf: Buffer | undefined;
function scratch(size: number): Buffer {
  if (!scratchBuf || scratchBuf.length < size) scratchBuf = Buffer.allocUnsafe(size);
  return scratchBuf;
}

/** Hash bytes [from, to) into `hash`, in `step`-sized reads. */
function hashRange(read: Reader, hash: Hash, from: number, to: number, step: number): void {
  for (let at = from; at < to; at += step) hash.update(read(at, Math.min(step, to - at)));
}

/** What one pass over a file finds: its hash (when asked for), bundle names, zstd magics. */
export interface FileSearch {
  sha256?: Sha256;
  names: Sha256[];
  magics: number[];
}

/**
 * One pass over the file in `step`-sized reads: every `<64 hex>.tar.zst` name and every zstd
 * magic number, and the sha256 of the whole file when `hash` is set. The needles searched for
 * are the rare tails (`zst`, `b5 2f fd`), then checked in full: Buffer.indexOf of a needle
 * with a common first byte (`.`, `28`) is several times slower over a 100 MB binary.
 */
export function searchFile(src: ByteSource, opts: { hash: boolean; chunkSize?: number }): FileSearch {
  // Without a hash to compute, the bytes of a large frame need not be read at all: a name or
  // magic inside compressed data means nothing. So a large run found is jumped over.
  const skipRuns = !opts.hash;
  const step = opts.chunkSize ?? 8 * 1024 * 1024;
  const whole = opts.hash ? createHash('sha256') : undefined;
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
    whole?.update(buf.subarray(fresh));
    // `zst` ends at i + 3; the name ends there too and must end at or after `fresh`.
    for (let i = buf.indexOf(ZST, Math.max(0, fresh - ZST.length)); i >= 0; i = buf.indexOf(ZST, i + 1)) {
      const nameStart = i + ZST.length - NAME_LENGTH;
      if (nameStart < 0 || i + ZST.length <= fresh) continue;
      if (buf.compare(SUFFIX, 0, SUFFIX.length, nameStart + 64, nameStart + NAME_LENGTH) !== 0) continue;
      if (!isLowerHex(buf, nameStart, nameStart + 64)) continue;
      const name = buf.toString('latin1', nameStart, nameStart + 64);
      if (names.length < MAX_NAMES && !names.includes(name)) names.push(name);
    }
    // The magic starts at i - 1 and was not whole in the previous read unless it ended by
    // `fresh`: so it starts at fresh - 3 or later.
    let skipTo = 0;
    for (let i = buf.indexOf(MAGIC_TAIL, Math.max(1, fresh - 2)); i >= 0; i = buf.indexOf(MAGIC_TAIL, i + 1)) {
      if (magics.length >= MAX_MAGICS) break;
      if (buf[i - 1] !== MAGIC[0]) continue;
      const at = start + i - 1;
      magics.push(at);
      if (!skipRuns) continue;
      const run = walkFrames(src, at);
      if (run.ok && run.end - run.offset >= SKIP_RUN_BYTES && run.end > pos + step) {
        skipTo = run.end;
        break;
      }
    }
    // Continue at the run's end: the next read starts `overlap` bytes before `pos`.
    if (skipTo > 0) pos = skipTo - step;
  }
  return whole ? { sha256: whole.digest('hex'), names, magics } : { names, magics };
}

export type Run = Extract<FrameRun, { ok: true }>;

/** Every valid run of frames starting at a magic, largest first; why none, when none. */
export function frameRuns(src: ByteSource, magics: readonly number[]): { runs: Run[]; firstReason: string } {
  const runs: Run[] = [];
  let firstReason = 'no zstd frame magic in the file';
  for (const at of magics) {
    const run = walkFrames(src, at);
    if (run.ok) runs.push(run);
    else if (runs.length === 0) firstReason = run.reason;
  }
  runs.sort((a, b) => b.end - b.offset - (a.end - a.offset));
  return { runs, firstReason };
}

/** The K3SG-BUNDLE-FRAME-MISSING finding: a bundle is named but no frame is there. */
export function frameMissing(
  src: ByteSource,
  location: Location | undefined,
  declared: Sha256,
  magics: number,
  why: string,
): Finding[] {
  const base = [...(location ?? [src.name]), `bundle:${declared}`];
  const findings = new BundleFindings(base, 'embedded', src.name);
  findings.add(
    'K3SG-BUNDLE-FRAME-MISSING',
    `${src.name} names an embedded bundle ${declared}.tar.zst but holds no valid zstd frame (${magics} candidate offsets; first: ${why}): the bundle was removed or damaged.`,
  );
  return findings.list;
}

/**
 * Hash the runs (largest first, at most MAX_RUNS_HASHED) until one's hash, at one of its
 * frame boundaries, is a declared name. None: the largest run, with hashMatches false.
 */
export function chooseRun(
  src: ByteSource,
  runs: readonly Run[],
  names: readonly Sha256[],
  step = 8 * 1024 * 1024,
): BundleLocation | undefined {
  const read = reader(src, step);
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
      if (wanted.has(digest)) return { declaredHash: digest, hashMatches: true, ...location };
      if (last && !best) best = { declaredHash: names[0] as Sha256, hashMatches: false, ...location };
    }
  }
  return best;
}

/** Search, walk and hash: where the bundle is, verified against its name. */
export function scanForBundle(src: ByteSource, options: ScanOptions = {}): BundleSearch {
  const found = searchFile(src, { hash: true, chunkSize: options.chunkSize });
  const result: BundleSearch = {
    sha256: found.sha256 as Sha256,
    size: src.size,
    declaredHashes: found.names,
    findings: [],
  };
  if (found.names.length === 0) return result;
  const { runs, firstReason } = frameRuns(src, found.magics);
  if (runs.length === 0) {
    result.findings = frameMissing(src, options.location, found.names[0] as Sha256, found.magics.length, firstReason);
    return result;
  }
  const bundle = chooseRun(src, runs, found.names, options.chunkSize);
  if (bundle) result.bundle = bundle;
  return result;
}
