// The function table reader against Go's own debug/gosym (gosymoracle.ts) on real binaries of
// every pclntab layout: Go 1.15 (the 1.2 layout), 1.16, 1.17, 1.19, 1.20, 1.23, 1.26 (which
// writes textStart 0) and 1.27; 64- and 32-bit, little- and big-endian; a position-independent
// executable (table inside .data.rel.ro); every GOARCH Debian's Go builds; and no section headers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { bufferSource, fileSource } from '../../src/io/bytesource.ts';
import { isInputError } from '../../src/model/errors.ts';
import { readElf } from '../../src/readers/elf/elf.ts';
import {
  type GoFunctionTable,
  type PclntabVersion,
  readGoFunctionTable,
  readGoFunctionTableFrom,
} from '../../src/readers/go/functab.ts';
import { realBinary } from '../fixtures/realbins.ts';
import { withoutSectionHeaders } from './elfpatch.ts';
import { PROBE_ARCHS, probeBinary } from './goprobe.ts';
import { gosymFunctions } from './gosymoracle.ts';

function readPath(path: string): GoFunctionTable | undefined {
  const src = fileSource(path);
  try {
    return readGoFunctionTableFrom(src);
  } finally {
    src.close();
  }
}

function assertSameSet(actual: ReadonlySet<string>, expected: ReadonlySet<string>): void {
  const missing = [...expected].filter((n) => !actual.has(n));
  const extra = [...actual].filter((n) => !expected.has(n));
  assert.deepEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }, { missing: [], extra: [] });
  assert.equal(actual.size, expected.size);
}

/** Reads `path`, checks its layout and that its functions are exactly debug/gosym's. */
function checkAgainstOracle(path: string, version: PclntabVersion): GoFunctionTable | { skip: string } {
  const oracle = gosymFunctions(path);
  if ('skip' in oracle) return oracle;
  assert.ok(oracle.size > 1000, `the oracle listed only ${oracle.size} functions`);
  const table = readPath(path);
  assert.ok(table, 'no function table found');
  assert.equal(table.version, version);
  assertSameSet(table.functions, oracle);
  for (const name of table.functions) assert.ok(table.names.has(name), `${name} missing from names`);
  return table;
}

const REAL: Array<[name: string, version: PclntabVersion, what: string]> = [
  ['esbuild-0.7.22', '1.2', 'Go 1.15, amd64'],
  ['esbuild-linux-32-0.7.20', '1.2', 'Go 1.15, 386 (32-bit)'],
  ['esbuild-0.8.57', '1.16', 'Go 1.16'],
  ['esbuild-0.13.15', '1.16', 'Go 1.17'],
  ['esbuild-linux-s390x-0.14.8', '1.16', 'Go 1.17, s390x (big-endian)'],
  ['esbuild-0.15.18', '1.18', 'Go 1.19'],
  ['debian-runc', '1.18', "Debian's runc, Go 1.19.8"],
  ['debian-containerd', '1.18', "Debian's containerd, Go 1.19.8"],
  ['debian-docker', '1.18', "Debian's docker, a PIE: the table is inside .data.rel.ro"],
  ['esbuild-0.19.12', '1.20', 'Go 1.20'],
  ['esbuild-0.24.2', '1.20', 'Go 1.23'],
  ['esbuild-0.28.2', '1.20', 'Go 1.26, textStart 0, no build info'],
  ['lefthook-2.2.2', '1.20', 'Go 1.27'],
];

for (const [name, version, what] of REAL) {
  test(`${name} (${what}): the functions are exactly debug/gosym's`, (t) => {
    const bin = realBinary(name);
    if ('skip' in bin) return t.skip(bin.skip);
    const table = checkAgainstOracle(bin.path, version);
    if ('skip' in table) return t.skip(table.skip);
    if (version === '1.2') {
      // No separate name table before Go 1.16: inlined functions are not listed.
      assert.equal(table.names, table.functions);
    } else {
      // The name table also names the functions inlined into others.
      assert.ok(table.names.size > table.functions.size, 'no inlined function names');
    }
  });
}

for (const goarch of PROBE_ARCHS) {
  test(`GOARCH=${goarch}: the functions are exactly debug/gosym's`, (t) => {
    const probe = probeBinary(goarch);
    if ('skip' in probe) return t.skip(probe.skip);
    const table = checkAgainstOracle(probe.path, '1.18');
    if ('skip' in table) return t.skip(table.skip);
    // The probe's own code, under its import paths (the fork keeps the path it replaces).
    assert.ok(table.functions.has('main.main'));
  });
}

test('names as Go writes them: pointer receivers, generics, escaped path elements', (t) => {
  const names = (name: string): string[] => {
    const bin = realBinary(name);
    if ('skip' in bin) return [];
    return [...(readPath(bin.path)?.names ?? [])];
  };
  const go119 = names('debian-docker');
  const go127 = names('lefthook-2.2.2');
  if (go119.length === 0 || go127.length === 0) return t.skip('debian-docker or lefthook-2.2.2 not cached');
  assert.ok(
    go119.some((n) => /^[a-z/]+\.\(\*[A-Za-z]+\)\.[A-Za-z]+$/.test(n)),
    'a pointer-receiver method',
  );
  assert.ok(
    go119.some((n) => /^gopkg\.in\/yaml%2ev2\./.test(n)),
    'an escaped dot in the last path element',
  );
  // Go 1.18-1.20 write a generic instantiation's type arguments as [...], later Go in full.
  assert.ok(go119.includes('crypto/elliptic.(*nistCurve[...]).Add'), 'a method of a generic type (Go 1.19)');
  assert.ok(
    go127.some((n) => n.includes('[go.shape.')),
    'a generic instantiation with its shape (Go 1.27)',
  );
});

test('without section headers the table is found in its segment, with the same functions', (t) => {
  const bin = realBinary('debian-runc');
  if ('skip' in bin) return t.skip(bin.skip);
  const whole = readFileSync(bin.path);
  const withHeaders = readGoFunctionTable(readElf(bufferSource('runc', whole)));
  const stripped = readElf(bufferSource('runc-sstrip', withoutSectionHeaders(whole)));
  assert.equal(stripped.sections.length, 0);
  const without = readGoFunctionTable(stripped);
  assert.ok(withHeaders && without);
  assert.equal(without.offset, withHeaders.offset);
  assertSameSet(without.functions, withHeaders.functions);
  assertSameSet(without.names, withHeaders.names);
});

test('an ELF that is not Go has no function table', (t) => {
  const path = '/bin/ls';
  let src: ReturnType<typeof fileSource>;
  try {
    src = fileSource(path);
  } catch {
    return t.skip(`${path} not readable`);
  }
  try {
    assert.equal(readGoFunctionTable(readElf(src)), undefined);
  } finally {
    src.close();
  }
});

/** A copy of the Go 1.18-layout, 64-bit little-endian binary at `path`, its table patched. */
function patched(path: string, patch: (table: Buffer, word: (i: number) => number) => void) {
  const whole = Buffer.from(readFileSync(path));
  const table = readPath(path);
  assert.ok(table);
  const view = whole.subarray(table.offset);
  // Header words at 8, 16, ...: nfunc, nfiles, textStart, funcnametab, cutab, filetab, pctab, functab.
  patch(view, (i) => Number(view.readBigUInt64LE(8 + 8 * i)));
  return readElf(bufferSource('patched', whole));
}

/** Overwrites the record offset of every function (functab: nfunc (entryoff, funcoff) uint32 pairs). */
function setRecordOffsets(
  b: Buffer,
  word: (i: number) => number,
  to: (i: number, first: number, last: number) => number,
) {
  const funcoff = (i: number) => word(7) + (2 * i + 1) * 4;
  const first = b.readUInt32LE(funcoff(0));
  const last = b.readUInt32LE(funcoff(word(0) - 1));
  for (let i = 0; i < word(0); i++) b.writeUInt32LE(to(i, first, last), funcoff(i));
}

test('a corrupt table is an ELF_CORRUPT input error naming the file', (t) => {
  const runc = realBinary('debian-runc');
  const containerd = realBinary('debian-containerd');
  if ('skip' in runc) return t.skip(runc.skip);
  if ('skip' in containerd) return t.skip(containerd.skip);
  const corruptions: Array<[string, string, (table: Buffer, word: (i: number) => number) => void]> = [
    [
      'a record outside the table',
      runc.path,
      (b, word) => setRecordOffsets(b, word, (i, first) => (i === 0 ? 0x7fffffff : first)),
    ],
    // More functions than the table can hold.
    ['an impossible function count', runc.path, (b) => b.writeBigUInt64LE(1n << 40n, 8)],
    // Every record valid, but alternately the first and the last, megabytes apart (containerd's
    // table is 12 MB): reading them in 1 MB windows would read the table thousands of times.
    [
      'records that jump back and forth',
      containerd.path,
      (b, word) => setRecordOffsets(b, word, (i, first, last) => (i % 2 ? last : first)),
    ],
  ];
  for (const [what, path, patch] of corruptions) {
    const elf = patched(path, patch);
    assert.throws(
      () => readGoFunctionTable(elf),
      (e: unknown) => isInputError(e) && e.code === 'ELF_CORRUPT' && e.file === 'patched',
      what,
    );
  }
});

test('readGoFunctionNames gives exactly the names of readGoFunctionTable, without the function list', async (t) => {
  const { readGoFunctionNames, readGoFunctionTableFrom } = await import('../../src/readers/go/functab.ts');
  const { fileSource } = await import('../../src/io/bytesource.ts');
  const { realBinary } = await import('../fixtures/realbins.ts');
  let compared = 0;
  for (const name of ['debian-runc', 'esbuild-0.24.2', 'lefthook-2.2.2', 'esbuild-0.13.15', 'esbuild-0.7.22']) {
    const bin = realBinary(name);
    if ('skip' in bin) continue;
    const src = fileSource(bin.path);
    try {
      const full = readGoFunctionTableFrom(src);
      const quick = readGoFunctionNames(src);
      assert.ok(full && quick, name);
      assert.equal(quick.version, full.version);
      assert.deepEqual([...quick.names].sort(), [...full.names].sort(), name);
      compared++;
    } finally {
      src.close();
    }
  }
  if (compared === 0) t.skip('no real Go binaries in the cache');
});
