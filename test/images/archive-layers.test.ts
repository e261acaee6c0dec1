// The file view of an image read from an archive, member by member, against the same image
// read from its OCI layout directory: the umoci fileview image packed the way `ctr images
// export` does (plain tar, gzip, zstd --long=25) and by skopeo as a docker-archive; and the
// two-image airgap fixture of read.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { archiveLayers, imageFileView } from '../../src/readers/images/archive-layers.ts';
import { buildFileView, type FileView } from '../../src/readers/images/fileview.ts';
import { readOsPackages } from '../../src/readers/images/packagedb.ts';
import { readImages } from '../../src/readers/images/read.ts';
import { hasTool } from '../fixtures/tools.ts';
import { fileViewFixture } from './fileview-fixtures.ts';
import { imageFixtures, makeAirgap, packAirgap, TEST_NAME } from './fixtures.ts';

const fv = fileViewFixture();
const img = imageFixtures();
const FV_NAME = 'docker.io/rancher/fileview:1.0';

const tools = ['zstd', 'gzip', 'tar', 'skopeo'].find((t) => !hasTool(t));
const fvSkip = 'skip' in fv ? fv.skip : tools ? `${tools} not installed` : undefined;
const imgSkip = 'skip' in img ? img.skip : undefined;

const tmp = mkdtempSync(join(tmpdir(), 'k3sguard-archive-layers-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The fileview image as an airgap tar (plain, .gz, .zst) and a skopeo docker-archive. */
function fileViewArchives(layout: string) {
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const dir = join(tmp, 'airgap');
  const tar = join(tmp, 'airgap.tar');
  makeAirgap(layout, dir, { test: FV_NAME });
  packAirgap(dir, tar);
  run('gzip', ['-kn', tar]);
  run('zstd', ['-q', '--long=25', tar, '-o', `${tar}.zst`]);
  const docker = join(tmp, 'docker.tar');
  run('skopeo', ['copy', '-q', `oci:${layout}:test`, `docker-archive:${docker}:rancher/fileview:1.0`]);
  return { tar, gz: `${tar}.gz`, zst: `${tar}.zst`, docker };
}

/** Everything the view says about every path, and the bytes of what it collected. */
async function describe(view: FileView) {
  const out: string[] = [];
  for (const [path, e] of view.paths()) {
    const line = `${path} ${e.type} ${e.size} layer=${e.layer} ${e.linkname ?? ''}`;
    const bytes = e.type === 'file' ? await view.readFile(path).catch(() => undefined) : undefined;
    out.push(bytes ? `${line} ${bytes.toString('base64').length}:${bytes.subarray(0, 32).toString('hex')}` : line);
  }
  return out;
}

const collect = (p: string) => p.startsWith('/opt/') || p.startsWith('/bin/') || p.endsWith('os-release');

test('fileview image: the same view and packages from the layout, airgap tar/gz/zst and docker-archive', {
  skip: fvSkip,
}, async () => {
  if ('skip' in fv) return;
  const layout = join(fv.dir, 'layout');
  const a = fileViewArchives(layout);
  const base = await imageFileView(layout, { collect });
  assert.equal(base.archive.format, 'oci-layout');
  assert.equal(base.image.layers.length, 3);
  assert.deepEqual(base.view.findings.list, []);
  const want = await describe(base.view);
  // The view is the real one (fileview.test.ts checks it layer by layer against the fixture).
  assert.ok(want.some((l) => l.startsWith('/usr/bin/runc file ') && l.includes('layer=1')));
  assert.ok(!want.some((l) => l.startsWith('/etc/debian_version ')), 'whited out');
  const wantPackages = await readOsPackages((await imageFileView(layout)).view);
  assert.ok(wantPackages.packages.length > 50);
  for (const [file, format, compression] of [
    [a.tar, 'oci+docker-archive', 'none'],
    [a.gz, 'oci+docker-archive', 'gzip'],
    [a.zst, 'oci+docker-archive', 'zstd'],
    [a.docker, 'docker-archive', 'none'],
  ] as const) {
    const got = await imageFileView(file, { collect });
    assert.equal(got.archive.format, format, file);
    assert.equal(got.archive.compression, compression, file);
    assert.deepEqual(got.archive.findings, [], file);
    assert.deepEqual(got.image.names, [FV_NAME]);
    assert.deepEqual(got.view.findings.list, [], file);
    assert.deepEqual(await describe(got.view), want, file);
    const packages = await readOsPackages((await imageFileView(file, { image: 'rancher/fileview:1.0' })).view);
    assert.deepEqual(packages, wantPackages, file);
  }
});

test('airgap fixture with two images: pick by name; docker-archive and oci-archive agree', {
  skip: imgSkip,
}, async () => {
  if ('skip' in img) return;
  await assert.rejects(imageFileView(img.airgapTar), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'USAGE');
    assert.match(e.message, /holds 2 images/);
    return true;
  });
  await assert.rejects(
    imageFileView(img.airgapTar, { image: 'rancher/nothing:1' }),
    /no image docker\.io\/rancher\/nothing:1/,
  );
  const collectAll = () => true;
  const want = await describe((await imageFileView(img.airgapZst, { image: TEST_NAME, collect: collectAll })).view);
  assert.ok(want.some((l) => l.startsWith('/bin/true file ')));
  assert.ok(want.some((l) => l.startsWith('/etc/os-release file ') && l.includes('layer=1')));
  for (const file of [img.airgapTar, img.dockerArchive, img.ociArchive]) {
    const got = await imageFileView(file, { image: TEST_NAME, collect: collectAll });
    assert.deepEqual(await describe(got.view), want, file);
  }
  const etc = (await imageFileView(img.airgapGz, { image: TEST_NAME, collect: collectAll })).view;
  assert.deepEqual(await etc.readFile('/etc/debian_version'), readFileSync('/etc/debian_version'));
});

test('a layer changed between readImages and the view is refused', { skip: imgSkip }, async () => {
  if ('skip' in img) return;
  const copy = join(tmp, 'changed.tar');
  copyFileSync(img.airgapTar, copy);
  const archive = await readImages(copy);
  const image = archive.images.find((i) => i.names.includes(TEST_NAME));
  assert.ok(image);
  const layer = image.layers[1];
  assert.ok(layer);
  // Same size, still a valid gzip stream with the same content: only the gzip header's MTIME
  // changes, so nothing but the digest check can notice.
  const blob = readFileSync(join(img.airgapDir, 'blobs', 'sha256', layer.digest.slice(7)));
  assert.equal(blob[0], 0x1f, 'a gzip layer');
  const bytes = readFileSync(copy);
  const at = bytes.indexOf(blob.subarray(0, 256));
  assert.ok(at > 0);
  bytes[at + 4] = (bytes[at + 4] ?? 0) ^ 0xff;
  writeFileSync(copy, bytes);
  await assert.rejects(buildFileView(archiveLayers(archive, image)), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'IMAGE_CORRUPT');
    assert.match(e.message, /changed since it was read/);
    return true;
  });
});

test('archiveLayers streams the stored member bytes, stopping at the member', { skip: imgSkip }, async () => {
  if ('skip' in img) return;
  const archive = await readImages(img.airgapZst);
  const image = archive.images.find((i) => i.names.includes(TEST_NAME));
  assert.ok(image);
  const inputs = archiveLayers(archive, image);
  assert.equal(inputs.length, image.layers.length);
  for (const [i, input] of inputs.entries()) {
    const parts: Buffer[] = [];
    for await (const chunk of input.open()) parts.push(Buffer.from(chunk));
    const digest: string = image.layers[i]?.digest ?? '';
    assert.deepEqual(Buffer.concat(parts), readFileSync(join(img.airgapDir, 'blobs', 'sha256', digest.slice(7))));
  }
});
