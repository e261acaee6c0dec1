// Find the bundle a k3s binary embeds: `//go:embed` stores `<sha256>.tar.zst` verbatim in
// the binary's read-only data, and its name elsewhere. Nothing records where the bytes are,
// so: one pass over the file (hashing all of it on the way, so nobody reads it twice) collects
// every `<64 hex>.tar.zst` name and every zstd magic number; each magic is walked as a run of
// frames, and the runs are hashed, largest first, until one's hash equals a name (scanForBundle
// hashes the runs in the same pass; chooseRun reads them again, for a search that did not).
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
  /** With `hashRuns`: the runs of frames at the magics, hashed in the same pass. */
  runs?: HashedRuns;
}

interface HashedRun {
  run: Run;
  hash: Hash;
  /** The next byte of the run to hash. */
  at: number;
  /** Digests at the end of each frame hashed so far. */
  digests: Sha256[];
}

/**
 * The runs of frames a pass meets, hashed by the pass itself so the bundle costs no second
 * read: each magic is walked when the pass finds it (it is in the buffer at hand, so its run
 * can be hashed from its first byte), and the MAX_RUNS_HASHED largest runs are kept (largest
 * first, file order among equals: the runs chooseRun would hash). A run that falls out of
 * the largest stops being hashed.
 */
export class HashedRuns {
  private readonly kept: HashedRun[] = [];
  /** Valid runs met (kept or not). */
  count = 0;
  /** Why the magics before the first valid run are none (as frameRuns reports it). */
  firstReason = 'no zstd frame magic in the file';

  /** Walk the run of frames at the magic at `at`. */
  add(src: ByteSource, at: number): void {
    const run = walkFrames(src, at);
    if (!run.ok) {
      if (this.count === 0) this.firstReason = run.reason;
      return;
    }
    this.count++;
    const size = run.end - run.offset;
    let i = this.kept.length;
    while (i > 0 && size > (this.kept[i - 1] as HashedRun).run.end - (this.kept[i - 1] as HashedRun).run.offset) i--;
    if (i >= MAX_RUNS_HASHED) return;
    this.kept.splice(i, 0, { run, hash: createHash('sha256'), at: run.offset, digests: [] });
    this.kept.length = Math.min(this.kept.length, MAX_RUNS_HASHED);
  }

  /** Hash what `buf` (the file's bytes from `start`) holds of each kept run, frame by frame. */
  feed(buf: Buffer, start: number): void {
    const end = start + buf.length;
    for (const r of this.kept) {
      for (let f = r.run.frames[r.digests.length]; f !== undefined && r.at < end; f = r.run.frames[r.digests.length]) {
        const frameEnd = f.offset + f.length;
        const to = Math.min(frameEnd, end);
        if (to > r.at) r.hash.update(buf.subarray(r.at - start, to - start));
        r.at = to;
        if (to < frameEnd) break;
        const last = r.digests.length === r.run.frames.length - 1;
        r.digests.push(last ? r.hash.digest('hex') : r.hash.copy().digest('hex'));
      }
    }
  }

  /**
   * The first run (largest first) whose hash at one of its frame boundaries is a name; none:
   * the largest run, with hashMatches false (chooseRun's answer, from the same bytes).
   */
  choose(names: readonly Sha256[]): BundleLocation | undefined {
    const wanted = new Set(names);
    const location = (r: HashedRun, i: number) => {
      const frames = r.run.frames.slice(0, i + 1);
      const last = frames[i] as Frame;
      return {
        offset: r.run.offset,
        length: last.offset + last.length - r.run.offset,
        sha256: r.digests[i] as Sha256,
        frames,
      };
    };
    for (const r of this.kept) {
      const i = r.digests.findIndex((d) => wanted.has(d));
      if (i >= 0) return { declaredHash: r.digests[i] as Sha256, hashMatches: true, ...location(r, i) };
    }
    const largest = this.kept[0];
    // A run the file ended inside (it shrank under the pass) has no last digest: no bundle.
    if (!largest || largest.digests.length !== largest.run.frames.length) return undefined;
    return { declaredHash: names[0] as Sha256, hashMatches: false, ...location(largest, largest.digests.length - 1) };
  }
}

/**
 * One pass over the file in `step`-sized reads: every `<64 hex>.tar.zst` name and every zstd
 * magic number, and the sha256 of the whole file when `hash` is set. The needles searched for
 * are the rare tails (`zst`, `b5 2f fd`), then checked in full: Buffer.indexOf of a needle
 * with a common first byte (`.`, `28`) is several times slower over a 100 MB binary.
 */
export function searchFile(
  src: ByteSource,
  opts: { hash: boolean; hashRuns?: boolean; chunkSize?: number },
): FileSearch {
  // Without a hash to compute, the bytes of a large frame need not be read at all: a name or
  // magic inside compressed data means nothing. So a large run found is jumped over.
  const skipRuns = !opts.hash;
  const step = opts.chunkSize ?? 8 * 1024 * 1024;
  const whole = opts.hash ? createHash('sha256') : undefined;
  const names: Sha256[] = [];
  const magics: number[] = [];
  const runs = opts.hashRuns ? new HashedRuns() : undefined;
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
      runs?.add(src, at);
      if (!skipRuns) continue;
      const run = walkFrames(src, at);
      if (run.ok && run.end - run.offset >= SKIP_RUN_BYTES && run.end > pos + step) {
        skipTo = run.end;
        break;
      }
    }
    runs?.feed(buf, start);
    // Continue at the run's end: the next read starts `overlap` bytes before `pos`.
    if (skipTo > 0) pos = skipTo - step;
  }
  const found: FileSearch = whole ? { sha256: whole.digest('hex'), names, magics } : { names, magics };
  if (runs) found.runs = runs;
  return found;
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

/**
 * Where the bundle is, verified against its name, and the sha256 of the whole file: one read
 * of every byte (the runs of frames are walked and hashed as the pass meets them).
 */
export function scanForBundle(src: ByteSource, options: ScanOptions = {}): BundleSearch {
  const found = searchFile(src, { hash: true, hashRuns: true, chunkSize: options.chunkSize });
  const runs = found.runs as HashedRuns;
  const result: BundleSearch = {
    sha256: found.sha256 as Sha256,
    size: src.size,
    declaredHashes: found.names,
    findings: [],
  };
  if (found.names.length === 0) return result;
  if (runs.count === 0) {
    result.findings = frameMissing(
      src,
      options.location,
      found.names[0] as Sha256,
      found.magics.length,
      runs.firstReason,
    );
    return result;
  }
  const bundle = runs.choose(found.names);
  if (bundle) result.bundle = bundle;
  return result;
}
