// Damaged and altered copies of real ELF files, made in memory: the ELF header fields are at
// fixed offsets (System V ABI), so these edits do not depend on the reader under test.
import { bufferSource } from '../../src/io/bytesource.ts';
import { readElf } from '../../src/readers/elf/elf.ts';

interface Field {
  at64: number;
  at32: number;
  size64: 2 | 4 | 8;
  size32: 2 | 4;
}

export const EHDR: Record<string, Field> = {
  e_phoff: { at64: 32, at32: 28, size64: 8, size32: 4 },
  e_shoff: { at64: 40, at32: 32, size64: 8, size32: 4 },
  e_phentsize: { at64: 54, at32: 42, size64: 2, size32: 2 },
  e_phnum: { at64: 56, at32: 44, size64: 2, size32: 2 },
  e_shentsize: { at64: 58, at32: 46, size64: 2, size32: 2 },
  e_shnum: { at64: 60, at32: 48, size64: 2, size32: 2 },
  e_shstrndx: { at64: 62, at32: 50, size64: 2, size32: 2 },
};

/** A copy of `elf` with one ELF header field set to `value`. */
export function withHeaderField(elf: Buffer, name: keyof typeof EHDR, value: bigint): Buffer {
  const out = Buffer.from(elf);
  const f = EHDR[name];
  if (!f) throw new Error(`unknown field ${name}`);
  const is64 = out[4] === 2;
  const little = out[5] === 1;
  const at = is64 ? f.at64 : f.at32;
  const size = is64 ? f.size64 : f.size32;
  if (size === 8) {
    if (little) out.writeBigUInt64LE(value, at);
    else out.writeBigUInt64BE(value, at);
  } else if (size === 4) {
    if (little) out.writeUInt32LE(Number(value), at);
    else out.writeUInt32BE(Number(value), at);
  } else if (little) out.writeUInt16LE(Number(value), at);
  else out.writeUInt16BE(Number(value), at);
  return out;
}

/** A copy with the section header table gone from the header (what `sstrip`-like tools do). */
export function withoutSectionHeaders(elf: Buffer): Buffer {
  let out = withHeaderField(elf, 'e_shoff', 0n);
  out = withHeaderField(out, 'e_shnum', 0n);
  return withHeaderField(out, 'e_shstrndx', 0n);
}

/** Where a named section's bytes are (located with the reader, checked against readelf elsewhere). */
export function sectionOffset(elf: Buffer, name: string): { offset: number; size: number } {
  const s = readElf(bufferSource('patch', elf)).sections.find((x) => x.name === name);
  if (!s) throw new Error(`no section ${name}`);
  return { offset: s.offset, size: s.size };
}

/**
 * A copy whose Go build info is gone, as if the linker had not written it: the section is
 * renamed (same length) and the blob's magic wiped.
 */
export function withoutGoBuildInfo(elf: Buffer): Buffer {
  const out = Buffer.from(elf);
  const { offset } = sectionOffset(out, '.go.buildinfo');
  out.fill(0, offset, offset + 16);
  const names = sectionOffset(out, '.shstrtab');
  const at = out.indexOf('.go.buildinfo\0', names.offset, 'latin1');
  if (at < 0 || at >= names.offset + names.size) throw new Error('no .go.buildinfo in .shstrtab');
  out.write('.go.removed__', at, 'latin1');
  return out;
}
