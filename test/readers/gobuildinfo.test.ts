// Go build info of real binaries, checked item by item against `go version -m`: the stored
// outputs in ../shared/data/gobin (Go 1.18+ inline form), and Debian's `go` run on old
// npm esbuild builds (Go 1.16 / 1.17 pointer form). Then the same binaries with their section
// headers removed, where the build info must be found by its magic.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bufferSource, fileSource } from '../../src/io/bytesource.ts';
import { readElf } from '../../src/readers/elf/elf.ts';
import { readBinary } from '../../src/readers/go/binary.ts';
import { findRuntimeGoVersion } from '../../src/readers/go/stripped.ts';
import { REAL_BINARIES, realBinary, SHARED_DATA } from '../fixtures/realbins.ts';
import { withoutSectionHeaders } from './elfpatch.ts';
import { assertMatchesOracle, goUnavailable, goVersionM, parseGoVersionM } from './goversionm.ts';

const GOBIN = join(SHARED_DATA, 'gobin');
const shared = existsSync(GOBIN) ? undefined : `${GOBIN} is absent (the shared reference data)`;
const stored = shared ? [] : readdirSync(GOBIN).filter((f) => f.endsWith('.txt'));

test('stored go version -m outputs exist', { skip: shared }, () => {
  assert.ok(stored.length >= 10, `only ${stored.length} files in ${GOBIN}`);
});

for (const file of stored) {
  const name = file.replace(/\.txt$/, '');
  const bin = realBinary(name);
  test(`build info of ${name} matches go version -m`, { skip: 'skip' in bin ? bin.skip : undefined }, () => {
    if (!('path' in bin)) return;
    const oracle = parseGoVersionM(readFileSync(join(GOBIN, file), 'utf8'));
    const src = fileSource(bin.path, name);
    try {
      const info = readBinary(src);
      if (!oracle) {
        // Go itself finds no build info here: the reader must say what it is instead.
        assert.equal(info.format, 'go-no-buildinfo', JSON.stringify(info));
        return;
      }
      assert.equal(info.format, 'go', JSON.stringify(info).slice(0, 300));
      if (info.format !== 'go') return;
      assert.equal(info.buildInfo.encoding, 'inline');
      assert.equal(info.arch.name, 'amd64');
      assertMatchesOracle(info.buildInfo, oracle);
    } finally {
      src.close();
    }
  });
}

test('esbuild 0.28.2: a Go binary without build info, its Go version from runtime.buildVersion', (t) => {
  const bin = realBinary('esbuild-0.28.2');
  if ('skip' in bin) return t.skip(bin.skip);
  const src = fileSource(bin.path, 'esbuild-0.28.2');
  try {
    const info = readBinary(src);
    assert.equal(info.format, 'go-no-buildinfo');
    if (info.format !== 'go-no-buildinfo') return;
    assert.equal(info.goVersion, 'go1.26.5');
    assert.equal(info.arch.name, 'amd64');
    assert.match(info.reason, /module list is missing/);
  } finally {
    src.close();
  }
});

// Built by Go 1.16 and 1.17: build info in the pointer form, checked against Debian's go.
for (const name of ['esbuild-0.13.15', 'esbuild-0.8.57']) {
  test(`pointer-form build info of ${name} matches go version -m`, (t) => {
    const bin = realBinary(name);
    if ('skip' in bin) return t.skip(bin.skip);
    const noGo = goUnavailable();
    if (noGo) return t.skip(noGo);
    const oracle = goVersionM(bin.path);
    assert.ok(oracle, 'go version -m reads it');
    assert.match(oracle.goVersion, /^go1\.1[3-7]\b/, 'a Go 1.13-1.17 build');
    const src = fileSource(bin.path, name);
    try {
      const info = readBinary(src);
      assert.equal(info.format, 'go');
      if (info.format !== 'go') return;
      assert.equal(info.buildInfo.encoding, 'pointer');
      assertMatchesOracle(info.buildInfo, oracle);
      assert.ok(info.buildInfo.deps.length > 0, 'has dependencies with sums');
    } finally {
      src.close();
    }
  });
}

// Section headers zeroed (e_shoff, e_shnum, e_shstrndx): the build info is found by its magic
// in the data segment, in both encodings, and a build-info-less Go binary by its pclntab.
for (const name of ['esbuild-0.24.2', 'lefthook-2.2.2', 'esbuild-0.13.15', 'esbuild-0.28.2']) {
  test(`${name} without section headers reads the same`, (t) => {
    const bin = realBinary(name);
    if ('skip' in bin) return t.skip(bin.skip);
    const whole = fileSource(bin.path, name);
    const expected = readBinary(whole);
    whole.close();
    const stripped = bufferSource(`${name} (no sections)`, withoutSectionHeaders(readFileSync(bin.path)));
    assert.deepEqual(readElf(stripped).sections, [], 'the copy has no section headers');
    assert.deepEqual(readBinary(stripped), expected);
  });
}

// The method used when build info is missing (the runtime.buildVersion string variable), tried
// on every real binary that has build info: it must name the same Go version, or none.
test('runtime.buildVersion agrees with the build info on every real Go binary', (t) => {
  let checked = 0;
  for (const name of Object.keys(REAL_BINARIES)) {
    const bin = realBinary(name);
    if ('skip' in bin) continue;
    const src = fileSource(bin.path, name);
    try {
      const info = readBinary(src);
      if (info.format !== 'go') continue;
      assert.equal(findRuntimeGoVersion(readElf(src)), info.buildInfo.goVersion, name);
      checked++;
    } finally {
      src.close();
    }
  }
  if (checked === 0) t.skip('no real Go binary in the cache');
  else assert.ok(checked >= 10, `checked ${checked}`);
});
