// What a path named as a target is, decided in one place from what is on disk: the content's
// first bytes for files (never the name: an airgap archive is often renamed, and a `.tar.gz`
// may hold anything), a marker file for folders. The inventory, the image readers and the CLI
// all ask here, so they cannot disagree about what they were given.
import { lstatSync, readdirSync, realpathSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../model/errors.ts';
import { readFileHead } from './bytesource.ts';
import { errnoOf, fsError } from './fs-error.ts';

/** How a stream's bytes are compressed, from its magic. */
export type Compression = 'none' | 'gzip' | 'zstd';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
/** The first four bytes of every ELF file. */
export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** A tar header block: the `ustar` magic sits at offset 257 of the first 512 bytes. */
const TAR_BLOCK = 512;
const USTAR_AT = 257;

/** The compression its first bytes announce (4 are enough); 'none' for anything else. */
export function sniffCompression(head: Buffer): Compression {
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

export type Target =
  /** A regular file starting with the ELF magic. */
  | { kind: 'elf'; path: string; stats: Stats }
  /** A tar (plain, gzip or zstd) holding images: airgap tarball, `docker save`, OCI archive. */
  | { kind: 'image-archive'; path: string; stats: Stats; compression: Compression }
  /** Any other regular file. */
  | { kind: 'file'; path: string; stats: Stats }
  /** A folder with an `oci-layout` file, or index.json beside blobs/. */
  | { kind: 'oci-layout'; path: string; stats: Stats }
  /** An extracted K3s bundle: `data/<hash>/` holding `bin/.sha256sums`. */
  | { kind: 'k3s-data-dir'; path: string; stats: Stats }
  /** Any other folder. */
  | { kind: 'directory'; path: string; stats: Stats };

/**
 * What `path` is. A symlink named as the target is followed (the user asked for what it points
 * at); `path` stays as given, for messages. A missing path, a dangling or looping link, and
 * anything that is neither a regular file nor a folder (device, FIFO, socket: reading one could
 * block or never end) are coded InputErrors.
 */
export function detectTarget(path: string): Target {
  let stats = statPath(path);
  if (stats.isSymbolicLink()) stats = statPath(followLink(path));
  if (stats.isDirectory()) return { kind: directoryKind(path), path, stats };
  if (!stats.isFile())
    throw new InputError('UNREADABLE', path, 'not a regular file or directory (device, fifo or socket)');
  const head = readHead(path);
  if (head.subarray(0, ELF_MAGIC.length).equals(ELF_MAGIC)) return { kind: 'elf', path, stats };
  const compression = sniffCompression(head);
  if (compression !== 'none' || isTarHeader(head)) return { kind: 'image-archive', path, stats, compression };
  return { kind: 'file', path, stats };
}

/** Whether the target is read by the image readers. */
export function isImageTarget(t: Target): t is Extract<Target, { kind: 'image-archive' | 'oci-layout' }> {
  return t.kind === 'image-archive' || t.kind === 'oci-layout';
}

/** Whether `path` is an image archive or layout; false when it cannot be read (whoever reads it reports that). */
export function namesImageTarget(path: string): boolean {
  try {
    return isImageTarget(detectTarget(path));
  } catch {
    return false;
  }
}

/** An extracted K3s bundle: `data/<hash>/` holding `bin/.sha256sums` (not a link to one). */
export function isK3sDataDir(dir: string): boolean {
  try {
    return lstatSync(join(dir, 'bin', '.sha256sums')).isFile();
  } catch {
    return false;
  }
}

function directoryKind(dir: string): 'oci-layout' | 'k3s-data-dir' | 'directory' {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 'directory'; // unreadable: the folder walk reports it where it fails
  }
  if (entries.includes('oci-layout') || (entries.includes('index.json') && entries.includes('blobs')))
    return 'oci-layout';
  return isK3sDataDir(dir) ? 'k3s-data-dir' : 'directory';
}

function isTarHeader(head: Buffer): boolean {
  return head.length === TAR_BLOCK && head.subarray(USTAR_AT, USTAR_AT + 5).toString('latin1') === 'ustar';
}

function readHead(path: string): Buffer {
  try {
    return readFileHead(path, TAR_BLOCK);
  } catch (e) {
    throw fsError(e, path, { missing: 'no such file or directory' });
  }
}

function statPath(path: string): Stats {
  try {
    return lstatSync(path);
  } catch (e) {
    throw fsError(e, path, { missing: 'no such file or directory' });
  }
}

function followLink(path: string): string {
  try {
    return realpathSync(path);
  } catch (e) {
    if (errnoOf(e) === 'ELOOP')
      throw new InputError('SYMLINK_LOOP', path, 'symlink loop: the link resolves back to itself');
    throw fsError(e, path, {
      missing: 'dangling symlink: its target does not exist',
      doing: 'cannot resolve symlink',
    });
  }
}
