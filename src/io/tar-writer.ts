// A tar writer whose output depends on nothing but the entries it is given: POSIX ustar
// headers with every field set by the caller (mode, owner names and ids, mtime), no pax or GNU
// extensions (no atime/ctime records, nothing about the host), device fields empty. Entries are
// written in the order given; the image builder sorts them. A name that ustar cannot hold (over
// 255 bytes, or with no `/` to split at past 100) is an error rather than a silent extension.
//
// File data is streamed from disk in fixed-size reads, so the chunks (and what a compressor
// downstream makes of them) are the same on every run, and a large executable is never held
// whole in memory.
import { closeSync, openSync, readSync } from 'node:fs';

export interface TarOwner {
  uid: number;
  gid: number;
  uname: string;
  gname: string;
}

interface EntryBase {
  /** Relative to the archive root, no leading `/` or `./`; directories without a trailing `/`. */
  path: string;
  mode: number;
  owner: TarOwner;
}

export type TarWriteEntry =
  | (EntryBase & { type: 'dir' })
  | (EntryBase & { type: 'symlink'; target: string })
  | (EntryBase & { type: 'file'; data: Buffer })
  | (EntryBase & { type: 'file'; from: string; size: number });

const BLOCK = 512;
const READ_CHUNK = 1 << 20;

function putText(block: Buffer, at: number, length: number, text: string, what: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > length) throw new Error(`tar: ${what} "${text}" is longer than ${length} bytes`);
  bytes.copy(block, at);
}

/** Octal digits, zero-padded to fill the field but its closing NUL. */
function putOctal(block: Buffer, at: number, length: number, value: number, what: string): void {
  const digits = value.toString(8);
  if (!Number.isSafeInteger(value) || value < 0 || digits.length > length - 1) {
    throw new Error(`tar: ${what} ${value} does not fit a ustar header`);
  }
  block.write(`${digits.padStart(length - 1, '0')}\0`, at, 'latin1');
}

/** ustar keeps up to 100 bytes in `name` and up to 155 more in `prefix`, split at a `/`. */
function splitName(name: string): { prefix: string; name: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { prefix, name: rest };
  }
  throw new Error(`tar: path "${name}" does not fit a ustar header`);
}

function header(entry: TarWriteEntry, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const stored = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const { prefix, name } = splitName(stored);
  const size = entry.type === 'file' ? ('data' in entry ? entry.data.length : entry.size) : 0;
  putText(block, 0, 100, name, 'name');
  putOctal(block, 100, 8, entry.mode, 'mode');
  putOctal(block, 108, 8, entry.owner.uid, 'uid');
  putOctal(block, 116, 8, entry.owner.gid, 'gid');
  putOctal(block, 124, 12, size, 'size');
  putOctal(block, 136, 12, mtime, 'mtime');
  block.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  block.write(entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0', 156, 'latin1');
  if (entry.type === 'symlink') putText(block, 157, 100, entry.target, 'link target');
  block.write('ustar\x0000', 257, 'latin1');
  putText(block, 265, 32, entry.owner.uname, 'user name');
  putText(block, 297, 32, entry.owner.gname, 'group name');
  putText(block, 345, 155, prefix, 'name prefix');
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** A file's bytes in fixed-size reads; its size must not have changed since it was listed. */
function* fileChunks(path: string, size: number): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    let at = 0;
    while (at < size) {
      const chunk = Buffer.alloc(Math.min(READ_CHUNK, size - at));
      const got = readSync(fd, chunk, 0, chunk.length, at);
      if (got !== chunk.length) throw new Error(`tar: ${path} changed while it was being written`);
      at += got;
      yield chunk;
    }
    if (readSync(fd, Buffer.alloc(1), 0, 1, at) !== 0) throw new Error(`tar: ${path} grew while it was being written`);
  } finally {
    closeSync(fd);
  }
}

/** The archive's bytes: each entry's header and data, then the two zero blocks that end it. */
export function* tarChunks(entries: Iterable<TarWriteEntry>, mtime: number): Generator<Buffer> {
  for (const entry of entries) {
    yield header(entry, mtime);
    if (entry.type !== 'file') continue;
    if ('data' in entry) {
      if (entry.data.length > 0) yield entry.data;
    } else {
      yield* fileChunks(entry.from, entry.size);
    }
    const pad = padding('data' in entry ? entry.data.length : entry.size);
    if (pad.length > 0) yield pad;
  }
  yield Buffer.alloc(2 * BLOCK);
}
