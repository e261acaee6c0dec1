// The image readers on real archives (umoci + skopeo + GNU tar + gzip + zstd output): every
// format and compression gives the same images, and the digests agree with what the standard
// tools compute from the same bytes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readImages } from '../../src/readers/images/read.ts';
import type { ImageArchiveResult, ImageInfo } from '../../src/readers/images/types.ts';
import { ctrExport } from './ctr-export.ts';
import {
  airgapVariant,
  EXTRA_NAME,
  editImage,
  imageFixtures,
  type OciIndexDoc,
  type OciManifestDoc,
  TEST_NAME,
  writeBlob,
} from './fixtures.ts';

const f = imageFixtures();
const skip = 'skip' in f ? f.skip : undefined;

function byName(r: ImageArchiveResult, name: string): ImageInfo {
  const image = r.images.find((i) => i.names.includes(name));
  assert.ok(image, `${name} in ${JSON.stringify(r.images.map((i) => i.names))}`);
  return image;
}

/** The test image as umoci wrote it, read straight from its layout with gzip -dc for diff_ids. */
function umociTruth() {
  if ('skip' in f) throw new Error(f.skip);
  const index: OciIndexDoc = JSON.parse(readFileSync(join(f.layout, 'index.json'), 'utf8'));
  const d = index.manifests.find((m) => m.annotations['org.opencontainers.image.ref.name'] === 'test');
  if (!d) throw new Error('no `test` tag in the umoci layout');
  const blob = (digest: string) => join(f.layout, 'blobs', 'sha256', digest.slice(7));
  const manifest: OciManifestDoc = JSON.parse(readFileSync(blob(d.digest), 'utf8'));
  const diffIds = manifest.layers.map((l) => {
    const raw = execFileSync('gzip', ['-dc', blob(l.digest)], { maxBuffer: 1 << 30 });
    return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  });
  return {
    manifestDigest: d.digest as string,
    config: manifest.config.digest as string,
    layers: manifest.layers,
    diffIds,
  };
}

test('airgap tarball (ctr export layout): plain, gzip and zstd --long=25 read alike', { skip }, async () => {
  if ('skip' in f) return;
  const truth = umociTruth();
  assert.equal(truth.layers.length, 2);
  for (const [file, compression] of [
    [f.airgapTar, 'none'],
    [f.airgapGz, 'gzip'],
    [f.airgapZst, 'zstd'],
  ] as const) {
    const r = await readImages(file);
    assert.equal(r.format, 'oci+docker-archive');
    assert.equal(r.compression, compression);
    assert.deepEqual(r.findings, []);
    assert.equal(r.images.length, 2, 'manifest.json entries merge into the index.json images');
    const img = byName(r, TEST_NAME);
    assert.deepEqual(img.names, [TEST_NAME]);
    assert.equal(img.via, 'oci-index');
    assert.equal(img.manifestDigest, truth.manifestDigest);
    assert.equal(img.configDigest, truth.config);
    assert.deepEqual(img.platform, { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(
      img.layers.map((l) => l.digest),
      truth.layers.map((l) => l.digest),
    );
    assert.deepEqual(
      img.layers.map((l) => l.diffId),
      truth.diffIds,
    );
    assert.deepEqual(
      img.layers.map((l) => l.size),
      truth.layers.map((l) => l.size),
    );
    assert.ok(img.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip'));
    byName(r, EXTRA_NAME);
    // Every blob's digest is sha256 of the file as sha256sum would see it.
    for (const b of r.blobs.filter((x) => x.path.startsWith('blobs/'))) {
      const bytes: Buffer = readFileSync(join(f.airgapDir, b.path));
      assert.equal(b.digest, `sha256:${createHash('sha256').update(bytes).digest('hex')}`, b.path);
      assert.equal(b.size, bytes.length);
    }
  }
});

test('OCI layout directory: same image; umoci tags are not image names', { skip }, async () => {
  if ('skip' in f) return;
  const truth = umociTruth();
  const r = await readImages(f.layout);
  assert.equal(r.format, 'oci-layout');
  assert.deepEqual(r.findings, []);
  const img = r.images.find((i) => i.manifestDigest === truth.manifestDigest);
  assert.ok(img);
  assert.deepEqual(img.names, [], 'a bare tag (`test`) names no image');
  assert.deepEqual(
    img.layers.map((l) => l.diffId),
    truth.diffIds,
  );
  const airgap = await readImages(f.airgapDir);
  assert.equal(airgap.format, 'oci-layout');
  assert.deepEqual(byName(airgap, TEST_NAME).layers, byName(await readImages(f.airgapTar), TEST_NAME).layers);
});

test('skopeo docker-archive: RepoTags, symlinked layer, uncompressed layers', { skip }, async () => {
  if ('skip' in f) return;
  const truth = umociTruth();
  const r = await readImages(f.dockerArchive);
  assert.equal(r.format, 'docker-archive');
  assert.deepEqual(r.findings, []);
  assert.equal(r.images.length, 1);
  const img = byName(r, TEST_NAME);
  assert.equal(img.via, 'docker-manifest');
  assert.equal(img.configDigest, truth.config, 'skopeo keeps the config byte for byte');
  assert.deepEqual(
    img.layers.map((l) => l.diffId),
    truth.diffIds,
  );
  // Docker layers are stored uncompressed: their digest is their diff_id.
  assert.deepEqual(
    img.layers.map((l) => l.digest),
    truth.diffIds,
  );
});

test('skopeo oci-archive: ref.name holding a full reference names the image', { skip }, async () => {
  if ('skip' in f) return;
  const r = await readImages(f.ociArchive);
  assert.equal(r.format, 'oci-archive');
  assert.deepEqual(r.findings, []);
  assert.deepEqual(
    r.images.map((i) => i.names),
    [[TEST_NAME]],
  );
  assert.deepEqual(
    byName(r, TEST_NAME).layers.map((l) => l.diffId),
    umociTruth().diffIds,
  );
});

test('images list: exact match, extra image, missing image, digest pins', { skip }, async () => {
  if ('skip' in f) return;
  const list = (text: string) => ({ imagesList: { file: 'k3s-images.txt', text } });
  const exact = await readImages(f.airgapTar, list(`# k3s images\n${TEST_NAME}\nrancher/extra:2.0\n\n`));
  assert.deepEqual(exact.findings, []);
  const extra = await readImages(f.airgapTar, list(`${TEST_NAME}\n`));
  assert.deepEqual(
    extra.findings.map((x) => [x.id, x.location]),
    [['K3SG-IMAGE-EXTRA', [f.airgapTar, EXTRA_NAME]]],
  );
  const missing = await readImages(
    f.airgapZst,
    list(`${TEST_NAME}\n${EXTRA_NAME}\ndocker.io/rancher/mirrored-pause:3.6\n`),
  );
  assert.deepEqual(
    missing.findings.map((x) => [x.id, x.location]),
    [['K3SG-IMAGE-MISSING', [f.airgapZst, 'docker.io/rancher/mirrored-pause:3.6']]],
  );
  const digest = byName(exact, TEST_NAME).manifestDigest;
  const pinned = await readImages(f.airgapTar, list(`rancher/test@${digest}\n${EXTRA_NAME}\n`));
  assert.deepEqual(pinned.findings, []);
  const wrongPin = await readImages(f.airgapTar, list(`rancher/test@sha256:${'0'.repeat(64)}\n${EXTRA_NAME}\n`));
  assert.deepEqual(wrongPin.findings.map((x) => x.id).sort(), ['K3SG-IMAGE-EXTRA', 'K3SG-IMAGE-MISSING']);
});

test('platform: an amd64 image asked for as linux/arm64 is a finding', { skip }, async () => {
  if ('skip' in f) return;
  const r = await readImages(f.ociArchive, { platform: 'linux/arm64' });
  assert.deepEqual(
    r.findings.map((x) => x.id),
    ['K3SG-IMAGE-PLATFORM'],
  );
});

test('real `ctr images export` output (Debian containerd) reads as the hand-built airgap', { skip }, async (t) => {
  if ('skip' in f) return;
  const exported = await ctrExport(f);
  if ('skip' in exported) {
    t.skip(exported.skip);
    return;
  }
  const r = await readImages(exported.path, {
    imagesList: { file: 'k3s-images.txt', text: `${TEST_NAME}\n${EXTRA_NAME}\n` },
  });
  assert.equal(r.format, 'oci+docker-archive');
  assert.deepEqual(r.findings, []);
  const ours = await readImages(f.airgapTar);
  for (const name of [TEST_NAME, EXTRA_NAME]) {
    const a = byName(r, name);
    const b = byName(ours, name);
    assert.deepEqual(a.names, [name], 'RepoTags (short form) merge into the annotation name');
    assert.equal(a.configDigest, b.configDigest);
    assert.deepEqual(
      a.layers.map((l) => l.diffId),
      b.layers.map((l) => l.diffId),
    );
  }
});

test('image index: the wanted platform is followed, the others need not be present', { skip }, async () => {
  if ('skip' in f) return;
  const file = airgapVariant(f, 'multi-platform', (dir) => {
    const index: OciIndexDoc = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    const entry = index.manifests.find((m) => m.annotations['io.containerd.image.name'] === TEST_NAME);
    if (!entry) throw new Error('no test image');
    const { annotations, ...amd64 } = entry;
    const arm64 = {
      ...amd64,
      digest: `sha256:${'cd'.repeat(32)}`,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    };
    const imageIndex = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ ...amd64, platform: { os: 'linux', architecture: 'amd64' } }, arm64],
      }),
    );
    Object.assign(entry, {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: writeBlob(dir, imageIndex),
      size: imageIndex.length,
    });
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  });
  const amd = await readImages(file);
  assert.deepEqual(amd.findings, []);
  const img = byName(amd, TEST_NAME);
  assert.ok(img.indexDigest);
  assert.equal(img.manifestDigest, byName(await readImages(f.airgapTar), TEST_NAME).manifestDigest);
  assert.deepEqual(img.platform, { os: 'linux', architecture: 'amd64' });
  // Asked for arm64: the index's arm64 manifest is missing; the other images (the extra one,
  // and manifest.json's view of the test image, which Docker would import) are amd64.
  const arm = await readImages(file, { platform: 'linux/arm64' });
  assert.deepEqual(arm.findings.map((x) => x.id).sort(), [
    'K3SG-IMAGE-BLOB-MISSING',
    'K3SG-IMAGE-PLATFORM',
    'K3SG-IMAGE-PLATFORM',
  ]);
  assert.ok(
    arm.findings.filter((x) => x.id === 'K3SG-IMAGE-PLATFORM').every((x) => /linux\/amd64 image/.test(x.message)),
  );
  assert.equal(
    arm.images.find((i) => i.via === 'oci-index' && i.names.includes(TEST_NAME))?.manifestDigest,
    `sha256:${'cd'.repeat(32)}`,
  );
  const s390 = await readImages(file, { platform: 'linux/s390x' });
  assert.ok(
    s390.findings.some((x) => x.id === 'K3SG-IMAGE-PLATFORM' && /has no linux\/s390x manifest/.test(x.message)),
  );
  assert.ok(!s390.findings.some((x) => x.id === 'K3SG-IMAGE-BLOB-MISSING'));
});

test('zstd-compressed layers (OCI +zstd media type): diff_ids computed through zstd', { skip }, async () => {
  if ('skip' in f) return;
  const file = airgapVariant(f, 'zstd-layers', (dir) => {
    editImage(dir, TEST_NAME, (manifest) => {
      for (const layer of manifest.layers) {
        const tar = execFileSync('gzip', ['-dc', join(dir, 'blobs/sha256', layer.digest.slice(7))], {
          maxBuffer: 1 << 30,
        });
        const zst = execFileSync('zstd', ['-q', '-c', '-19'], { input: tar, maxBuffer: 1 << 30 });
        layer.digest = writeBlob(dir, zst);
        layer.size = zst.length;
        layer.mediaType = 'application/vnd.oci.image.layer.v1.tar+zstd';
      }
    });
  });
  const r = await readImages(file);
  assert.deepEqual(r.findings, []);
  const img = byName(r, TEST_NAME);
  assert.ok(img.layers.every((l) => l.mediaType.endsWith('+zstd')));
  assert.deepEqual(
    img.layers.map((l) => l.diffId),
    umociTruth().diffIds,
  );
  const zstdBlobs = r.blobs.filter((b) => b.compression === 'zstd');
  assert.equal(zstdBlobs.length, 2);
});
