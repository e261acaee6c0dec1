// Where an image comes from: a tar archive (plain, gzip or zstd; sniffed by magic) read in
// one streaming pass, or an OCI layout directory. Either way every regular file goes through
// a MemberHasher and nothing is written to disk. Archive member names follow the bundle's
// hostile-path rules: an absolute name or a `..` component is an error, and links between
// members are resolved inside the archive's own tree; links that would lead out of it when
// unpacked are findings (archive-links.ts).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, pipeline as streamPipeline } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGunzip, createZstdDecompress } from 'node:zlib';
import { escapeReason, normalizeMemberPath, quoteMemberName } from '../../io/member-paths.ts';
import { type RootedSymlink, resolveRooted } from '../../io/rooted-path.ts';
import { TarReader } from '../../io/tar.ts';
import { detectTarget } from '../../io/target.ts';
import { InputError } from '../../model/errors.ts';
import { ArchiveLinkCheck, type ArchiveLinkProblem } from './archive-links.ts';
import { type HashedMember, type JsonBudget, MemberHasher, type RecorderFactory } from './blobhash.ts';
import type { Compression, ImageLimits } from './types.ts';

const READ_CHUNK = 1024 * 1024;
/** Outer zstd window cap: 2^27 covers `zstd --long=27` and below (K3s uses --long=25). */
const OUTER_ZSTD_WINDOW_LOG_MAX = 27;

export interface CollectedMembers {
  kind: 'archive' | 'directory';
  compression: Compression;
  /** sha256 of the archive file as read (archives only): one read gives its digest too. */
  sha256?: string;
  /** Bytes of the archive file that sha256 covers (archives only). */
  size?: number;
  /** Regular files by clean path. */
  files: Map<string, HashedMember>;
  /** Symlinks and hard links by clean path -> target as stored (archives only). */
  links: Map<string, { target: string; hard: boolean }>;
  /** Links that would lead out of the archive once unpacked (archives only). */
  linkProblems: ArchiveLinkProblem[];
}

/** The member a path names, following the archive's links; undefined if none. */
export function lookupMember(c: CollectedMembers, file: string, path: string): HashedMember | undefined {
  const clean = normalizeMemberPath(path);
  if (!clean.ok) throw new InputError('UNSAFE_PATH', file, `image: reference ${quoteMemberName(path)} ${clean.reason}`);
  const where = resolveRooted(clean.path, { lookup: (at) => archiveNode(c, file, at), leaving: 'escape' });
  if (where.kind === 'escape')
    throw new InputError('UNSAFE_PATH', file, `image: link ${where.at || path} ${escapeReason(where)}`);
  if (where.kind === 'loop') throw new InputError('SYMLINK_LOOP', file, `image: link ${where.at} loops`);
  return c.files.get(where.path);
}

/**
 * A member as the walk sees it. Only files and links are recorded, so any other path passes
 * as a directory. A hard link names its target from the archive root: as a symlink, that is
 * the target climbed to from the link's own directory.
 */
function archiveNode(c: CollectedMembers, file: string, at: string): { kind: 'dir' | 'other' } | RootedSymlink {
  if (c.files.has(at)) return { kind: 'other' };
  const link = c.links.get(at);
  if (!link) return { kind: 'dir' };
  if (!link.hard) return { kind: 'symlink', target: link.target };
  const t = normalizeMemberPath(link.target);
  if (!t.ok) throw new InputError('UNSAFE_PATH', file, `image: hard link ${at} ${t.reason}`);
  const depth = at.split('/').length - 1;
  return { kind: 'symlink', target: '../'.repeat(depth) + t.path };
}

/** Every member hashed; with `recorders`, every possible layer also recorded in the same pass. */
export type ProgressCallback = (read: number, total: number) => void;

const PROGRESS_STEP = 64 * 1024 * 1024;

/** Calls `cb` as bytes go by, at most once per PROGRESS_STEP. */
function progressCounter(total: number, cb: ProgressCallback | undefined): (n: number) => void {
  if (!cb) return () => {};
  let read = 0;
  let next = PROGRESS_STEP;
  return (n) => {
    read += n;
    if (read >= next) {
      next = read + PROGRESS_STEP;
      cb(read, total);
    }
  };
}

/**
 * Part of a directory shaped like an OCI layout (`blobs/sha256/<hex>`) with an index.json
 * that is not in it: containerd's content store holds the blobs of every image it has, and
 * no index. Only the listed blobs are read; `index` stands for index.json.
 */
export interface LayoutSelection {
  /** The index.json to use, as bytes (hashed and kept like a file's). */
  index: Buffer;
  /** `sha256:<hex>` digests of the blobs to read; those absent from the directory are skipped. */
  blobs: readonly string[];
  /**
   * Normalized references to give the images the index leads to, besides its annotations' one
   * (containerd keeps a record per name, all pointing at the same target).
   */
  names?: readonly string[];
}

export async function collectMembers(
  file: string,
  limits: ImageLimits,
  recorders?: RecorderFactory,
  onProgress?: ProgressCallback,
  selection?: LayoutSelection,
): Promise<CollectedMembers> {
  // Any folder is read as a layout and any file as an archive: what is missing from one (no
  // index.json, not a tar) is then reported as the image problem it is.
  const target = detectTarget(file);
  if (target.stats.isDirectory()) return collectDirectory(file, limits, recorders, onProgress, selection);
  if (selection) throw new InputError('USAGE', file, 'image: a blob selection is for a directory, not an archive');
  const compression = target.kind === 'image-archive' ? target.compression : 'none';
  return collectArchive(file, compression, limits, recorders, progressCounter(target.stats.size, onProgress));
}

/** Decompression and read errors as coded InputErrors. */
export function streamError(file: string, compression: Compression, e: unknown): unknown {
  if (e instanceof InputError || !(e instanceof Error)) return e;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (code.startsWith('Z_') || code.startsWith('ZSTD_') || code.startsWith('ERR_ZLIB')) {
    const why = code === 'Z_BUF_ERROR' ? 'truncated' : e.message;
    return new InputError('IMAGE_CORRUPT', file, `image: corrupt ${compression} compression: ${why}`, { cause: e });
  }
  return new InputError('UNREADABLE', file, `image: ${e.message}`, { cause: e });
}

async function collectArchive(
  file: string,
  compression: Compression,
  limits: ImageLimits,
  recorders: RecorderFactory | undefined,
  onBytes: (n: number) => void,
): Promise<CollectedMembers> {
  const out: CollectedMembers = { kind: 'archive', compression, files: new Map(), links: new Map(), linkProblems: [] };
  const budget: JsonBudget = { left: limits.maxJsonTotal };
  const tar = new TarReader(file, undefined, 'image archive tar');
  let current: { path: string; hasher: MemberHasher } | undefined;
  const seen = new Set<string>();
  const linkCheck = new ArchiveLinkCheck();
  let entries = 0;
  const consume = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      for (const ev of tar.feed(chunk)) {
        if (ev.type === 'entry') {
          const e = ev.entry;
          // Each member costs memory however small it is: a million empty ones gzip to a few MB.
          if (++entries > limits.maxArchiveMembers) {
            throw new InputError('IMAGE_LIMIT', file, `image archive: more than ${limits.maxArchiveMembers} members`);
          }
          const clean = normalizeMemberPath(e.name);
          if (!clean.ok) {
            throw new InputError(
              'UNSAFE_PATH',
              file,
              `image archive: member ${JSON.stringify(e.name)} ${clean.reason}`,
            );
          }
          if (clean.path !== '' && seen.has(clean.path) && e.type !== 'dir') {
            throw new InputError('IMAGE_CORRUPT', file, `image archive: member ${clean.path} appears twice`);
          }
          seen.add(clean.path);
          linkCheck.member(clean.path, e.type, e.linkname);
          if (e.type === 'file') {
            current = { path: clean.path, hasher: new MemberHasher(file, clean.path, limits, budget, recorders) };
            if (e.size === 0) await finishMember();
          } else if (e.type === 'symlink' || e.type === 'hardlink') {
            out.links.set(clean.path, { target: e.linkname, hard: e.type === 'hardlink' });
          } else if (e.type !== 'dir') {
            throw new InputError('IMAGE_CORRUPT', file, `image archive: unexpected ${e.type} member ${clean.path}`);
          }
        } else if (ev.type === 'data') {
          await current?.hasher.write(ev.data);
        } else {
          await finishMember();
        }
      }
    }
    tar.finish();
    out.linkProblems = linkCheck.finish();
  };
  const finishMember = async (): Promise<void> => {
    if (!current) return;
    const { path, hasher } = current;
    current = undefined;
    out.files.set(path, await hasher.end());
  };
  try {
    const fileHash = createHash('sha256');
    let size = 0;
    await pipeline(
      openTarStream(file, compression, (chunk) => {
        fileHash.update(chunk);
        size += chunk.length;
        onBytes(chunk.length);
      }),
      consume,
    );
    out.sha256 = fileHash.digest('hex');
    out.size = size;
  } catch (e) {
    throw streamError(file, compression, e);
  }
  return out;
}

/**
 * The archive's tar bytes, decompressed as they are read. Destroying the returned stream (an
 * early `return` from `for await`) stops the read; read errors surface on it.
 */
export function openTarStream(file: string, compression: Compression, onBytes?: (chunk: Buffer) => void): Readable {
  const src = createReadStream(file, { highWaterMark: READ_CHUNK });
  if (onBytes) src.on('data', (chunk) => onBytes(chunk as Buffer));
  if (compression === 'none') return src;
  const inflate =
    compression === 'gzip'
      ? createGunzip({ chunkSize: READ_CHUNK })
      : createZstdDecompress({
          chunkSize: READ_CHUNK,
          params: { [constants.ZSTD_d_windowLogMax]: OUTER_ZSTD_WINDOW_LOG_MAX },
        });
  // The callback form: errors of either stage destroy both, and reach the caller on `inflate`.
  return streamPipeline(src, inflate, () => {});
}

/**
 * The files of an OCI layout: index.json, oci-layout, manifest.json and blobs/<alg>/<hex>; or,
 * with a selection, its index.json and the blobs it lists.
 */
async function collectDirectory(
  dir: string,
  limits: ImageLimits,
  recorders: RecorderFactory | undefined,
  onProgress: ProgressCallback | undefined,
  selection: LayoutSelection | undefined,
): Promise<CollectedMembers> {
  const out: CollectedMembers = {
    kind: 'directory',
    compression: 'none',
    files: new Map(),
    links: new Map(),
    linkProblems: [],
  };
  const budget: JsonBudget = { left: limits.maxJsonTotal };
  const paths = selection ? await selectedPaths(dir, selection) : await layoutPaths(dir);
  if (selection) {
    const hasher = new MemberHasher(dir, 'index.json', limits, budget);
    await hasher.write(selection.index);
    out.files.set('index.json', await hasher.end());
  }
  if (paths.length > limits.maxArchiveMembers) {
    throw new InputError('IMAGE_LIMIT', dir, `image layout: more than ${limits.maxArchiveMembers} files`);
  }
  let total = 0;
  for (const path of paths) total += (await lstat(join(dir, path))).size;
  const onBytes = progressCounter(total, onProgress);
  for (const path of paths) {
    const hasher = new MemberHasher(dir, path, limits, budget, path.startsWith('blobs/') ? recorders : undefined);
    try {
      for await (const chunk of createReadStream(join(dir, path), { highWaterMark: READ_CHUNK }) as Readable) {
        onBytes((chunk as Buffer).length);
        await hasher.write(chunk as Buffer);
      }
    } catch (e) {
      throw streamError(dir, 'none', e);
    }
    out.files.set(path, await hasher.end());
  }
  return out;
}

async function layoutPaths(dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const top of ['oci-layout', 'index.json', 'manifest.json']) {
    if (await isRegular(dir, top)) paths.push(top);
  }
  if (await isDir(dir, 'blobs')) {
    for (const alg of (await readdir(join(dir, 'blobs'))).sort()) {
      if (!(await isDir(dir, `blobs/${alg}`))) continue;
      for (const name of (await readdir(join(dir, 'blobs', alg))).sort()) {
        if (await isRegular(dir, `blobs/${alg}/${name}`)) paths.push(`blobs/${alg}/${name}`);
      }
    }
  }
  return paths;
}

const SHA256_DIGEST = /^sha256:([0-9a-f]{64})$/;

/** The selected blobs the directory holds, each once; a digest of another form names no file. */
async function selectedPaths(dir: string, selection: LayoutSelection): Promise<string[]> {
  const paths = new Set<string>();
  for (const digest of selection.blobs) {
    const hex = SHA256_DIGEST.exec(digest)?.[1];
    if (hex === undefined) continue;
    const path = `blobs/sha256/${hex}`;
    if (!paths.has(path) && (await isRegular(dir, path))) paths.add(path);
  }
  return [...paths];
}

/** A regular file, not a symlink: a layout's links could point anywhere on the machine. */
async function isRegular(dir: string, rel: string): Promise<boolean> {
  const st = await lstat(join(dir, rel)).catch(() => undefined);
  if (st?.isSymbolicLink()) throw new InputError('UNSAFE_PATH', dir, `image layout: ${rel} is a symbolic link`);
  return st?.isFile() ?? false;
}

async function isDir(dir: string, rel: string): Promise<boolean> {
  const st = await lstat(join(dir, rel)).catch(() => undefined);
  if (st?.isSymbolicLink()) throw new InputError('UNSAFE_PATH', dir, `image layout: ${rel} is a symbolic link`);
  return st?.isDirectory() ?? false;
}
