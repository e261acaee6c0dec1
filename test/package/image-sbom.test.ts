// The image SBOM's use of the single executable's own SBOM (dist/sea/<name>.cdx.json): its
// components nested under the executable and its dependency graph kept, so the image SBOM names
// Node and every bundled npm package; refused when it describes another file. The executable's
// SBOM here is k3sguard's real `sbom --self` with the executable's hash given to its subject,
// the shape `npm run build:sea` writes.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseOsRelease } from '../../src/readers/images/osrelease.ts';
import { type ImageSbomInput, imageSbom } from '../../tools/image/sbom.ts';
import { k3sguard, tempDir } from '../cli/run.ts';
import { cycloneDxComponents, validateCycloneDx } from '../report/schemas.ts';

const EXE_SHA256 = 'ab'.repeat(32);

function input(seaSbom?: string): ImageSbomInput {
  return {
    meta: {
      name: 'k3sguard',
      version: '0.1.0',
      description: 'test',
      license: 'Apache-2.0',
      revision: '0'.repeat(40),
      epoch: 1_700_000_000,
    },
    manifestDigest: `sha256:${'cd'.repeat(32)}`,
    executableSha256: EXE_SHA256,
    os: parseOsRelease('ID=debian\nVERSION_ID="12"\n'),
    packages: [
      {
        name: 'libc6',
        version: '2.36-9+deb12u14',
        arch: 'amd64',
        source: { name: 'glibc', version: '2.36-9+deb12u14' },
        control: 'Package: libc6\n',
      },
    ],
    ...(seaSbom ? { seaSbom } : {}),
  };
}

/** `sbom --self`, its subject given `sha256` as the single executable's SBOM gives its file's. */
function seaSbom(dir: string, sha256: string): string {
  const r = k3sguard(['sbom', '--self']);
  assert.equal(r.code, 0, r.stderr);
  const bom = JSON.parse(r.stdout);
  bom.metadata.component.hashes = [{ alg: 'SHA-256', content: sha256 }];
  const path = join(dir, 'k3sguard-linux-amd64.cdx.json');
  writeFileSync(path, JSON.stringify(bom));
  return path;
}

test('without the executable SBOM: the executable by its sha256, the packages by purl', () => {
  const text = imageSbom(input(join('/nonexistent', 'x.cdx.json')));
  assert.deepEqual(validateCycloneDx(text), []);
  const bom = JSON.parse(text);
  assert.equal(bom.components[0].hashes[0].content, EXE_SHA256);
  assert.ok(
    bom.components.some(
      (c: { purl?: string }) => c.purl === 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12',
    ),
  );
  assert.equal(imageSbom(input()), imageSbom(input()), 'the same input, the same bytes');
});

test("the executable SBOM's components and dependencies are kept under the executable", (t) => {
  const dir = tempDir(t);
  const sea = JSON.parse(k3sguard(['sbom', '--self']).stdout);
  const text = imageSbom(input(seaSbom(dir, EXE_SHA256)));
  assert.deepEqual(validateCycloneDx(text), []);
  const bom = JSON.parse(text);
  const exe = bom.components[0];
  assert.deepEqual(
    cycloneDxComponents({ components: exe.components }).map((c) => c['bom-ref']),
    cycloneDxComponents({ components: sea.components }).map((c) => c['bom-ref']),
  );
  assert.ok(exe.components.some((c: { name: string }) => c.name === 'commander'));
  for (const d of sea.dependencies)
    assert.ok(
      bom.dependencies.some((e: { ref: string }) => e.ref === d.ref),
      d.ref,
    );
});

test('an executable SBOM of another file is refused', (t) => {
  const path = seaSbom(tempDir(t), 'ef'.repeat(32));
  assert.throws(() => imageSbom(input(path)), /describes an executable with sha256 efef/);
});
