// Every architecture, both byte orders, both word sizes: a tiny K3s-shaped Go program built
// by Debian's Go for each GOARCH (see goprobe.ts), read by the reader and checked against
// `go version -m` of the same file. Then the same binaries with their build info removed
// (a Go binary must still be recognised, with its Go version) and with no section headers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { bufferSource, fileSource } from '../../src/io/bytesource.ts';
import type { BinaryInfo } from '../../src/model/inventory.ts';
import { readBinary } from '../../src/readers/go/binary.ts';
import { withoutGoBuildInfo, withoutSectionHeaders } from './elfpatch.ts';
import { PROBE_ARCHS, probeBinary } from './goprobe.ts';
import { assertMatchesOracle, goVersionM } from './goversionm.ts';

const EXPECTED_ARCH: Record<string, { class: 32 | 64; endian: 'little' | 'big'; machine: number }> = {
  amd64: { class: 64, endian: 'little', machine: 62 },
  '386': { class: 32, endian: 'little', machine: 3 },
  arm: { class: 32, endian: 'little', machine: 40 },
  arm64: { class: 64, endian: 'little', machine: 183 },
  s390x: { class: 64, endian: 'big', machine: 22 },
  ppc64: { class: 64, endian: 'big', machine: 21 },
  ppc64le: { class: 64, endian: 'little', machine: 21 },
  mips: { class: 32, endian: 'big', machine: 8 },
  mips64le: { class: 64, endian: 'little', machine: 8 },
  riscv64: { class: 64, endian: 'little', machine: 243 },
  loong64: { class: 64, endian: 'little', machine: 258 },
};

function readFile(path: string, name: string): BinaryInfo {
  const src = fileSource(path, name);
  try {
    return readBinary(src);
  } finally {
    src.close();
  }
}

for (const goarch of PROBE_ARCHS) {
  test(`GOARCH=${goarch}: arch, encoding and build info match go version -m`, (t) => {
    const probe = probeBinary(goarch);
    if ('skip' in probe) return t.skip(probe.skip);
    const info = readFile(probe.path, `probe-${goarch}`);
    assert.equal(info.format, 'go');
    if (info.format !== 'go') return;
    assert.deepEqual(info.arch, { ...EXPECTED_ARCH[goarch], name: goarch });
    assert.equal(info.buildInfo.encoding, 'inline');
    const oracle = goVersionM(probe.path);
    assert.ok(oracle);
    assertMatchesOracle(info.buildInfo, oracle);
    // What the probe was built to contain, so the comparison above is not vacuous.
    assert.equal(info.buildInfo.main?.path, 'github.com/k3s-io/k3s');
    assert.deepEqual(
      info.buildInfo.deps.map((d) => [d.path, d.version, d.replace?.path, d.replace?.version]),
      [
        ['example.com/dep', 'v1.0.0', undefined, undefined],
        ['example.com/forked', 'v1.0.0', 'example.com/fork', 'v1.1.0'],
        ['example.com/local', 'v0.0.0', './local', '(devel)'],
      ],
    );
    assert.ok(info.buildInfo.settings.some((s) => s.key === 'GOARCH' && s.value === goarch));

    const bytes = readFileSync(probe.path);
    const stripped = readBinary(bufferSource(`probe-${goarch} (no sections)`, withoutSectionHeaders(bytes)));
    assert.deepEqual(stripped, info, 'found by magic without section headers');

    const noBuildInfo = withoutGoBuildInfo(bytes);
    for (const [label, buf] of [
      ['build info removed', noBuildInfo],
      ['build info and section headers removed', withoutSectionHeaders(noBuildInfo)],
    ] as const) {
      const bare = readBinary(bufferSource(`probe-${goarch} (${label})`, buf));
      assert.equal(bare.format, 'go-no-buildinfo', label);
      if (bare.format !== 'go-no-buildinfo') continue;
      assert.equal(bare.goVersion, oracle.goVersion, `${label}: Go version from runtime.buildVersion`);
      assert.deepEqual(bare.arch, info.arch);
      assert.match(bare.reason, /module list is missing/);
    }
  });
}
