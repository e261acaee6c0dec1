// The ELF reader against GNU readelf (binutils) on real files of each class and byte order:
// every program header and every section (name, type, address, offset, size) must agree.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileSource } from '../../src/io/bytesource.ts';
import { addressToOffset, type ElfFile, readElf } from '../../src/readers/elf/elf.ts';
import { realBinary } from '../fixtures/realbins.ts';
import { probeBinary } from './goprobe.ts';

const SEGMENT_TYPES: Record<string, number> = {
  NULL: 0,
  LOAD: 1,
  DYNAMIC: 2,
  INTERP: 3,
  NOTE: 4,
  PHDR: 6,
  TLS: 7,
  GNU_EH_FRAME: 0x6474e550,
  GNU_STACK: 0x6474e551,
  GNU_RELRO: 0x6474e552,
  GNU_PROPERTY: 0x6474e553,
};
const SECTION_TYPES: Record<string, number> = {
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  HASH: 5,
  DYNAMIC: 6,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  DYNSYM: 11,
  INIT_ARRAY: 14,
  FINI_ARRAY: 15,
};

function readelf(path: string, flag: string): string | undefined {
  try {
    return execFileSync('readelf', ['-W', flag, path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return undefined;
  }
}

function oracleSegments(text: string) {
  const re =
    /^\s+(\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+([RWE ]{3})\s+0x[0-9a-f]+$/gm;
  return [...text.matchAll(re)].map((m) => ({
    type: m[1] as string,
    offset: Number.parseInt(m[2] as string, 16),
    vaddr: BigInt(`0x${m[3]}`),
    filesz: Number.parseInt(m[4] as string, 16),
    memsz: Number.parseInt(m[5] as string, 16),
    flags: (m[6]?.includes('R') ? 4 : 0) | (m[6]?.includes('W') ? 2 : 0) | (m[6]?.includes('E') ? 1 : 0),
  }));
}

function oracleSections(text: string) {
  const re = /^\s+\[\s*(\d+)\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s/gm;
  return [...text.matchAll(re)].map((m) => ({
    index: Number(m[1]),
    name: m[2] as string,
    type: m[3] as string,
    addr: BigInt(`0x${m[4]}`),
    offset: Number.parseInt(m[5] as string, 16),
    size: Number.parseInt(m[6] as string, 16),
  }));
}

function compareWithReadelf(elf: ElfFile, path: string): void {
  const phdrs = readelf(path, '-l') ?? '';
  const expectedSegments = oracleSegments(phdrs);
  assert.equal(elf.segments.length, expectedSegments.length, 'segment count');
  expectedSegments.forEach((e, i) => {
    const got = elf.segments[i];
    assert.ok(got);
    const type = SEGMENT_TYPES[e.type];
    if (type !== undefined) assert.equal(got.type, type, `segment ${i} type`);
    assert.deepEqual(
      { offset: got.offset, vaddr: got.vaddr, filesz: got.filesz, memsz: got.memsz, flags: got.flags & 7 },
      { offset: e.offset, vaddr: e.vaddr, filesz: e.filesz, memsz: e.memsz, flags: e.flags },
      `segment ${i}`,
    );
  });
  const shdrs = readelf(path, '-S') ?? '';
  const count = /There are (\d+) section headers/.exec(shdrs);
  assert.equal(elf.sections.length, Number(count?.[1]), 'section count');
  // Section 0 is the nameless NULL entry (this pattern misreads its row); the rest must agree.
  const expectedSections = oracleSections(shdrs).filter((e) => e.index > 0);
  assert.ok(expectedSections.length > 5, 'readelf lists the sections');
  for (const e of expectedSections) {
    const got = elf.sections[e.index];
    assert.ok(got, `section ${e.index}`);
    const type = SECTION_TYPES[e.type];
    if (type !== undefined) assert.equal(got.type, type, `section ${e.name} type`);
    assert.deepEqual(
      { name: got.name, addr: got.addr, offset: got.offset, size: got.size },
      { name: e.name, addr: e.addr, offset: e.offset, size: e.size },
    );
  }
}

const noReadelf = readelf('/proc/self/exe', '-h') === undefined ? 'readelf (binutils) is not installed' : undefined;

const inputs: Array<[string, () => { path: string } | { skip: string }]> = [
  ['esbuild-0.24.2 (64-bit little-endian)', () => realBinary('esbuild-0.24.2')],
  ['debian-runc (64-bit little-endian, dynamically linked)', () => realBinary('debian-runc')],
  ['/bin/ls (not Go)', () => ({ path: '/bin/ls' })],
  ['probe 386 (32-bit little-endian)', () => probeBinary('386')],
  ['probe s390x (64-bit big-endian)', () => probeBinary('s390x')],
  ['probe mips (32-bit big-endian)', () => probeBinary('mips')],
];

for (const [label, get] of inputs) {
  test(`ELF headers of ${label} agree with readelf`, { skip: noReadelf }, (t) => {
    const bin = get();
    if ('skip' in bin) return t.skip(bin.skip);
    const src = fileSource(bin.path);
    try {
      compareWithReadelf(readElf(src), bin.path);
    } finally {
      src.close();
    }
  });
}

test('virtual addresses translate through PT_LOAD to the section bytes', (t) => {
  const bin = realBinary('esbuild-0.24.2');
  if ('skip' in bin) return t.skip(bin.skip);
  const src = fileSource(bin.path);
  try {
    const elf = readElf(src);
    for (const s of elf.sections.filter((x) => x.name === '.rodata' || x.name === '.go.buildinfo')) {
      assert.equal(addressToOffset(elf, s.addr, 16), s.offset, s.name);
    }
    const bss = elf.sections.find((x) => x.name === '.bss');
    assert.ok(bss);
    assert.equal(addressToOffset(elf, bss.addr + 8n, 8), undefined, '.bss has no bytes in the file');
  } finally {
    src.close();
  }
});
