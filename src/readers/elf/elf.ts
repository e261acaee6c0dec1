// An ELF reader over a ByteSource: the file header, the program headers (segments) and the
// section headers with their names, for 32- and 64-bit, little- and big-endian files.
// It reads only the header tables (never the whole file) and checks every count, size and
// offset before trusting it: hostile input ends in an InputError, never a stack trace or a
// huge allocation. Anything ending past the end of the file is ELF_TRUNCATED (a cut download
// is the usual cause); anything impossible whatever the file's length is ELF_CORRUPT.

import type { ByteSource } from '../../io/bytesource.ts';
import { InputError } from '../../model/errors.ts';
import type { ElfArch } from '../../model/inventory.ts';
import { elfArchName } from './arch.ts';

export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
export const SHT_NOBITS = 8;

const PN_XNUM = 0xffff; // e_phnum escape: the real count is in section 0's sh_info
const SHN_XINDEX = 0xffff; // e_shstrndx escape: the real index is in section 0's sh_link
// Far beyond any real executable (ld's limit for ordinary files is 65279), small enough that
// reading the table stays cheap.
const MAX_SECTIONS = 1 << 18;
const MAX_SEGMENTS = 1 << 16;
const MAX_SECTION_NAMES = 16 << 20;

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  /** Bytes of the segment present in the file. */
  filesz: number;
  vaddr: bigint;
  memsz: number;
}

export interface ElfSection {
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  /** Size in memory; for SHT_NOBITS nothing of it is in the file. */
  size: number;
}

export interface ElfFile {
  source: ByteSource;
  arch: ElfArch;
  /** e_type: 1 relocatable, 2 executable, 3 shared object / PIE, 4 core. */
  type: number;
  entry: bigint;
  /** File offset just past the program header table (where UPX puts its l_info). */
  programHeadersEnd: number;
  segments: ElfSegment[];
  /** Empty when the section headers were stripped. */
  sections: ElfSection[];
}

/** Reads fixed-width fields of one ELF's byte order and class from a buffer. */
export class FieldReader {
  readonly little: boolean;
  readonly is64: boolean;

  constructor(little: boolean, is64: boolean) {
    this.little = little;
    this.is64 = is64;
  }

  u16(b: Buffer, at: number): number {
    return this.little ? b.readUInt16LE(at) : b.readUInt16BE(at);
  }

  u32(b: Buffer, at: number): number {
    return this.little ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }

  u64(b: Buffer, at: number): bigint {
    return this.little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at);
  }

  /** A pointer-sized field (Elf32_Addr/Off or Elf64_Addr/Off/Xword). */
  word(b: Buffer, at: number): bigint {
    return this.is64 ? this.u64(b, at) : BigInt(this.u32(b, at));
  }
}

function corrupt(src: ByteSource, message: string): InputError {
  return new InputError('ELF_CORRUPT', src.name, `corrupt ELF: ${message}`);
}

/** Checks that [offset, offset+length) lies in the file; `what` names the region in the message. */
export function checkInFile(src: ByteSource, offset: number, length: number, what: string): void {
  if (offset + length > src.size) {
    throw new InputError(
      'ELF_TRUNCATED',
      src.name,
      `truncated ELF: ${what} (bytes ${offset}..${offset + length}) ends past the end of the file (${src.size} bytes)`,
    );
  }
}

/** Exactly `length` bytes at `offset`, or ELF_TRUNCATED. */
export function readExact(src: ByteSource, offset: number, length: number, what: string): Buffer {
  checkInFile(src, offset, length, what);
  const b = src.read(offset, length);
  // The source said it was long enough, yet gave less: it shrank while being read.
  if (b.length !== length) {
    throw new InputError('ELF_TRUNCATED', src.name, `truncated ELF: ${what} could not be read in full`);
  }
  return b;
}

function toSafe(src: ByteSource, v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(src, `${what} 0x${v.toString(16)} is impossibly large`);
  return Number(v);
}

export function readElf(src: ByteSource): ElfFile {
  const ident = src.read(0, 64);
  if (ident.length < 16 || ident.readUInt32BE(0) !== 0x7f454c46) {
    if (ident.length >= 4 && ident.readUInt32BE(0) === 0x7f454c46) {
      throw new InputError('ELF_TRUNCATED', src.name, `truncated ELF: only ${src.size} bytes`);
    }
    throw new InputError('NOT_ELF', src.name, 'not an ELF file');
  }
  const cls = ident[4];
  const data = ident[5];
  if (cls !== 1 && cls !== 2) throw corrupt(src, `unknown class ${cls} in e_ident`);
  if (data !== 1 && data !== 2) throw corrupt(src, `unknown byte order ${data} in e_ident`);
  const is64 = cls === 2;
  const f = new FieldReader(data === 1, is64);
  const ehsize = is64 ? 64 : 52;
  if (ident.length < ehsize) checkInFile(src, 0, ehsize, 'ELF header');

  const machine = f.u16(ident, 18);
  const arch: ElfArch = {
    class: is64 ? 64 : 32,
    endian: data === 1 ? 'little' : 'big',
    machine,
    name: elfArchName(machine, is64, data === 1),
  };
  const type = f.u16(ident, 16);
  const entry = f.word(ident, 24);
  const phoff = toSafe(src, f.word(ident, is64 ? 32 : 28), 'e_phoff');
  const shoff = toSafe(src, f.word(ident, is64 ? 40 : 32), 'e_shoff');
  const at = is64 ? 54 : 42; // e_phentsize; the other 16-bit counts follow it
  const phentsize = f.u16(ident, at);
  let phnum = f.u16(ident, at + 2);
  const shentsize = f.u16(ident, at + 4);
  let shnum = f.u16(ident, at + 6);
  let shstrndx = f.u16(ident, at + 8);

  // Section 0 carries the real counts when they do not fit the 16-bit header fields.
  const shdrSize = is64 ? 64 : 40;
  const hasSectionTable = shoff !== 0;
  if (hasSectionTable && (shnum === 0 || phnum === PN_XNUM || shstrndx === SHN_XINDEX)) {
    if (shentsize < shdrSize) throw corrupt(src, `e_shentsize ${shentsize} is smaller than ${shdrSize}`);
    const s0 = readExact(src, shoff, shdrSize, 'section header 0');
    if (shnum === 0) shnum = toSafe(src, f.word(s0, is64 ? 32 : 20), 'section count in section 0');
    if (phnum === PN_XNUM) phnum = f.u32(s0, is64 ? 44 : 28);
    if (shstrndx === SHN_XINDEX) shstrndx = f.u32(s0, is64 ? 40 : 24);
  }

  const segments = readSegments(src, f, phoff, phentsize, phnum);
  const sections = hasSectionTable ? readSections(src, f, shoff, shentsize, shnum, shstrndx) : [];
  return { source: src, arch, type, entry, programHeadersEnd: phoff + phnum * phentsize, segments, sections };
}

function readSegments(src: ByteSource, f: FieldReader, phoff: number, entsize: number, count: number): ElfSegment[] {
  if (count === 0) return [];
  const need = f.is64 ? 56 : 32;
  if (entsize < need) throw corrupt(src, `e_phentsize ${entsize} is smaller than ${need}`);
  if (count > MAX_SEGMENTS) throw corrupt(src, `${count} program headers is implausibly many`);
  const table = readExact(src, phoff, count * entsize, `program header table (${count} entries)`);
  const out: ElfSegment[] = [];
  for (let i = 0; i < count; i++) {
    const b = table.subarray(i * entsize, i * entsize + need);
    const seg: ElfSegment = f.is64
      ? {
          type: f.u32(b, 0),
          flags: f.u32(b, 4),
          offset: toSafe(src, f.u64(b, 8), `p_offset of segment ${i}`),
          vaddr: f.u64(b, 16),
          filesz: toSafe(src, f.u64(b, 32), `p_filesz of segment ${i}`),
          memsz: toSafe(src, f.u64(b, 40), `p_memsz of segment ${i}`),
        }
      : {
          type: f.u32(b, 0),
          offset: f.u32(b, 4),
          vaddr: BigInt(f.u32(b, 8)),
          filesz: f.u32(b, 16),
          memsz: f.u32(b, 20),
          flags: f.u32(b, 24),
        };
    if (seg.type === PT_LOAD && seg.filesz > seg.memsz) {
      throw corrupt(src, `loadable segment ${i} has more bytes in the file (${seg.filesz}) than in memory`);
    }
    if (seg.filesz > 0) checkInFile(src, seg.offset, seg.filesz, `segment ${i}`);
    out.push(seg);
  }
  return out;
}

function readSections(
  src: ByteSource,
  f: FieldReader,
  shoff: number,
  entsize: number,
  count: number,
  strndx: number,
): ElfSection[] {
  if (count === 0) return [];
  const need = f.is64 ? 64 : 40;
  if (entsize < need) throw corrupt(src, `e_shentsize ${entsize} is smaller than ${need}`);
  if (count > MAX_SECTIONS) throw corrupt(src, `${count} sections is implausibly many`);
  const table = readExact(src, shoff, count * entsize, `section header table (${count} entries)`);
  const raw: Array<ElfSection & { nameOffset: number }> = [];
  for (let i = 0; i < count; i++) {
    const b = table.subarray(i * entsize, i * entsize + need);
    const w = f.is64 ? 8 : 4;
    const s = {
      nameOffset: f.u32(b, 0),
      name: '',
      type: f.u32(b, 4),
      flags: f.word(b, 8),
      addr: f.word(b, 8 + w),
      offset: toSafe(src, f.word(b, 8 + 2 * w), `sh_offset of section ${i}`),
      size: toSafe(src, f.word(b, 8 + 3 * w), `sh_size of section ${i}`),
    };
    if (i > 0 && s.type !== SHT_NOBITS && s.type !== 0 && s.size > 0) {
      checkInFile(src, s.offset, s.size, `section ${i}`);
    }
    raw.push(s);
  }
  // No name table (e_shstrndx 0): the sections stay nameless, as if stripped of names.
  const strtab = strndx === 0 ? undefined : raw[strndx];
  if (strndx !== 0 && !strtab) throw corrupt(src, `e_shstrndx ${strndx} is not below the section count ${count}`);
  let names: Buffer = Buffer.alloc(0);
  if (strtab) {
    if (strtab.type === SHT_NOBITS) throw corrupt(src, 'the section name table has no bytes in the file');
    if (strtab.size > MAX_SECTION_NAMES) throw corrupt(src, `section name table of ${strtab.size} bytes`);
    names = readExact(src, strtab.offset, strtab.size, 'section name table');
  }
  return raw.map(({ nameOffset, ...s }, i) => {
    if (strtab && nameOffset !== 0) {
      const end = names.indexOf(0, nameOffset);
      if (nameOffset >= names.length || end < 0) {
        throw corrupt(src, `name of section ${i} lies outside the section name table`);
      }
      s.name = names.toString('latin1', nameOffset, end);
    }
    return s;
  });
}

export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

export function loadSegments(elf: ElfFile): ElfSegment[] {
  return elf.segments.filter((s) => s.type === PT_LOAD && s.filesz > 0);
}

/**
 * The file offset of `length` bytes at virtual address `addr`, when all of them lie in the
 * file-backed part of one loadable segment; undefined otherwise.
 */
export function addressToOffset(elf: ElfFile, addr: bigint, length: number): number | undefined {
  return addressTranslator(elf)(addr, length);
}

/** addressToOffset for many look-ups: the segment list is prepared once. */
export function addressTranslator(elf: ElfFile): (addr: bigint, length: number) => number | undefined {
  const segs = loadSegments(elf).map((s) => ({ start: s.vaddr, end: s.vaddr + BigInt(s.filesz), offset: s.offset }));
  return (addr, length) => {
    for (const s of segs) {
      if (addr >= s.start && addr + BigInt(length) <= s.end) return s.offset + Number(addr - s.start);
    }
    return undefined;
  };
}
