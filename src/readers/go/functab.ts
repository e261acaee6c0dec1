// The names of the functions in a Go binary, from its pclntab: the runtime needs the table for
// stack traces and garbage collection, so `-w -s` builds (K3s's) keep it. Reachability
// (src/scan/reachability.ts) asks whether an advisory's vulnerable functions were linked in.
//
// Layouts, by magic (the header is: magic, two zero bytes, pc quantum, pointer size, then
// pointer-sized words):
//   Go 1.2-1.15  0xfffffffb  nfunc; functab of (entry, funcoff) word pairs; names and _func
//                            records anywhere in the table, offsets from its start.
//   Go 1.16-1.17 0xfffffffa  nfunc, nfiles, funcnametab, cutab, filetab, pctab, functab
//                            offsets; functab (entry, funcoff) words; funcoff from functab.
//   Go 1.18-1.19 0xfffffff0  as 1.16 with textStart after nfiles; functab entries are uint32.
//   Go 1.20+     0xfffffff1  same layout for names (the change concerns funcdata).
// A _func record starts with the entry (a word before 1.18, a uint32 after), then the int32
// offset of the name. Since Go 1.16 the function name table holds every function's name and
// the name of every function inlined into one (the linker's walkFuncs), so it is also the
// list govulncheck builds from the inline trees.
//
// Reads stay small: the header, the functab, the _func records in 1 MB windows (they follow
// the functab in order) and, for 1.16+, the name table in one piece; never the whole file.

import type { ByteSource } from '../../io/bytesource.ts';
import { scanChunks } from '../../io/scan-chunks.ts';
import { InputError } from '../../model/errors.ts';
import { type ElfFile, FieldReader, findSection, loadSegments, readElf } from '../elf/elf.ts';
import { findPclntab } from './stripped.ts';

export type PclntabVersion = '1.2' | '1.16' | '1.18' | '1.20';

const VERSIONS: Record<number, PclntabVersion> = {
  4294967291: '1.2',
  4294967290: '1.16',
  4294967280: '1.18',
  4294967281: '1.20',
};

export interface GoFunctionTable {
  /** The Go release that introduced this table layout (from its magic). */
  version: PclntabVersion;
  /** File offset of the table. */
  offset: number;
  /** Every function with code in the binary: what Go's debug/gosym lists as Table.Funcs. */
  functions: ReadonlySet<string>;
  /**
   * `functions` and every function inlined into them (Go 1.16+ tables name both); for a Go
   * 1.2-1.15 table, `functions` only. Names as Go writes them: `pkg.F`, `pkg.(*T).M`,
   * `pkg.T.M`; generic instantiations `pkg.F[...]` (Go 1.18-1.20) or with their type shapes
   * (`slices.Sort[go.shape.string]`, Go 1.21+); the last path element escaped (`yaml%2ev2`).
   */
  names: ReadonlySet<string>;
}

const WINDOW = 1 << 20;
const MAX_NAME = 1 << 16; // far beyond any real symbol; a longer one is a corrupt table
const PT_GNU_RELRO = 0x6474e552;

/** The function table of an ELF Go binary, or undefined when it has no pclntab (not Go). */
export function readGoFunctionTable(elf: ElfFile): GoFunctionTable | undefined {
  const where = locate(elf);
  return where && readTable(elf, where.offset, where.end);
}

/**
 * Only `names` (every function and inlined function name), all that reachability needs: read
 * straight from the name table of a Go 1.16+ pclntab, without walking the function list or
 * indexing names by offset, which costs more than half of readGoFunctionTable. A Go 1.2-1.15
 * table has no separate name table: its function list is read as by readGoFunctionTable.
 */
export function readGoFunctionNames(src: ByteSource): Pick<GoFunctionTable, 'version' | 'names'> | undefined {
  const elf = readElf(src);
  const where = locate(elf);
  if (!where) return undefined;
  const h = header(elf, src.read(where.offset, 128), where.end - where.offset);
  if (!h) throw corrupt(src, `no valid header at offset ${where.offset}`);
  if (h.version === '1.2') return readTable(elf, where.offset, where.end);
  const start = where.offset + h.names;
  const buf = src.read(start, h.namesEnd - h.names);
  if (buf.length !== h.namesEnd - h.names) throw corrupt(src, 'the function name table ends past the end of the file');
  const names = new Set<string>();
  for (let at = 0; at < buf.length; ) {
    let nul = buf.indexOf(0, at);
    if (nul < 0) nul = buf.length;
    if (nul > at) names.add(buf.toString('utf8', at, nul));
    at = nul + 1;
  }
  return { version: h.version, names };
}

/** readGoFunctionTable for a source not yet parsed as ELF. */
export function readGoFunctionTableFrom(src: ByteSource): GoFunctionTable | undefined {
  return readGoFunctionTable(readElf(src));
}

/** Where the table starts and the end of the region that holds it (a section or segment). */
function locate(elf: ElfFile): { offset: number; end: number } | undefined {
  const found = findPclntab(elf);
  if (found) {
    const section = findSection(elf, '.gopclntab');
    if (section?.offset === found.offset) return { offset: found.offset, end: found.offset + section.size };
    const seg = loadSegments(elf).find((s) => found.offset >= s.offset && found.offset < s.offset + s.filesz);
    return seg && { offset: found.offset, end: seg.offset + seg.filesz };
  }
  // A position-independent executable keeps the table in relocated read-only data, which is a
  // writable segment in the file: findPclntab does not look there (govulncheck does the same).
  const relro = findSection(elf, '.data.rel.ro') ?? elf.segments.find((s) => s.type === PT_GNU_RELRO);
  if (!relro) return undefined;
  const start = relro.offset;
  const end = start + ('filesz' in relro ? relro.filesz : relro.size);
  const offset = scanChunks(elf.source, start, end, 128, (buf, base, owned) => {
    for (let i = (4 - (base % 4)) % 4; i < owned; i += 4) {
      if (buf[i + 1] !== 0xff || buf[i + 2] !== 0xff || buf[i + 4] !== 0 || buf[i + 5] !== 0) continue;
      if (header(elf, buf.subarray(i, i + 128), end - (base + i))) return base + i;
    }
    return undefined;
  });
  return offset === undefined ? undefined : { offset, end };
}

interface Header {
  version: PclntabVersion;
  nfunc: number;
  /** Offsets from the table start: the name table [names, namesEnd), the functab. */
  names: number;
  namesEnd: number;
  functab: number;
  /** Bytes per functab field; _func records are found from `funcBase` + funcoff. */
  field: number;
  funcBase: number;
  /** Offset of the name offset inside a _func record. */
  nameField: number;
}

/** The header at the start of `head`, checked against the `available` bytes; undefined if none. */
function header(elf: ElfFile, head: Buffer, available: number): Header | undefined {
  const ptr = elf.arch.class === 64 ? 8 : 4;
  const f = new FieldReader(elf.arch.endian === 'little', ptr === 8);
  if (head.length < 8 + 8 * ptr) return undefined;
  const version = VERSIONS[f.u32(head, 0)];
  if (!version || head[4] !== 0 || head[5] !== 0 || ![1, 2, 4].includes(head[6] as number) || head[7] !== ptr) {
    return undefined;
  }
  const word = (n: number) => f.word(head, 8 + n * ptr);
  const limit = BigInt(available);
  const nfunc = word(0);
  if (nfunc === 0n || nfunc > limit) return undefined;
  if (version === '1.2') {
    const functab = 8 + ptr;
    const base = { version, nfunc: Number(nfunc), names: 0, namesEnd: available, functab, field: ptr };
    return { ...base, funcBase: 0, nameField: ptr };
  }
  // Offsets of funcnametab, cutab, filetab, pctab, functab: in this order, after the header.
  const first = version === '1.16' ? 2 : 3;
  const offsets: number[] = [];
  let previous = BigInt(8 + (first + 5) * ptr);
  for (let n = first; n < first + 5; n++) {
    const v = word(n);
    if (v < previous || v >= limit) return undefined;
    offsets.push(Number(v));
    previous = v;
  }
  const [names = 0, namesEnd = 0, , , functab = 0] = offsets;
  const field = version === '1.16' ? ptr : 4;
  return { version, nfunc: Number(nfunc), names, namesEnd, functab, field, funcBase: functab, nameField: field };
}

function corrupt(src: ByteSource, message: string): InputError {
  return new InputError('ELF_CORRUPT', src.name, `corrupt Go function table (pclntab): ${message}`);
}

function readTable(elf: ElfFile, offset: number, end: number): GoFunctionTable {
  const src = elf.source;
  const h = header(elf, src.read(offset, 128), end - offset);
  if (!h) throw corrupt(src, `no valid header at offset ${offset}`);
  const f = new FieldReader(elf.arch.endian === 'little', elf.arch.class === 64);
  const size = end - offset;
  const functabBytes = (2 * h.nfunc + 1) * h.field;
  if (h.functab + functabBytes > size) throw corrupt(src, `${h.nfunc} functions do not fit in the table`);
  const functab = src.read(offset + h.functab, functabBytes);
  if (functab.length !== functabBytes) throw corrupt(src, 'the function list ends past the end of the file');
  const field = (b: Buffer, at: number) => (h.field === 8 ? Number(f.u64(b, at)) : f.u32(b, at));

  const records = new Window(src, offset + h.funcBase, end);
  const names = h.version === '1.2' ? undefined : nameTable(src, offset + h.names, offset + h.namesEnd);
  const scattered = names ? undefined : new Window(src, offset, end);
  const functions = new Set<string>();
  for (let i = 0; i < h.nfunc; i++) {
    const funcoff = field(functab, (2 * i + 1) * h.field);
    const record = records.bytes(funcoff + h.nameField, 4);
    if (!record) throw corrupt(src, `function ${i} has its record outside the table`);
    const nameoff = f.u32(record.buf, record.at);
    const name = names ? (names.byOffset.get(nameoff) ?? names.at(nameoff)) : scattered?.cstring(nameoff);
    if (name === undefined) throw corrupt(src, `function ${i} has its name outside the table`);
    functions.add(name);
  }
  return { version: h.version, offset, functions, names: names ? names.all : functions };
}

/** The Go 1.16+ function name table: NUL-terminated names, read in one piece. */
function nameTable(src: ByteSource, start: number, end: number) {
  const buf = src.read(start, end - start);
  if (buf.length !== end - start) throw corrupt(src, 'the function name table ends past the end of the file');
  const byOffset = new Map<number, string>();
  const all = new Set<string>();
  for (let at = 0; at < buf.length; ) {
    let nul = buf.indexOf(0, at);
    if (nul < 0) nul = buf.length; // the last name may end at the table's end
    const name = buf.toString('utf8', at, nul);
    byOffset.set(at, name);
    if (name !== '') all.add(name);
    at = nul + 1;
  }
  // A record pointing inside a name reads from there to the NUL, as Go's debug/gosym does.
  const at = (off: number): string | undefined => {
    if (off >= buf.length) return undefined;
    const nul = buf.indexOf(0, off);
    return buf.toString('utf8', off, nul < 0 ? buf.length : nul);
  };
  return { byOffset, all, at };
}

/**
 * Reads of a region at scattered but mostly increasing offsets, one 1 MB read per window. A
 * real table is read about once over; offsets that jump back and forth (a hostile table) would
 * read it over and over, so reading more than twice the region is refused as corrupt.
 */
class Window {
  readonly #src: ByteSource;
  readonly #start: number;
  readonly #end: number;
  #buf: Buffer = Buffer.alloc(0);
  #from = 0; // region offset of #buf[0]
  #budget: number;

  constructor(src: ByteSource, start: number, end: number) {
    this.#src = src;
    this.#start = start;
    this.#end = end;
    this.#budget = 2 * (end - start) + 2 * WINDOW;
  }

  /** `length` bytes at region offset `off` as a slice of a buffer, or undefined past the end. */
  bytes(off: number, length: number): { buf: Buffer; at: number } | undefined {
    if (off < 0 || this.#start + off + length > this.#end) return undefined;
    if (off < this.#from || off + length > this.#from + this.#buf.length) this.#load(off, Math.max(WINDOW, length));
    return this.#buf.length >= off - this.#from + length ? { buf: this.#buf, at: off - this.#from } : undefined;
  }

  /** The NUL-terminated string at region offset `off`, or undefined when it has no end. */
  cstring(off: number): string | undefined {
    if (off < 0 || this.#start + off >= this.#end) return undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const inWindow = off >= this.#from && off < this.#from + this.#buf.length;
      const nul = inWindow ? this.#buf.indexOf(0, off - this.#from) : -1;
      if (nul >= 0 && nul - (off - this.#from) <= MAX_NAME) return this.#buf.toString('utf8', off - this.#from, nul);
      this.#load(off, WINDOW); // the name starts, or runs on, outside the window
    }
    return undefined;
  }

  #load(off: number, length: number): void {
    const want = Math.min(length, this.#end - this.#start - off);
    this.#budget -= want;
    if (this.#budget < 0) throw corrupt(this.#src, 'function records point back and forth across the table');
    this.#from = off;
    this.#buf = this.#src.read(this.#start + off, want);
  }
}
