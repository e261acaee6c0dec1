// Recognising a Go binary whose build info was removed, and its Go version.
//
// Every Go binary carries a pclntab (the runtime's function and line table: stack traces and
// garbage collection need it, so it cannot be stripped). It begins with a magic number that
// names its format, then two zero bytes, the instruction size quantum (1, 2 or 4) and the
// pointer size, then pointer-sized fields. It is the `.gopclntab` section; without section
// headers it is found in a read-only segment by that magic with fields that make sense
// (offsets in order and inside the segment, the text start inside an executable segment).
//
// The Go version is the value of the runtime's `runtime.buildVersion` string variable,
// found through its string header (see stringvars.ts): a string variable whose whole value
// has the exact shape of a Go release version. It is reported only when exactly one distinct
// such value exists; otherwise it is left unknown rather than guessed.

import { scanChunks } from '../../io/scan-chunks.ts';
import { type ElfFile, FieldReader, findSection, loadSegments, PF_W, PF_X, SHT_NOBITS } from '../elf/elf.ts';
import { findGoStringValues } from './stringvars.ts';

const PCLNTAB_FORMATS: Record<number, string> = {
  4294967291: 'Go 1.2 to 1.15',
  4294967290: 'Go 1.16 to 1.17',
  4294967280: 'Go 1.18 to 1.19',
  4294967281: 'Go 1.20 or later',
};

export interface Pclntab {
  /** The file offset of the table. */
  offset: number;
  /** Which Go releases write this table format (from its magic). */
  format: string;
}

/** The Go pclntab of this ELF, or undefined when it has none (not a Go binary). */
export function findPclntab(elf: ElfFile): Pclntab | undefined {
  const named = elf.sections.some((s) => s.name !== '');
  if (named) {
    const s = findSection(elf, '.gopclntab');
    if (!s || s.type === SHT_NOBITS) return undefined;
    return checkHeader(elf, elf.source.read(s.offset, Math.min(s.size, 128)), s.size, s.offset);
  }
  // Read-only data first: that is where Go puts the table (older linkers: the text segment).
  const readOnly = loadSegments(elf).filter((s) => !(s.flags & PF_W));
  for (const seg of [...readOnly.filter((s) => !(s.flags & PF_X)), ...readOnly.filter((s) => s.flags & PF_X)]) {
    const end = seg.offset + seg.filesz;
    const found = scanChunks(elf.source, seg.offset, end, 128, (buf, offset, owned) => {
      for (let i = nextMagic(buf, offset, 0, elf); i >= 0 && i < owned; i = nextMagic(buf, offset, i + 4, elf)) {
        const hit = checkHeader(elf, buf.subarray(i, i + 128), end - (offset + i), offset + i);
        if (hit) return hit;
      }
      return undefined;
    });
    if (found) return found;
  }
  return undefined;
}

// Every magic is 0xfffffffX: in the file, three 0xff bytes and the varying one.
const FFFFFF = Buffer.from([0xff, 0xff, 0xff]);

/**
 * Index in `buf` (which holds the file from offset `base`) of the next "magic, 0, 0" at a
 * 4-byte aligned file offset, from index `from`; -1 when there is none. (Segments are
 * page-aligned in the file, so file and address alignment agree.)
 */
function nextMagic(buf: Buffer, base: number, from: number, elf: ElfFile): number {
  const little = elf.arch.endian === 'little';
  for (let i = buf.indexOf(FFFFFF, from); i >= 0; i = buf.indexOf(FFFFFF, i + 1)) {
    const at = little ? i - 1 : i; // little-endian: the varying byte comes first
    if (at < from || (base + at) % 4 !== 0 || at + 6 > buf.length) continue;
    if (buf[at + 4] === 0 && buf[at + 5] === 0) return at;
  }
  return -1;
}

/** Validates a pclntab header in `head`, with `available` bytes of table in the file. */
function checkHeader(elf: ElfFile, head: Buffer, available: number, offset: number): Pclntab | undefined {
  const ptrSize = elf.arch.class === 64 ? 8 : 4;
  const f = new FieldReader(elf.arch.endian === 'little', ptrSize === 8);
  if (head.length < 8 + 8 * ptrSize) return undefined;
  const magic = f.u32(head, 0);
  const format = PCLNTAB_FORMATS[magic];
  if (!format || head[4] !== 0 || head[5] !== 0) return undefined;
  if (![1, 2, 4].includes(head[6] as number) || head[7] !== ptrSize) return undefined;
  const word = (n: number) => f.word(head, 8 + n * ptrSize);
  const nfunc = word(0);
  if (nfunc === 0n) return undefined;
  const inText = textChecker(elf);
  if (magic === 0xfffffffb) {
    // Go 1.2-1.15: nfunc, then nfunc (pc, offset) pairs; the first pc is a function's entry.
    const tableEnd = 8n + BigInt(ptrSize) * (1n + 2n * nfunc);
    return tableEnd <= BigInt(available) && inText(word(1)) ? { offset, format } : undefined;
  }
  // Go 1.16+: nfunc, nfiles, [textStart (1.18+)], then the offsets of the sub-tables, which the
  // linker writes in order, each after the header and inside the table. Recent linkers (Go
  // 1.26) write 0 for textStart and keep it in the module data instead.
  const hasText = magic !== 0xfffffffa;
  if (hasText && word(2) !== 0n && !inText(word(2))) return undefined;
  const first = hasText ? 3 : 2;
  let previous = BigInt(8 + (first + 5) * ptrSize);
  for (let n = first; n < first + 5; n++) {
    const v = word(n);
    if (v < previous || v >= BigInt(available)) return undefined;
    previous = v;
  }
  return { offset, format };
}

function textChecker(elf: ElfFile): (addr: bigint) => boolean {
  const text = loadSegments(elf).filter((s) => s.flags & PF_X);
  return (addr) => text.some((s) => addr >= s.vaddr && addr < s.vaddr + BigInt(s.memsz));
}

// A release (`go1.26.5`, `go1.21rc2`, `go1.9beta1`), optionally with the experiments suffix
// the toolchain appends (`go1.20.1 X:boringcrypto`), or a development toolchain's
// `devel go1.22-abcdef0123 Tue Jan 2 15:04:05 2024 +0000`.
const GO_VERSION = /^(go1(\.[0-9]+){0,2}((rc|beta)[0-9]+)?( X:[A-Za-z0-9_,]+)?|devel go1\.[0-9]+-[0-9a-f]+ [ -~]+)$/;

/** runtime.buildVersion, when exactly one string variable holds a Go version. */
export function findRuntimeGoVersion(elf: ElfFile): string | undefined {
  const values = findGoStringValues(elf, {
    minLength: 3,
    maxLength: 120,
    prefixes: ['go1', 'devel go1'],
    accept: (v) => GO_VERSION.test(v),
  });
  return values.length === 1 ? values[0] : undefined;
}
