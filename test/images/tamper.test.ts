// Tampered and hostile image archives: each changed archive gives its finding, each
// unreadable or hostile one a coded InputError naming the file, never a crash.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/model/errors.ts';
import { readImages } from '../../src/readers/images/read.ts';
import {
  airgapVariant,
  EXTRA_NAME,
  editImage,
  imageFixtures,
  type OciIndexDoc,
  type OciManifestDoc,
  readBlob,
  TEST_NAME,
} from './fixtures.ts';

const f = imageFixtures();
const skip = 'skip' in f ? f.skip : undefined;

function testManifest(dir: string): OciManifestDoc {
  const index: OciIndexDoc = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const d = index.manifests.find((m) => m.annotations['io.containerd.image.name'] === TEST_NAME);
  if (!d) throw new Error(`${TEST_NAME} not in ${dir}`);
  return JSON.parse(readBlob(dir, d.digest).toString('utf8'));
}

const ids = async (file: string) => (await readImages(file)).findings.map((x) => x.id).sort();

async function rejects(file: string, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(readImages(file), (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.file, file);
    assert.match(e.message, pattern);
    return true;
  });
}

test('a changed byte in a layer: digest finding (gzip header byte: diff_id still right)', { skip }, async () => {
  if ('skip' in f) return;
  const mtime = airgapVariant(f, 'layer-mtime-byte', (dir) => {
    const layer = join(dir, 'blobs/sha256', testManifest(dir).layers[0]?.digest.slice(7) ?? '');
    const b = readFileSync(layer);
    b[4] = (b[4] as number) ^ 0x01; // gzip MTIME: content unchanged, bytes changed
    writeFileSync(layer, b);
  });
  assert.deepEqual(await ids(mtime), ['K3SG-IMAGE-BLOB-DIGEST']);
  const deep = airgapVariant(f, 'layer-deflate-byte', (dir) => {
    const layer = join(dir, 'blobs/sha256', testManifest(dir).layers[0]?.digest.slice(7) ?? '');
    const b = readFileSync(layer);
    b[Math.floor(b.length / 2)] = (b[Math.floor(b.length / 2)] as number) ^ 0xff;
    writeFileSync(layer, b);
  });
  const found = await ids(deep);
  assert.ok(found.includes('K3SG-IMAGE-BLOB-DIGEST'), found.join());
  // Changed deflate data either fails to inflate or inflates to other content.
  assert.ok(found.includes('K3SG-IMAGE-LAYER-UNREADABLE') || found.includes('K3SG-IMAGE-DIFFID'), found.join());
});

test('a manifest naming a missing blob', { skip }, async () => {
  if ('skip' in f) return;
  const file = airgapVariant(f, 'missing-layer', (dir) => {
    rmSync(join(dir, 'blobs/sha256', testManifest(dir).layers[1]?.digest.slice(7) ?? ''));
  });
  const r = await readImages(file);
  assert.deepEqual(
    r.findings.map((x) => x.id),
    ['K3SG-IMAGE-BLOB-MISSING'],
  );
  assert.match(r.findings[0]?.message ?? '', /does not hold/);
});

test('a wrong diff_id, with every digest above it re-hashed consistently', { skip }, async () => {
  if ('skip' in f) return;
  const file = airgapVariant(f, 'wrong-diffid', (dir) => {
    editImage(dir, TEST_NAME, (_m, config) => {
      config.rootfs.diff_ids[1] = `sha256:${'ab'.repeat(32)}`;
    });
  });
  const r = await readImages(file);
  assert.deepEqual(
    r.findings.map((x) => x.id),
    ['K3SG-IMAGE-DIFFID'],
  );
  assert.match(r.findings[0]?.message ?? '', /Layer 2 .* the config says sha256:abab/);
});

test('a descriptor claiming a huge size is a size finding', { skip }, async () => {
  if ('skip' in f) return;
  const file = airgapVariant(f, 'huge-size', (dir) => {
    editImage(dir, TEST_NAME, (manifest) => {
      const first = manifest.layers[0];
      if (first) first.size = 2 ** 50;
    });
  });
  assert.deepEqual(await ids(file), ['K3SG-IMAGE-BLOB-SIZE']);
});

test('index.json and manifest.json disagreeing on the layers', { skip }, async () => {
  if ('skip' in f) return;
  const file = airgapVariant(f, 'views-differ', (dir) => {
    const docker = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    docker[0].Layers.reverse();
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(docker));
  });
  assert.deepEqual(await ids(file), ['K3SG-IMAGE-VIEWS-DIFFER']);
});

test('an image only in manifest.json counts as an extra image', { skip }, async () => {
  if ('skip' in f) return;
  const file = airgapVariant(f, 'docker-only-image', (dir) => {
    const index: OciIndexDoc = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    index.manifests = index.manifests.filter((m) => m.annotations['io.containerd.image.name'] !== EXTRA_NAME);
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  });
  const r = await readImages(file, { imagesList: { file: 'k3s-images.txt', text: `${TEST_NAME}\n` } });
  assert.deepEqual(
    r.findings.map((x) => [x.id, x.location.at(-1)]),
    [['K3SG-IMAGE-EXTRA', EXTRA_NAME]],
  );
  assert.equal(r.images.find((i) => i.names.includes(EXTRA_NAME))?.via, 'docker-manifest');
});

test("archive members with '..' or absolute paths are errors", { skip }, async () => {
  if ('skip' in f) return;
  const out = join(f.dir, 'variants');
  const dotdot = join(out, 'member-dotdot.tar');
  const abs = join(out, 'member-absolute.tar');
  // GNU tar keeps such names only with -P (--absolute-names).
  execFileSync('tar', ['-P', '-cf', dotdot, '-C', f.airgapDir, 'index.json', '../airgap/oci-layout']);
  execFileSync('tar', ['-P', '-cf', abs, join(f.airgapDir, 'oci-layout'), '-C', f.airgapDir, 'index.json']);
  await rejects(dotdot, 'UNSAFE_PATH', /'\.\.' component/);
  await rejects(abs, 'UNSAFE_PATH', /absolute path/);
});

test('truncated archives and corrupt compression are errors', { skip }, async () => {
  if ('skip' in f) return;
  const out = join(f.dir, 'variants');
  const cut = (from: string, to: string, keep: number) => writeFileSync(to, readFileSync(from).subarray(0, keep));
  const tar = readFileSync(f.airgapTar);
  cut(f.airgapTar, join(out, 'truncated.tar'), Math.floor(tar.length / 2));
  await rejects(join(out, 'truncated.tar'), 'TAR_CORRUPT', /truncated/);
  const gz = readFileSync(f.airgapGz);
  cut(f.airgapGz, join(out, 'truncated.tar.gz'), Math.floor(gz.length / 2));
  await rejects(join(out, 'truncated.tar.gz'), 'IMAGE_CORRUPT', /gzip/);
  const bad = Buffer.from(gz);
  for (let i = 100; i < 140; i++) bad[i] = 0xff;
  writeFileSync(join(out, 'corrupt.tar.gz'), bad);
  await rejects(join(out, 'corrupt.tar.gz'), 'IMAGE_CORRUPT', /corrupt gzip/);
  const zst = readFileSync(f.airgapZst);
  cut(f.airgapZst, join(out, 'truncated.tar.zst'), Math.floor(zst.length / 2));
  await rejects(join(out, 'truncated.tar.zst'), 'IMAGE_CORRUPT', /zstd/);
});

test('a layer past the uncompressed limit is an error (zip-bomb guard)', { skip }, async () => {
  if ('skip' in f) return;
  await assert.rejects(readImages(f.airgapGz, { limits: { maxLayerBytes: 4096 } }), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.code, 'IMAGE_LIMIT');
    assert.match(e.message, /decompresses to more than 4096 bytes/);
    return true;
  });
});

test('a manifest over the JSON size limit is an error, not a silent skip', { skip }, async () => {
  if ('skip' in f) return;
  await assert.rejects(readImages(f.airgapTar, { limits: { maxJsonBlob: 100 } }), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.code, 'IMAGE_LIMIT');
    return true;
  });
});

test('a symlink in an OCI layout directory is refused', { skip }, async () => {
  if ('skip' in f) return;
  const dir = join(f.dir, 'variants', 'layout-symlink');
  rmSync(dir, { recursive: true, force: true });
  execFileSync('cp', ['-r', f.airgapDir, dir]);
  const first = readdirSync(join(dir, 'blobs/sha256'))[0] as string;
  rmSync(join(dir, 'blobs/sha256', first));
  execFileSync('ln', ['-s', '/etc/passwd', join(dir, 'blobs/sha256', first)]);
  await rejects(dir, 'UNSAFE_PATH', /symbolic link/);
});

test('not an image archive, and an index that is not JSON', { skip }, async () => {
  if ('skip' in f) return;
  const out = join(f.dir, 'variants');
  const plain = join(out, 'not-an-image.tar');
  execFileSync('tar', ['-cf', plain, '-C', f.airgapDir, 'oci-layout']);
  await rejects(plain, 'IMAGE_CORRUPT', /neither index\.json/);
  const badJson = airgapVariant(f, 'index-not-json', (dir) =>
    writeFileSync(join(dir, 'index.json'), '{"manifests": ['),
  );
  await rejects(badJson, 'IMAGE_CORRUPT', /index\.json is not valid JSON/);
});

test('a blob that is a link: to another blob is a digest finding, out of the archive an error', { skip }, async () => {
  if ('skip' in f) return;
  const swapped = airgapVariant(f, 'blob-link-other', (dir) => {
    const [first, second] = testManifest(dir).layers;
    if (!first || !second) throw new Error('two layers expected');
    rmSync(join(dir, 'blobs/sha256', first.digest.slice(7)));
    symlinkSync(second.digest.slice(7), join(dir, 'blobs/sha256', first.digest.slice(7)));
  });
  const found = await ids(swapped);
  assert.ok(found.includes('K3SG-IMAGE-BLOB-DIGEST'), found.join());
  const escaping = airgapVariant(f, 'blob-link-escape', (dir) => {
    const first = testManifest(dir).layers[0];
    if (!first) throw new Error('a layer expected');
    rmSync(join(dir, 'blobs/sha256', first.digest.slice(7)));
    symlinkSync('../../../../etc/passwd', join(dir, 'blobs/sha256', first.digest.slice(7)));
  });
  await rejects(escaping, 'UNSAFE_PATH', /climbs above/);
});

test('JSON kept in memory is bounded in all, and says so when the bound is hit', { skip }, async () => {
  if ('skip' in f) return;
  await assert.rejects(readImages(f.airgapTar, { limits: { maxJsonTotal: 600 } }), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.code, 'IMAGE_LIMIT');
    assert.match(e.message, /exceed 600 bytes in all/);
    return true;
  });
});
