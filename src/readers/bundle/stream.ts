// Read a located embedded bundle in one streaming pass, in memory: the frame's bytes are
// read from the file, decompressed by node:zlib's zstd (on the libuv thread pool) and parsed
// as tar, each member hashed on the main thread while the pool decompresses the next chunk.
// Limits stop a zstd bomb early (ZSTD_LIMIT) and bound the decoder's window memory.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { ByteSource } from '../../io/bytesource.ts';
import { TarReader } from '../../io/tar.ts';
import { decompressFrame } from '../../io/zstd-stream.ts';
import { InputError } from '../../model/errors.ts';
import type { Sha256 } from '../../model/inventory.ts';
import { LIMITS } from '../../model/limits.ts';
import { TarMemberCollector } from './collect.ts';
import { BundleFindings } from './findings.ts';
import { type BundleLocation, chooseRun, type Run } from './locate.ts';
import { checkManifests } from './manifest.ts';
import type { BundleReadOptions, BundleScan } from './types.ts';

export type { BundleLocation } from './locate.ts';
export type { BundleMember, BundleScan, FileMember, OnElf } from './types.ts';

export interface EmbeddedReadOptions extends BundleReadOptions {
  /** Stop past this many decompressed bytes: ZSTD_LIMIT (default 2 GiB). */
  maxBytes?: number;
  /** Refuse frames whose window is over 2^maxWindowLog bytes (default 27, libzstd's default). */
  maxWindowLog?: number;
}

const PROGRESS_EVERY = 64 * 1024 * 1024;

/**
 * Decompress the frames of `location` from `path` into the tar reader and collector.
 * Throws InputError (ZSTD_*, TAR_*, UNSAFE_PATH) for anything wrong with the bundle;
 * `decompressed.bytes` counts the output so far either way.
 */
async function streamTar(
  path: string,
  location: Pick<BundleLocation, 'frames'>,
  file: string,
  options: EmbeddedReadOptions,
  collector: TarMemberCollector,
  decompressed: { bytes: number },
  onFrameInput?: (frame: number, bytes: Buffer) => void,
): Promise<void> {
  const maxBytes = options.maxBytes ?? LIMITS.bundleBytes;
  const maxWindowLog = options.maxWindowLog ?? LIMITS.zstdWindowLog;
  const tar = new TarReader(file, undefined, 'bundle tar');
  let nextProgress = PROGRESS_EVERY;
  const fh = await open(path, 'r').catch((e: unknown) => {
    throw new InputError('UNREADABLE', file, `cannot open: ${e instanceof Error ? e.message : String(e)}`);
  });
  try {
    // node:zlib does not continue past the end of a zstd frame, so each frame gets its own
    // decompressor; the tar stream runs on across them. Skippable frames hold no content.
    for (const [index, frame] of location.frames.entries()) {
      if (frame.kind !== 'zstd') {
        // A skippable frame holds no content, but its bytes are part of the bundle's hash.
        if (onFrameInput) {
          const bytes = Buffer.alloc(frame.length);
          await fh.read(bytes, 0, frame.length, frame.offset);
          onFrameInput(index, bytes);
        }
        continue;
      }
      const onInput = onFrameInput && ((bytes: Buffer) => onFrameInput(index, bytes));
      // The first failure to parse what came out (tar, paths, the caller's onElf) stops the
      // parsing, but the frame is still decompressed to its end: if zstd then finds the data
      // corrupt (its checksum comes last), that is the real cause and is what gets reported.
      let failure: unknown;
      await decompressFrame(fh, frame.offset, frame.length, { file, maxWindowLog, onInput }, async (chunk) => {
        decompressed.bytes += chunk.length;
        const total = decompressed.bytes;
        if (total > maxBytes) {
          throw (
            failure ??
            new InputError(
              'ZSTD_LIMIT',
              file,
              `bundle decompresses to more than ${maxBytes} bytes (the limit; see --max-bundle-size)`,
            )
          );
        }
        if (failure !== undefined) return;
        if (total >= nextProgress) {
          options.progress?.(`reading bundle: ${Math.floor(total / 1024 / 1024)} MiB`);
          nextProgress += PROGRESS_EVERY;
        }
        try {
          for (const ev of tar.feed(chunk)) {
            const wait = collector.handle(ev);
            if (wait) await wait;
          }
        } catch (e) {
          failure = e;
        }
      });
      if (failure !== undefined) throw failure;
    }
  } finally {
    await fh.close();
  }
  tar.finish();
  collector.finish();
}

interface Collected {
  collector: TarMemberCollector;
  bytes: number;
  /** Why reading stopped early; undefined when the whole bundle was read. */
  error?: InputError;
}

/** Stream the frames of `location` into a fresh collector; reading errors are returned, not thrown. */
async function collect(
  path: string,
  location: Pick<BundleLocation, 'frames'>,
  file: string,
  options: EmbeddedReadOptions,
  onFrameInput?: (frame: number, bytes: Buffer) => void,
): Promise<Collected> {
  const collector = new TarMemberCollector({
    file,
    sourcePrefix: `${file}!bundle/`,
    onElf: options.onElf,
    maxElfMemberBytes: options.maxElfMemberBytes,
    maxMembers: options.maxMembers,
  });
  const decompressed = { bytes: 0 };
  try {
    await streamTar(path, location, file, options, collector, decompressed, onFrameInput);
    return { collector, bytes: decompressed.bytes };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { collector, bytes: decompressed.bytes, error: e };
  }
}

/**
 * The scan of a bundle that was read: tampering as findings. A read failure is thrown when
 * the frame's hash matched its name (a consistent bundle that is corrupt); when it did not,
 * the failure becomes a finding (K3SG-BUNDLE-UNREADABLE) so the report keeps the tampering.
 */
function finishScan(location: BundleLocation, got: Collected, file: string, options: EmbeddedReadOptions): BundleScan {
  const base = options.location ?? [file, `bundle:${location.declaredHash}`];
  const findings = new BundleFindings(base, 'embedded', file);
  if (!location.hashMatches) {
    findings.add(
      'K3SG-BUNDLE-HASH',
      `The embedded bundle (${location.length} bytes at offset ${location.offset}) has sha256 ${location.sha256}, but its name says ${location.declaredHash}: it was replaced or modified after the binary was built.`,
    );
  }
  const { collector } = got;
  if (got.error) {
    if (location.hashMatches) throw got.error;
    findings.add('K3SG-BUNDLE-UNREADABLE', `The tampered bundle cannot be read: ${got.error.message}.`);
  } else {
    for (const path of new Set(collector.duplicates)) {
      findings.add(
        'K3SG-BUNDLE-MEMBER-DUPLICATE',
        `${path} appears more than once; extraction keeps the last one.`,
        path,
      );
    }
    for (const path of collector.loops) {
      findings.add('K3SG-BUNDLE-SYMLINK-LOOP', `${path} is a symlink that never resolves (a loop).`, path);
    }
    checkManifests(collector.members, collector.sums, collector.links, findings);
  }
  const members = [...collector.members.values()];
  return {
    source: 'embedded',
    location: base,
    declaredHash: location.declaredHash,
    sha256: location.sha256,
    offset: location.offset,
    compressedSize: location.length,
    uncompressedSize: got.bytes,
    members,
    links: members.flatMap((m) => (m.type === 'symlink' ? [{ name: m.path, target: m.linkTarget }] : [])),
    findings: findings.list,
  };
}

/**
 * Read the embedded bundle at `location` in `path` (verified by scanForBundle): every member
 * hashed, ELF members handed to `onElf`, both manifests checked.
 */
export async function readEmbeddedBundle(
  path: string,
  location: BundleLocation,
  options: EmbeddedReadOptions = {},
): Promise<BundleScan> {
  const file = options.displayName ?? path;
  return finishScan(location, await collect(path, location, file, options), file, options);
}

/**
 * Read the largest run of frames as the bundle, hashing its bytes in the same pass that
 * decompresses them, so the common case reads the frame once. Only when that hash is not a
 * declared name (tampering, or an odd layout) are the candidates hashed one by one
 * (chooseRun) and the right one read, or the largest reported as not matching its name.
 */
export async function readBundleVerifying(
  path: string,
  src: ByteSource,
  names: readonly Sha256[],
  runs: readonly Run[],
  options: EmbeddedReadOptions = {},
): Promise<BundleScan> {
  const file = options.displayName ?? path;
  const run = runs[0];
  if (!run) throw new Error('readBundleVerifying: no candidate run');
  const hash = createHash('sha256');
  const got = await collect(path, run, file, options, (_frame, bytes) => hash.update(bytes));
  const sha256 = hash.digest('hex');
  const streamed: BundleLocation = {
    declaredHash: sha256,
    hashMatches: true,
    offset: run.offset,
    length: run.end - run.offset,
    sha256,
    frames: run.frames,
  };
  if (!got.error && names.includes(sha256)) return finishScan(streamed, got, file, options);
  const chosen = chooseRun(src, runs, names);
  if (!chosen) throw new Error('readBundleVerifying: no run chosen');
  // Same bytes as streamed: what was read stands (a failure is thrown if the hash matched,
  // a finding if not). Another run matched: read that one instead.
  if (chosen.offset === run.offset && chosen.length === streamed.length) return finishScan(chosen, got, file, options);
  return readEmbeddedBundle(path, chosen, options);
}
