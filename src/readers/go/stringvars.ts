// Finding the value of a Go string variable without symbols. A package-level `var s = "..."`
// (and a value set with `-ldflags -X`) is stored by the Go linker as a string header
// {data pointer, length} in a writable data segment, pointing at exactly `length` bytes in
// read-only data. Go strings are not NUL-terminated and sit back to back, so a plain
// search of the bytes for "go1.2" cannot tell where a string ends; a header can.
//
// This scans `.data` (or, without section headers, the writable segments) for pointer-aligned
// headers whose length is in range and whose pointer lands in the file, and keeps the values
// the caller accepts.
// Limits: a position-independent binary whose pointers are filled in by dynamic relocations
// at load time has zeros in those slots, so nothing is found there; and any variable holding
// an acceptable value counts, so callers must accept only shapes specific enough to mean what
// they look for, and treat more than one distinct value as "unknown".

import { scanChunks } from '../../io/scan-chunks.ts';
import {
  addressTranslator,
  type ElfFile,
  FieldReader,
  findSection,
  loadSegments,
  PF_W,
  SHT_NOBITS,
} from '../elf/elf.ts';

export interface StringVarQuery {
  minLength: number;
  maxLength: number;
  /** Bytes the value must start with: a cheap filter before the full test. */
  prefixes: string[];
  accept: (value: string) => boolean;
}

// Beyond this many distinct values the answer is "ambiguous" whatever they are.
const MAX_VALUES = 16;

/** Distinct values of Go string variables that the query accepts, in the order found. */
export function findGoStringValues(elf: ElfFile, query: StringVarQuery): string[] {
  const ptrSize = elf.arch.class === 64 ? 8 : 4;
  const f = new FieldReader(elf.arch.endian === 'little', ptrSize === 8);
  const values = new Set<string>();
  const prefixes = query.prefixes.map((p) => Buffer.from(p, 'latin1'));
  const minLen = BigInt(query.minLength);
  const maxLen = BigInt(query.maxLength);
  const reader = cachedReader(elf);
  const toOffset = addressTranslator(elf);
  for (const region of regions(elf)) {
    // Slots are aligned in memory; start at the first aligned address of the region.
    const first = (ptrSize - Number(region.vaddr % BigInt(ptrSize))) % ptrSize;
    const start = region.offset + first;
    const end = region.offset + region.filesz;
    const full = scanChunks(elf.source, start, end, ptrSize, (buf, _offset, owned) => {
      for (let i = 0; i + 2 * ptrSize <= buf.length && i < owned; i += ptrSize) {
        const len = f.word(buf, i + ptrSize);
        if (len < minLen || len > maxLen) continue;
        const at = toOffset(f.word(buf, i), Number(len));
        if (at === undefined) continue;
        const bytes = reader(at, Number(len));
        if (!prefixes.some((p) => bytes.subarray(0, p.length).equals(p))) continue;
        const value = bytes.toString('latin1');
        if (query.accept(value)) values.add(value);
        if (values.size > MAX_VALUES) return true;
      }
      return undefined;
    });
    if (full) break;
  }
  return [...values];
}

/**
 * Where initialised variables with pointers live: Go's linker puts them in `.data` (not
 * `.noptrdata`, which is often far larger). Without section headers: every writable segment.
 */
function regions(elf: ElfFile): Array<{ vaddr: bigint; offset: number; filesz: number }> {
  const data = findSection(elf, '.data');
  if (data && data.type !== SHT_NOBITS) return [{ vaddr: data.addr, offset: data.offset, filesz: data.size }];
  return loadSegments(elf).filter((seg) => seg.flags & PF_W);
}

// Candidate strings cluster in read-only data: reading it in blocks (a few, kept) turns
// thousands of tiny reads into a handful.
const BLOCK = 64 << 10;
const MAX_BLOCKS = 64;

function cachedReader(elf: ElfFile): (offset: number, length: number) => Buffer {
  const blocks = new Map<number, Buffer>();
  return (offset, length) => {
    const index = Math.floor(offset / BLOCK);
    if (Math.floor((offset + length - 1) / BLOCK) !== index) return elf.source.read(offset, length);
    let block = blocks.get(index);
    if (!block) {
      if (blocks.size >= MAX_BLOCKS) blocks.delete(blocks.keys().next().value as number);
      block = elf.source.read(index * BLOCK, BLOCK);
      blocks.set(index, block);
    }
    const from = offset - index * BLOCK;
    return block.subarray(from, from + length);
  };
}
