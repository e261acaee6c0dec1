// The image library on a real Debian image (test/fixtures/debian-image.ts): debootstrap's
// bookworm root, a real Go binary, whiteouts by umoci, exported by a real containerd; read as
// an airgap tar (plain, gzip, zstd --long=25), as its OCI layout directory, and as skopeo's
// docker-archive and oci-archive. The oracles are other tools: dpkg-query on the root's
// package database, find(1) on the root umoci packed, `go version -m` output for the binary,
// GNU tar and gzip on the tampered layers.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bufferSource } from '../../src/io/bytesource.ts';
import { InputError } from '../../src/model/errors.ts';
import type { BinaryInfo } from '../../src/model/inventory.ts';
import { readBinary } from '../../src/readers/go/binary.ts';
import { imageFileView } from '../../src/readers/images/archive-layers.ts';
import type { FileView, LayerFileHook } from '../../src/readers/images/fileview.ts';
import { readOsPackages } from '../../src/readers/images/packagedb.ts';
import { readImages } from '../../src/readers/images/read.ts';
import {
  DEBIAN_ADDED,
  DEBIAN_DELETED,
  DEBIAN_EXTRA_NAME,
  DEBIAN_GO_BINARY,
  DEBIAN_NAME,
  DEBIAN_TRUNCATED_NAME,
  debianImage,
} from '../fixtures/debian-image.ts';
import {
  type DebianVariant,
  debianManifest,
  debianVariant,
  HOSTILE_FILE,
  HUGE_SIZE,
  lastLayerOf,
} from '../fixtures/debian-variants.ts';
import { realBinary, SHARED_DATA } from '../fixtures/realbins.ts';
import { type OciConfigDoc, type OciManifestDoc, readBlob } from './fixtures.ts';

const img = await debianImage();
const skip = 'skip' in img ? img.skip : undefined;
// Every read runs in an empty working directory of its own (other test files share the
// repository's), which must still be empty at the end: the library writes nowhere.
const cwd = mkdtempSync(join(tmpdir(), 'k3sguard-debian-cwd-'));
process.chdir(cwd);
after(() => {
  const left = readdirSync(cwd);
  rmSync(cwd, { recursive: true, force: true });
  assert.deepEqual(left, [], 'nothing written to the cwd');
});

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** What the hook makes of the Go binary as its layer passes: its digest and what it is. */
interface GoFacts {
  digest: string;
  info: BinaryInfo;
}
const goHook: LayerFileHook = {
  want: (path) => path === DEBIAN_GO_BINARY.path,
  take: (path, bytes): GoFacts => ({ digest: sha256(bytes), info: readBinary(bufferSource(path, bytes)) }),
};

/** Every form of the clean image, with what readImages must say it is. */
function forms() {
  if ('skip' in img) return [];
  return [
    { file: img.airgapTar, format: 'oci+docker-archive', compression: 'none' },
    { file: img.airgapGz, format: 'oci+docker-archive', compression: 'gzip' },
    { file: img.airgapZst, format: 'oci+docker-archive', compression: 'zstd' },
    { file: img.airgapDir, format: 'oci-layout', compression: 'none' },
    { file: img.dockerArchive, format: 'docker-archive', compression: 'none' },
    { file: img.ociArchive, format: 'oci-archive', compression: 'none' },
  ] as const;
}

/** The config's diff_ids, read from the exported layout with JSON.parse. */
function configDiffIds(): string[] {
  if ('skip' in img) return [];
  const manifest: OciManifestDoc = debianManifest(img.airgapDir);
  const config: OciConfigDoc = JSON.parse(readBlob(img.airgapDir, manifest.config.digest).toString('utf8'));
  return config.rootfs.diff_ids;
}

test('clean image: found by name in every form, every integrity check passes', { skip }, async () => {
  if ('skip' in img) return;
  const diffIds = configDiffIds();
  assert.equal(diffIds.length, 3);
  for (const { file, format, compression } of forms()) {
    const r = await readImages(file, { imagesList: { file: 'k3s-images.txt', text: `${DEBIAN_NAME}\n` } });
    assert.equal(r.format, format, file);
    assert.equal(r.compression, compression, file);
    assert.deepEqual(r.findings, [], file);
    assert.deepEqual(
      r.images.map((i) => i.names),
      [[DEBIAN_NAME]],
      file,
    );
    assert.deepEqual(
      r.images[0]?.layers.map((l) => l.diffId),
      diffIds,
      file,
    );
  }
});

/** find(1)'s listing of the root umoci packed, as `path type size target` lines. */
function rootOracle(): string[] {
  if ('skip' in img) return [];
  const kinds: Record<string, string> = { f: 'file', d: 'dir', l: 'symlink', c: 'char', b: 'block', p: 'fifo' };
  return readFileSync(img.rootList, 'utf8')
    .split('\0')
    .filter(Boolean)
    .map((rec) => {
      const [y = '', size = '', target = '', path = ''] = rec.split('\t');
      const type = kinds[y] ?? y;
      return `/${path} ${type} ${type === 'file' ? size : 0} ${type === 'symlink' ? target : ''}`;
    })
    .sort();
}

/** The view in the same terms (a hard link is a file of its target's size). */
function viewListing(view: FileView): string[] {
  return view
    .paths()
    .map(([path, e]) => {
      const type = e.type === 'hardlink' ? 'file' : e.type;
      return `${path} ${type} ${type === 'file' ? e.size : 0} ${type === 'symlink' ? e.linkname : ''}`;
    })
    .sort();
}

/** dpkg-query's own reading of the root's status file. */
function dpkgOracle(): string[] {
  if ('skip' in img) return [];
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format, not a template
  const format = '${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n';
  return execFileSync('dpkg-query', [`--admindir=${img.dpkgAdmin}`, '-W', '-f', format], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .sort();
}

test('file view in every form: the packed root, dpkg packages, Debian 12, whiteouts, the Go binary', {
  skip,
}, async () => {
  if ('skip' in img) return;
  const go = realBinary(DEBIAN_GO_BINARY.name);
  assert.ok(!('skip' in go), 'the fixture was built with it');
  const goBytes = readFileSync(go.path);
  const wantRoot = rootOracle();
  const wantPackages = dpkgOracle();
  assert.ok(wantPackages.length >= 80, `${wantPackages.length} packages`);
  for (const { file } of forms()) {
    const r = await imageFileView(file, { hook: goHook });
    const { view } = r;
    assert.deepEqual(r.archive.findings, [], file);
    assert.deepEqual(view.findings.list, [], file);
    assert.deepEqual(viewListing(view), wantRoot, file);

    const os = await readOsPackages(view);
    assert.equal(os.os?.id, 'debian', file);
    assert.equal(os.os?.versionId, '12', file);
    assert.equal(os.os?.versionCodename, 'bookworm', file);
    assert.deepEqual(os.problems, [], file);
    const got = os.packages.map((p) => `${p.name}\t${p.version}\t${p.arch}\t${p.source.name}\t${p.source.version}`);
    assert.deepEqual(got.sort(), wantPackages, file);
    const bash = os.packages.find((p) => p.name === 'bash');
    assert.match(bash?.purl ?? '', /^pkg:deb\/debian\/bash@[^?]+\?arch=amd64&distro=debian-12$/, file);

    for (const path of DEBIAN_DELETED) assert.equal(view.lstat(path), undefined, `${path} whited out in ${file}`);
    assert.equal(view.lstat('/usr/bin/users')?.layer, 0, 'a neighbour of the deleted file stays');
    assert.deepEqual(await view.listDir('/etc/cron.daily'), ['k3sguard'], file);
    assert.equal(view.lstat(DEBIAN_ADDED)?.layer, 2, file);

    const bin = view.lstat(DEBIAN_GO_BINARY.path);
    assert.equal(bin?.type, 'file', file);
    assert.equal(bin?.layer, DEBIAN_GO_BINARY.layer, file);
    assert.equal(bin?.size, goBytes.length, file);
    assert.deepEqual((bin?.facts as GoFacts | undefined)?.digest, sha256(goBytes), file);
  }
});

test('the Go binary handed out of the view carries its module build info', { skip }, async () => {
  if ('skip' in img) return;
  const { view } = await imageFileView(img.airgapZst, { hook: goHook });
  const facts = view.lstat(DEBIAN_GO_BINARY.path)?.facts as GoFacts | undefined;
  const info = facts?.info;
  assert.equal(info?.format, 'go');
  if (info?.format !== 'go') return;
  assert.ok(info.buildInfo.deps.length > 10);
  const oracle = join(SHARED_DATA, 'gobin', `${DEBIAN_GO_BINARY.name}.txt`);
  if (!existsSync(oracle)) return; // `go version -m` output is optional; the rest above still ran
  const mod = readFileSync(oracle, 'utf8').match(/^\tmod\t(\S+)\t(\S+)/m);
  assert.equal(info.buildInfo.main?.path, mod?.[1]);
  assert.equal(info.buildInfo.main?.version, mod?.[2]);
  const deps = [...readFileSync(oracle, 'utf8').matchAll(/^\tdep\t(\S+)\t(\S+)/gm)].map((m) => `${m[1]}@${m[2]}`);
  assert.deepEqual(
    info.buildInfo.deps.map((d) => `${d.path}@${d.version}`),
    deps,
  );
});

/** What the library says about a file: readImages findings, then the view's or its error. */
async function outcome(file: string) {
  const read = await readImages(file);
  try {
    const r = await imageFileView(file);
    const packages = await readOsPackages(r.view);
    return { read: read.findings.map((f) => f.id), view: r.view, packages };
  } catch (e) {
    assert.ok(e instanceof InputError, `a coded InputError, not ${String(e)}`);
    assert.equal(e.file?.split(':')[0], file, 'names the file');
    assert.doesNotMatch(e.message, /\n/, 'one line');
    return { read: read.findings.map((f) => f.id), error: e };
  }
}

const variant = (v: DebianVariant) => ('skip' in img ? '' : debianVariant(img, v));

test('tamper: a changed byte in the debootstrap layer', { skip }, async () => {
  const r = await outcome(variant('layer-byte'));
  assert.ok(r.read.includes('K3SG-IMAGE-BLOB-DIGEST'), r.read.join());
  assert.ok(r.read.includes('K3SG-IMAGE-LAYER-UNREADABLE') || r.read.includes('K3SG-IMAGE-DIFFID'), r.read.join());
  assert.equal(r.error?.code, 'IMAGE_CORRUPT');
});

test('tamper: the manifest names a blob the archive lacks', { skip }, async () => {
  const r = await outcome(variant('missing-blob'));
  assert.deepEqual(r.read, ['K3SG-IMAGE-BLOB-MISSING']);
  assert.equal(r.error?.code, 'IMAGE_CORRUPT');
  assert.match(r.error?.message ?? '', /not in the image/);
});

test('tamper: a wrong diff_id, every digest above it re-hashed', { skip }, async () => {
  const r = await outcome(variant('wrong-diffid'));
  assert.deepEqual(r.read, ['K3SG-IMAGE-DIFFID']);
  assert.equal(r.packages?.packages.length, dpkgOracle().length, 'the layers themselves are intact');
});

test('images list: an extra image in the archive, a listed image missing from it', { skip }, async () => {
  if ('skip' in img) return;
  const list = (text: string) => ({ imagesList: { file: 'k3s-images.txt', text } });
  const extra = await readImages(img.extraImageTar, list(`${DEBIAN_NAME}\n`));
  assert.deepEqual(
    extra.images.map((i) => i.names[0]),
    [DEBIAN_NAME, DEBIAN_EXTRA_NAME].sort(),
  );
  assert.deepEqual(
    extra.findings.map((f) => [f.id, f.location.at(-1)]),
    [['K3SG-IMAGE-EXTRA', DEBIAN_EXTRA_NAME]],
  );
  const pause = 'docker.io/rancher/mirrored-pause:3.6';
  const missing = await readImages(img.airgapZst, list(`${DEBIAN_NAME}\n${pause}\n`));
  assert.deepEqual(
    missing.findings.map((f) => [f.id, f.location.at(-1)]),
    [['K3SG-IMAGE-MISSING', pause]],
  );
});

/** GNU tar's verbose listing of a variant's last layer, and whether tar read it to the end. */
function tarListing(v: DebianVariant): { listing: string; ok: boolean } {
  const layer = lastLayerOf(variant(v), v === 'truncated-insert' ? DEBIAN_TRUNCATED_NAME : undefined);
  const r = spawnSync('tar', ['-Ptvzf', '-'], { input: layer, encoding: 'utf8' });
  return { listing: r.stdout + r.stderr, ok: r.status === 0 };
}

for (const [v, message] of [
  ['dotdot-member', [/"\.\.\/\.\.\/etc\/cron\.d\/k3sguard" has a '\.\.' component/]],
  ['absolute-member', [/"\/etc\/cron\.d\/k3sguard" is an absolute path/]],
  [
    'hardlink-out',
    [/"opt\/k3sguard\/shadow" is a hard link to "etc\/shadow"/, /"opt\/k3sguard\/host-shadow" is a hard link to/],
  ],
] as const) {
  test(`tamper: a fourth layer with a hostile member (${v}) is a finding; the rest of the view stands`, {
    skip,
  }, async () => {
    assert.ok(tarListing(v).ok, 'GNU tar reads the layer');
    const r = await outcome(variant(v));
    assert.deepEqual(r.read, [], 'the tamperer kept every digest consistent');
    const findings = r.view?.findings.list ?? [];
    assert.deepEqual(
      findings.map((f) => f.id),
      message.map(() => 'K3SG-IMAGE-LAYER-PATH'),
    );
    for (const [i, m] of message.entries()) assert.match(findings[i]?.message ?? '', m);
    // Skipped, not applied anywhere: not at the path it names nor (for `..`/absolute) inside.
    assert.equal(r.view?.lstat(`/${HOSTILE_FILE}`), undefined);
    assert.equal(r.view?.lstat('/opt/k3sguard/shadow'), undefined);
    assert.equal(r.packages?.packages.length, dpkgOracle().length);
  });
}

test('tamper: a layer member claiming 8 GiB is a truncated layer, not an 8 GiB read', { skip }, async () => {
  const oracle = tarListing('huge-member-size');
  assert.match(oracle.listing, new RegExp(` ${HUGE_SIZE} .*opt/k3sguard/big`));
  assert.ok(!oracle.ok, 'GNU tar stops at the end of the data too');
  const r = await outcome(variant('huge-member-size'));
  // Every digest agrees; reading the layer as a tar (readImages always does) shows the damage.
  assert.deepEqual(r.read, ['K3SG-IMAGE-LAYER-UNREADABLE']);
  assert.equal(r.error?.code, 'IMAGE_CORRUPT');
  assert.match(r.error?.message ?? '', /truncated: \d+ bytes of a member missing/);
});

test("tamper: umoci 0.4.7's `insert` of one file writes a truncated layer", { skip }, async () => {
  const oracle = tarListing('truncated-insert');
  assert.match(oracle.listing, /usr\/local\/share\/k3sguard\/inserted\.txt/);
  assert.match(oracle.listing, /Unexpected EOF in archive/, 'GNU tar finds it truncated');
  const layer = lastLayerOf(variant('truncated-insert'), DEBIAN_TRUNCATED_NAME);
  assert.equal(spawnSync('gzip', ['-t'], { input: layer }).status, 0, 'the gzip stream itself is whole');
  const r = await outcome(variant('truncated-insert'));
  // umoci hashed the bytes it wrote: every digest agrees, only reading the tar shows the damage.
  assert.deepEqual(r.read, ['K3SG-IMAGE-LAYER-UNREADABLE']);
  assert.equal(r.error?.code, 'IMAGE_CORRUPT');
  assert.match(r.error?.message ?? '', /truncated: no end-of-archive marker/);
});
