// Read a located embedded bundle in one streaming pass, in memory: the frame's bytes are
// read from the file, decompressed by node:zlib's zstd (on the libuv thread pool) and parsed
// as tar, each member hashed on the main thread while the pool decompresses the next chunk.
// Limits stop a zstd bomb early (ZSTD_LIMIT) and bound the decoder's window memory.
import { open } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import { TarMemberCollector } from './bundle-collect.ts';
import { BundleFindings } from './bundle-findings.ts';
import type { BundleLocation } from './bundle-locate.ts';
import { checkManifests } from './bundle-manifest.ts';
import type { BundleReadOptions, BundleScan } from './bundle-types.ts';
import { TarReader } from './tar.ts';
import { decompressFrame } from './zstd-stream.ts';

export type { BundleLocation } from './bundle-locate.ts';
export type { BundleMember, BundleScan, FileMember, OnElf } from './bundle-types.ts';

export interface EmbeddedReadOptions extends BundleReadOptions {
  /** Stop past this many decompressed bytes: ZSTD_LIMIT (default 2 GiB). */
  maxBytes?: number;
  /** Refuse frames whose window is over 2^maxWindowLog bytes (default 27, libzstd's default). */
  maxWindowLog?: number;
}

export const DEFAULT_MAX_BUNDLE_BYTES = 2 * 1024 ** 3;
export const DEFAULT_MAX_WINDOW_LOG = 27;
const PROGRESS_EVERY = 64 * 1024 * 1024;

/**
 * Decompress the frames of `location` from `path` into the tar reader and collector.
 * Throws InputError (ZSTD_*, TAR_*, UNSAFE_PATH) for anything wrong with the bundle;
 * `decompressed.bytes` counts the output so far either way.
 */
async function streamTar(
  path: string,
  location: BundleLocation,
  file: string,
  options: EmbeddedReadOptions,
  collector: TarMemberCollector,
  decompressed: { bytes: number },
): Promise<void> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  const maxWindowLog = options.maxWindowLog ?? DEFAULT_MAX_WINDOW_LOG;
  const tar = new TarReader(file);
  let nextProgress = PROGRESS_EVERY;
  const fh = await open(path, 'r').catch((e: unknown) => {
    throw new InputError('UNREADABLE', file, `cannot open: ${e instanceof Error ? e.message : String(e)}`);
  });
  try {
    // node:zlib does not continue past the end of a zstd frame, so each frame gets its own
    // decompressor; the tar stream runs on across them. Skippable frames hold no content.
    for (const frame of location.frames) {
      if (frame.kind !== 'zstd') continue;
      // The first failure to parse what came out (tar, paths, the caller's onElf) stops the
      // parsing, but the frame is still decompressed to its end: if zstd then finds the data
      // corrupt (its checksum comes last), that is the real cause and is what gets reported.
      let failure: unknown;
      await decompressFrame(fh, frame.offset, frame.length, { file, maxWindowLog }, async (chunk) => {
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

/**
 * Read the embedded bundle at `location` in `path` (from scanForBundle): every member
 * hashed, ELF members handed to `onElf`, both manifests checked. Tampering is reported as
 * findings; input that cannot be read safely throws InputError, except that when the
 * frame's hash already differs from its name, a read failure becomes a finding too
 * (K3SG-BUNDLE-UNREADABLE) so the report keeps the tampering finding.
 */
export async function readEmbeddedBundle(
  path: string,
  location: BundleLocation,
  options: EmbeddedReadOptions = {},
): Promise<BundleScan> {
  const file = options.displayName ?? path;
  const base = options.location ?? [file, `bundle:${location.declaredHash}`];
  const findings = new BundleFindings(base, 'embedded', file);
  if (!location.hashMatches) {
    findings.add(
      'K3SG-BUNDLE-HASH',
      `The embedded bundle (${location.length} bytes at offset ${location.offset}) has sha256 ${location.sha256}, but its name says ${location.declaredHash}: it was replaced or modified after the binary was built.`,
    );
  }
  const collector = new TarMemberCollector({
    file,
    sourcePrefix: `${file}!bundle/`,
    onElf: options.onElf,
    maxElfMemberBytes: options.maxElfMemberBytes,
    maxMembers: options.maxMembers,
  });
  const decompressed = { bytes: 0 };
  let complete = true;
  try {
    await streamTar(path, location, file, options, collector, decompressed);
  } catch (e) {
    if (location.hashMatches || !(e instanceof InputError)) throw e;
    complete = false;
    findings.add('K3SG-BUNDLE-UNREADABLE', `The tampered bundle cannot be read: ${e.message}.`);
  }
  if (complete) {
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
    uncompressedSize: decompressed.bytes,
    members,
    links: members.flatMap((m) => (m.type === 'symlink' ? [{ name: m.path, target: m.linkTarget }] : [])),
    findings: findings.list,
  };
}
