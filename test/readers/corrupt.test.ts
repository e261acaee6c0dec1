// Damaged input: real binaries cut short at telling points, and real binaries with one header
// field made hostile. Each must end in an InputError that names the file, with a code saying
// what is wrong; never a TypeError, a RangeError, a stack trace or a hang.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { bufferSource } from '../../src/io/bytesource.ts';
import { InputError, type InputErrorCode } from '../../src/model/errors.ts';
import { addressToOffset, readElf } from '../../src/readers/elf/elf.ts';
import { readBinary } from '../../src/readers/go/binary.ts';
import { realBinary } from '../fixtures/realbins.ts';
import { sectionOffset, withHeaderField } from './elfpatch.ts';

function load(name: string): Buffer | { skip: string } {
  const bin = realBinary(name);
  return 'skip' in bin ? bin : readFileSync(bin.path);
}

function assertInputError(bytes: Buffer, name: string, codes: InputErrorCode[], message?: RegExp): void {
  assert.throws(
    () => readBinary(bufferSource(name, bytes)),
    (e: unknown) => {
      assert.ok(e instanceof InputError, `an InputError, not ${String(e)}`);
      assert.ok(codes.includes(e.code), `code ${e.code} (${e.message}) is one of ${codes.join(', ')}`);
      assert.equal(e.file, name);
      assert.ok(e.oneLine().startsWith(`${name}: `), e.oneLine());
      if (message) assert.match(e.message, message);
      return true;
    },
  );
}

test('real binaries cut short are ELF_TRUNCATED', (t) => {
  const whole = load('esbuild-0.24.2');
  if (!Buffer.isBuffer(whole)) return t.skip(whole.skip);
  const elf = readElf(bufferSource('esbuild', whole));
  const buildinfo = sectionOffset(whole, '.go.buildinfo');
  const lastSegmentEnd = Math.max(...elf.segments.map((s) => s.offset + s.filesz));
  const cuts: Array<[string, number]> = [
    ['inside the ELF header', 40],
    ['inside the program headers', 64 + 56 + 10],
    ['inside the text', 0x10000],
    ['inside the build info', buildinfo.offset + 40],
    ['after the segments, inside the section headers', whole.length - 100],
  ];
  assert.ok(lastSegmentEnd < whole.length - 100, 'the section headers come last in this file');
  for (const [where, at] of cuts) {
    assertInputError(whole.subarray(0, at), `esbuild (cut ${where})`, ['ELF_TRUNCATED'], /truncated ELF/);
  }
});

test('a pointer-form build info cut off from its strings is an InputError', (t) => {
  const whole = load('esbuild-0.13.15');
  if (!Buffer.isBuffer(whole)) return t.skip(whole.skip);
  const { offset } = sectionOffset(whole, '.go.buildinfo');
  assertInputError(whole.subarray(0, offset + 20), 'esbuild-0.13.15 (cut)', ['ELF_TRUNCATED']);
});

test('hostile ELF header fields are InputErrors', (t) => {
  const whole = load('esbuild-0.24.2');
  if (!Buffer.isBuffer(whole)) return t.skip(whole.skip);
  const name = 'esbuild (hostile)';
  // Huge e_shnum: the table runs past the end, or (here) reads code as section headers.
  assertInputError(withHeaderField(whole, 'e_shnum', 0xfff0n), name, ['ELF_TRUNCATED', 'ELF_CORRUPT']);
  assertInputError(withHeaderField(whole, 'e_shoff', BigInt(whole.length + 4096)), name, ['ELF_TRUNCATED']);
  assertInputError(withHeaderField(whole, 'e_shoff', 1n << 62n), name, ['ELF_CORRUPT'], /impossibly large/);
  assertInputError(withHeaderField(whole, 'e_phoff', BigInt(whole.length - 8)), name, ['ELF_TRUNCATED']);
  assertInputError(withHeaderField(whole, 'e_phentsize', 8n), name, ['ELF_CORRUPT'], /e_phentsize/);
  assertInputError(withHeaderField(whole, 'e_shentsize', 8n), name, ['ELF_CORRUPT'], /e_shentsize/);
  assertInputError(withHeaderField(whole, 'e_shstrndx', 0xfffen), name, ['ELF_CORRUPT'], /e_shstrndx/);
  // A section table pointed into the middle of the code: its "sections" are garbage.
  assertInputError(withHeaderField(whole, 'e_shoff', 0x2000n), name, ['ELF_CORRUPT', 'ELF_TRUNCATED']);
  const badClass = Buffer.from(whole);
  badClass[4] = 7;
  assertInputError(badClass, name, ['ELF_CORRUPT'], /class/);
});

test('a section name outside the name table is ELF_CORRUPT', (t) => {
  const whole = load('esbuild-0.24.2');
  if (!Buffer.isBuffer(whole)) return t.skip(whole.skip);
  const shoff = Number(whole.readBigUInt64LE(40));
  const bad = Buffer.from(whole);
  bad.writeUInt32LE(0x7ffffff0, shoff + 64); // sh_name of section 1
  assertInputError(bad, 'esbuild (bad name)', ['ELF_CORRUPT'], /name of section 1/);
});

test('a build info string length past the end is BUILDINFO_CORRUPT', (t) => {
  const whole = load('esbuild-0.24.2');
  if (!Buffer.isBuffer(whole)) return t.skip(whole.skip);
  const { offset } = sectionOffset(whole, '.go.buildinfo');
  const versionLength = whole[offset + 32] as number;
  const modLengthAt = offset + 33 + versionLength;
  const bad = Buffer.from(whole);
  bad.set([0xff, 0xff, 0xff, 0x7f], modLengthAt); // a varint of about 268 million
  assertInputError(bad, 'esbuild (long string)', ['BUILDINFO_CORRUPT'], /module list/);
  assert.ok(sectionOffset(whole, '.go.buildinfo').size < 1000);
  const badVersion = Buffer.from(whole);
  badVersion.set([0xff, 0x07], offset + 32); // 1023 bytes: past the end of the small section
  assertInputError(badVersion, 'esbuild (long version)', ['BUILDINFO_CORRUPT'], /past the end of the build info/);
});

test('a pointer-form string header pointing outside the file is BUILDINFO_CORRUPT', (t) => {
  const whole = load('esbuild-0.13.15');
  if (!Buffer.isBuffer(whole)) return t.skip(whole.skip);
  const elf = readElf(bufferSource('esbuild-0.13.15', whole));
  const { offset } = sectionOffset(whole, '.go.buildinfo');
  const modHeaderAddr = whole.readBigUInt64LE(offset + 24);
  const at = addressToOffset(elf, modHeaderAddr, 16);
  assert.ok(at !== undefined);
  const longString = Buffer.from(whole);
  longString.writeBigUInt64LE(1n << 40n, at + 8); // the module list's length
  assertInputError(longString, 'esbuild (huge length)', ['BUILDINFO_CORRUPT'], /module list claims/);
  const nowhere = Buffer.from(whole);
  nowhere.writeBigUInt64LE(0x7fff_0000_0000n, offset + 16); // the version header pointer
  assertInputError(nowhere, 'esbuild (bad pointer)', ['BUILDINFO_CORRUPT'], /not in the file/);
});

// Random damage to the headers and build info of a real binary (a fixed seed, so a failure reproduces):
// every outcome is either an answer or an InputError.
test('random header damage never escapes as anything but an InputError', (t) => {
  const whole = load('esbuild-0.24.2');
  if (!Buffer.isBuffer(whole)) return t.skip(whole.skip);
  const shoff = Number(whole.readBigUInt64LE(40));
  const buildinfo = sectionOffset(whole, '.go.buildinfo');
  const regions = [
    [0, 64 + 6 * 56],
    [shoff, whole.length],
    [buildinfo.offset, buildinfo.offset + buildinfo.size],
  ] as const;
  let seed = 0x6b337367;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const bad = Buffer.from(whole);
  for (let round = 0; round < 1000; round++) {
    const changed: number[] = [];
    for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
      const [start, end] = regions[Math.floor(random() * regions.length)] as readonly [number, number];
      const at = start + Math.floor(random() * (end - start));
      bad[at] = Math.floor(random() * 256);
      changed.push(at);
    }
    try {
      readBinary(bufferSource(`round ${round}`, bad));
    } catch (e) {
      assert.ok(e instanceof InputError, `round ${round} (bytes ${changed.join(', ')}): ${String(e)}`);
    }
    for (const at of changed) bad[at] = whole[at] as number;
  }
});
