// A zip reader for OSV's per-ecosystem `all.zip`, written for hostile input. It trusts the
// central directory only after checking it against the file: every entry lies inside the
// file, entries do not overlap (overlapping entries are how the densest zip bombs reuse one
// compressed stream many times), and the declared uncompressed sizes stay under a per-entry
// and a total limit before anything is inflated. Inflating then stops at the declared size,
// so a header that lies about it costs nothing, and each entry's CRC-32 is checked.
// Supported: stored and deflate entries, ZIP64 sizes and counts. Refused with a coded error:
// encryption, multi-disk archives, other compression methods, unsafe names.
import { crc32, inflateRawSync } from 'node:zlib';
import { type ByteSource, type FileSource, fileSource } from '../io/bytesource.ts';
import { InputError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import { applyZip64, type Directory, findDirectory, type RawEntry } from './zip-directory.ts';

export interface ZipLimits {
  /** Uncompressed bytes of one entry (the largest Go vulndb record is 13 KB). */
  maxEntryBytes: number;
  /** Uncompressed bytes of all entries together . */
  maxTotalBytes: number;
  /** Entries in the central directory (OSV's largest export has ~500k). */
  maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntryBytes: LIMITS.zipEntryBytes,
  maxTotalBytes: LIMITS.zipTotalBytes,
  maxEntries: LIMITS.zipEntries,
};

export interface ZipEntry {
  name: string;
  isDirectory: boolean;
  method: 0 | 8;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  localOffset: number;
  /** Where the next entry (or the central directory) starts: this entry's data must end before it. */
  end: number;
}

export interface ZipArchive {
  readonly name: string;
  readonly entries: readonly ZipEntry[];
  /** The entry's bytes, inflated, size- and CRC-checked. */
  read(entry: ZipEntry): Buffer;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_STRONG_ENCRYPTION = 0x0040;

/** Why a name is unsafe to hand on, or undefined. The names are never used as paths here, but
 * an archive carrying them was not made by OSV's exporter and is refused whole. */
function unsafeName(name: string): string | undefined {
  if (name.length === 0) return 'an empty name';
  if (name.includes('\\')) return 'a backslash';
  if (name.includes('\0')) return 'a NUL byte';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  if (name.split('/').includes('..')) return 'a ".." component';
  return undefined;
}

function parseCentral(src: ByteSource, dir: Directory, limits: ZipLimits): ZipEntry[] {
  const file = src.name;
  if (dir.count > limits.maxEntries)
    throw new InputError('ZIP_LIMIT', file, `${dir.count} entries, over the limit of ${limits.maxEntries}`);
  if (dir.offset + dir.size > dir.endAt || dir.size < dir.count * 46)
    throw new InputError('ZIP_CORRUPT', file, 'the central directory does not fit in the file (truncated?)');
  const cd = src.read(dir.offset, dir.size);
  const raws: RawEntry[] = [];
  let p = 0;
  for (let i = 0; i < dir.count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL)
      throw new InputError('ZIP_CORRUPT', file, `central directory entry ${i} is damaged`);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const next = p + 46 + nameLen + extraLen + cd.readUInt16LE(p + 32);
    if (next > cd.length) throw new InputError('ZIP_CORRUPT', file, `central directory entry ${i} is truncated`);
    const raw: RawEntry = {
      name: cd.toString('utf8', p + 46, p + 46 + nameLen),
      flags: cd.readUInt16LE(p + 8),
      method: cd.readUInt16LE(p + 10),
      crc: cd.readUInt32LE(p + 16),
      csize: cd.readUInt32LE(p + 20),
      usize: cd.readUInt32LE(p + 24),
      disk: cd.readUInt16LE(p + 34),
      offset: cd.readUInt32LE(p + 42),
    };
    applyZip64(raw, cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen), file);
    raws.push(raw);
    p = next;
  }
  if (p !== cd.length)
    throw new InputError('ZIP_CORRUPT', file, 'the central directory has bytes its entries do not account for');
  return checkEntries(raws, dir, limits, file);
}

function checkEntries(raws: RawEntry[], dir: Directory, limits: ZipLimits, file: string): ZipEntry[] {
  let total = 0;
  for (const r of raws) {
    const unsafe = unsafeName(r.name);
    if (unsafe) throw new InputError('UNSAFE_PATH', file, `entry ${JSON.stringify(r.name)} has ${unsafe}`);
    if (r.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION))
      throw new InputError('ZIP_UNSUPPORTED', file, `${r.name}: encrypted entries are not supported`);
    if (r.method !== 0 && r.method !== 8)
      throw new InputError(
        'ZIP_UNSUPPORTED',
        file,
        `${r.name}: compression method ${r.method} (only stored and deflate)`,
      );
    if (r.disk !== 0) throw new InputError('ZIP_UNSUPPORTED', file, `${r.name}: entry on another disk`);
    if (r.usize > limits.maxEntryBytes)
      throw new InputError(
        'ZIP_LIMIT',
        file,
        `${r.name}: ${r.usize} bytes uncompressed, over the per-entry limit of ${limits.maxEntryBytes}`,
      );
    total += r.usize;
    if (total > limits.maxTotalBytes)
      throw new InputError(
        'ZIP_LIMIT',
        file,
        `over ${limits.maxTotalBytes} bytes uncompressed in all, the total limit`,
      );
    // Even fixed-Huffman deflate of incompressible data needs at most 9 bits a byte; a larger
    // compressed size would only make us read a big blob to produce a small entry.
    const maxCompressed = r.method === 0 ? r.usize : Math.ceil((r.usize * 9) / 8) + 1024;
    if (r.csize > maxCompressed)
      throw new InputError('ZIP_CORRUPT', file, `${r.name}: compressed size does not fit its uncompressed size`);
  }
  const byOffset = [...raws].sort((a, b) => a.offset - b.offset);
  const entries: ZipEntry[] = byOffset.map((r, i) => ({
    name: r.name,
    isDirectory: r.name.endsWith('/'),
    method: r.method as 0 | 8,
    compressedSize: r.csize,
    uncompressedSize: r.usize,
    crc32: r.crc,
    localOffset: r.offset,
    end: byOffset[i + 1]?.offset ?? dir.offset,
  }));
  for (const e of entries)
    if (e.localOffset + 30 + Buffer.byteLength(e.name) + e.compressedSize > e.end)
      throw new InputError('ZIP_CORRUPT', file, `${e.name}: entry overlaps the next one or the central directory`);
  return entries;
}

function readEntry(src: ByteSource, e: ZipEntry): Buffer {
  const file = src.name;
  const head = src.read(e.localOffset, 30);
  if (head.length < 30 || head.readUInt32LE(0) !== SIG_LOCAL)
    throw new InputError('ZIP_CORRUPT', file, `${e.name}: local header missing (truncated?)`);
  const nameLen = head.readUInt16LE(26);
  const start = e.localOffset + 30 + nameLen + head.readUInt16LE(28);
  if (start + e.compressedSize > e.end)
    throw new InputError('ZIP_CORRUPT', file, `${e.name}: data runs past its entry`);
  if (src.read(e.localOffset + 30, nameLen).toString('utf8') !== e.name || head.readUInt16LE(8) !== e.method)
    throw new InputError('ZIP_CORRUPT', file, `${e.name}: local header disagrees with the central directory`);
  const packed = src.read(start, e.compressedSize);
  if (packed.length !== e.compressedSize) throw new InputError('ZIP_CORRUPT', file, `${e.name}: data truncated`);
  let data: Buffer;
  if (e.method === 0) data = packed;
  else {
    try {
      // One byte past the declared size lets a lying header show itself without inflating more.
      data = inflateRawSync(packed, { maxOutputLength: e.uncompressedSize + 1 });
    } catch (err) {
      const over = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
      const why = over ? `inflates past the ${e.uncompressedSize} bytes its header declares` : 'bad deflate data';
      throw new InputError('ZIP_CORRUPT', file, `${e.name}: ${why}`, { cause: err });
    }
  }
  if (data.length !== e.uncompressedSize)
    throw new InputError('ZIP_CORRUPT', file, `${e.name}: ${data.length} bytes, header declares ${e.uncompressedSize}`);
  if (crc32(data) !== e.crc32) throw new InputError('ZIP_CORRUPT', file, `${e.name}: CRC-32 mismatch`);
  return data;
}

/** Read the central directory of a zip held by `src`, checked against `limits`. */
export function readZip(src: ByteSource, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipArchive {
  const entries = parseCentral(src, findDirectory(src), limits);
  return { name: src.name, entries, read: (e) => readEntry(src, e) };
}

/** Open a zip file (errors name it `name`); call close() when done. */
export function openZipFile(
  path: string,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
  name: string = path,
): ZipArchive & { close(): void } {
  const src: FileSource = fileSource(path, name);
  try {
    return { ...readZip(src, limits), close: () => src.close() };
  } catch (e) {
    src.close();
    throw e;
  }
}
