// Go build info: the blob the Go linker writes into every binary since Go 1.13, holding the
// Go version and the module list (`go version -m`). It starts with a 32-byte header:
//   "\xff Go buildinf:" (14 bytes), pointer size (1), flags (1), then either
//   - Go 1.18+ (flags & 2): the version and module strings inline after the header, each
//     prefixed with its length as an unsigned varint; or
//   - Go 1.13-1.17: two pointers (size and byte order from the header) to Go string headers
//     {data pointer, length} elsewhere in the file, reached through the PT_LOAD segments.
// It lives in the `.go.buildinfo` section; without section headers it is found by its magic
// at a 16-byte aligned address in a writable data segment (where the linker puts it).
// Only the header, the two strings and (when searching) the data segments are read.

import { scanChunks } from '../../io/scan-chunks.ts';
import { InputError } from '../../model/errors.ts';
import type { GoBuildInfo } from '../../model/inventory.ts';
import {
  addressToOffset,
  type ElfFile,
  type ElfSegment,
  FieldReader,
  findSection,
  loadSegments,
  PF_W,
  PF_X,
  SHT_NOBITS,
} from '../elf/elf.ts';
import { parseModInfo } from './modinfo.ts';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_SIZE = 32;
const ALIGN = 16;
const FLAG_INLINE = 2;
// A K3s server's module list is tens of KiB; nothing real comes near this.
const MAX_STRING = 16 << 20;
// The module list is framed by two 16-byte sentinels (cmd/go's infoStart and infoEnd).
const SENTINEL = 16;

/** Where the blob is: its file offset and how many bytes of the file belong to it. */
interface Blob {
  offset: number;
  end: number;
}

/** The build info of a Go ELF binary, or undefined when it has none. */
export function readGoBuildInfo(elf: ElfFile): GoBuildInfo | undefined {
  const blob = locate(elf);
  if (!blob) return undefined;
  const src = elf.source;
  const header = src.read(blob.offset, HEADER_SIZE);
  if (header.length < HEADER_SIZE || !header.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw corrupt(elf, 'the .go.buildinfo section does not start with the build info magic');
  }
  const ptrSize = header[14] as number;
  const flags = header[15] as number;
  let goVersion: string;
  let modinfo: Buffer;
  let encoding: GoBuildInfo['encoding'];
  if (flags & FLAG_INLINE) {
    encoding = 'inline';
    let at = blob.offset + HEADER_SIZE;
    const version = inlineBytes(elf, at, blob.end, 'Go version');
    goVersion = version.bytes.toString('utf8');
    at = version.next;
    modinfo = inlineBytes(elf, at, blob.end, 'module list').bytes;
  } else {
    encoding = 'pointer';
    if (ptrSize !== 4 && ptrSize !== 8) throw corrupt(elf, `pointer size ${ptrSize} is neither 4 nor 8`);
    // In this form the flags byte is the byte order: 0 little-endian, anything else big.
    const f = new FieldReader(flags === 0, ptrSize === 8);
    goVersion = goString(elf, f, f.word(header, 16), 'Go version').toString('utf8');
    modinfo = goString(elf, f, f.word(header, 16 + ptrSize), 'module list');
  }
  // Go writes `go1.x[.y]` or `devel ...`: printable ASCII. Anything else is not a version.
  if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(goVersion)) {
    throw corrupt(elf, `the Go version ${JSON.stringify(goVersion.slice(0, 40))} is not printable text`);
  }
  const info: GoBuildInfo = { encoding, goVersion, deps: [], settings: [] };
  // Go's own rule for the framing: only text of at least 33 bytes whose 17th byte from the end
  // is the newline before the closing sentinel is a module list; anything else is none.
  if (modinfo.length >= 2 * SENTINEL + 1 && modinfo[modinfo.length - SENTINEL - 1] === 0x0a) {
    const text = modinfo.toString('utf8', SENTINEL, modinfo.length - SENTINEL);
    Object.assign(info, parseModInfo(text, elf.source.name));
  }
  return info;
}

function corrupt(elf: ElfFile, message: string): InputError {
  return new InputError('BUILDINFO_CORRUPT', elf.source.name, `corrupt Go build info: ${message}`);
}

function locate(elf: ElfFile): Blob | undefined {
  const section = findSection(elf, '.go.buildinfo');
  if (section) {
    if (section.type === SHT_NOBITS) throw corrupt(elf, 'the .go.buildinfo section has no bytes in the file');
    return { offset: section.offset, end: section.offset + section.size };
  }
  // Sections with names that just lack .go.buildinfo: not a Go binary with build info.
  if (elf.sections.some((s) => s.name !== '')) return undefined;
  for (const seg of loadSegments(elf)) {
    if ((seg.flags & (PF_W | PF_X)) !== PF_W) continue;
    const found = searchSegment(elf, seg);
    if (found !== undefined) return { offset: found, end: seg.offset + seg.filesz };
  }
  return undefined;
}

/** File offset of the magic at a 16-byte aligned address in `seg`, if any. */
function searchSegment(elf: ElfFile, seg: ElfSegment): number | undefined {
  // Alignment is of the address; the file offset differs from it by a constant.
  const skew = Number(seg.vaddr % BigInt(ALIGN)) - (seg.offset % ALIGN);
  return scanChunks(elf.source, seg.offset, seg.offset + seg.filesz, MAGIC.length, (buf, offset, owned) => {
    for (let i = buf.indexOf(MAGIC); i >= 0 && i < owned; i = buf.indexOf(MAGIC, i + 1)) {
      if ((((offset + i + skew) % ALIGN) + ALIGN) % ALIGN === 0) return offset + i;
    }
    return undefined;
  });
}

/** A varint-prefixed string at `at`, bounded by `end`, and the offset after it. */
function inlineBytes(elf: ElfFile, at: number, end: number, what: string): { bytes: Buffer; next: number } {
  const lenBytes = elf.source.read(at, Math.min(10, Math.max(0, end - at)));
  let length = 0;
  let i = 0;
  for (let shift = 1; ; shift *= 128, i++) {
    const b = lenBytes[i];
    if (b === undefined) {
      const why = i === 10 ? 'is not a valid varint' : 'runs past the end of the build info';
      throw corrupt(elf, `the length of the ${what} ${why}`);
    }
    length += (b & 0x7f) * shift;
    if (b < 0x80) break;
    if (length > MAX_STRING) throw corrupt(elf, `the ${what} claims more than ${MAX_STRING} bytes`);
  }
  const start = at + i + 1;
  if (length > MAX_STRING) throw corrupt(elf, `the ${what} claims ${length} bytes`);
  if (start + length > end) {
    throw corrupt(elf, `the ${what} (${length} bytes at offset ${start}) runs past the end of the build info`);
  }
  const bytes = elf.source.read(start, length);
  if (bytes.length !== length) throw corrupt(elf, `the ${what} runs past the end of the file`);
  return { bytes, next: start + length };
}

/** The Go string whose header {data, len} is at virtual address `addr` (pointer form). */
function goString(elf: ElfFile, f: FieldReader, addr: bigint, what: string): Buffer {
  const ptrSize = f.is64 ? 8 : 4;
  const hdrAt = addressToOffset(elf, addr, 2 * ptrSize);
  if (hdrAt === undefined) {
    throw corrupt(elf, `the ${what} header address 0x${addr.toString(16)} is not in the file's loadable segments`);
  }
  const hdr = elf.source.read(hdrAt, 2 * ptrSize);
  const data = f.word(hdr, 0);
  const len = f.word(hdr, ptrSize);
  if (len > BigInt(MAX_STRING)) throw corrupt(elf, `the ${what} claims ${len} bytes`);
  const length = Number(len);
  const at = addressToOffset(elf, data, length);
  if (at === undefined) {
    throw corrupt(
      elf,
      `the ${what} (${length} bytes at address 0x${data.toString(16)}) is not in the file's loadable segments`,
    );
  }
  return elf.source.read(at, length);
}
