// Real image archives for the image reader tests, made by real tools and cached in
// CACHE_DIR/images/v1: umoci builds an OCI layout from a small rootfs of real files (two
// layers: real binaries, then real /etc files), skopeo turns it into `docker-archive:` and
// `oci-archive:` tars, and the airgap format (`ctr images export`: OCI layout + Docker
// manifest.json in one tar) is assembled from the umoci layout and packed with GNU tar, then
// compressed with gzip and `zstd --long=25` as K3s's release does. Tamper variants copy the
// airgap layout, change it, and pack it the same way.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR } from '../fixtures/realbins.ts';
import { hasTool } from '../fixtures/tools.ts';

export const IMAGES_DIR = join(CACHE_DIR, 'images', 'v1');
export const TEST_NAME = 'docker.io/rancher/test:1.0';
export const EXTRA_NAME = 'docker.io/rancher/extra:2.0';

/** The parts of OCI documents the fixtures and tests edit. */
export interface OciDesc {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
}
export interface OciIndexDoc {
  manifests: OciDesc[];
}
export interface OciManifestDoc {
  config: OciDesc;
  layers: OciDesc[];
}
export interface OciConfigDoc {
  rootfs: { diff_ids: string[] };
}

export interface ImageFixtures {
  dir: string;
  /** umoci's OCI layout directory (tags `test` and `extra`, no full names). */
  layout: string;
  /** The airgap-style layout directory and its archives. */
  airgapDir: string;
  airgapTar: string;
  airgapGz: string;
  airgapZst: string;
  dockerArchive: string;
  ociArchive: string;
}

function run(cmd: string, args: string[], cwd?: string): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let cached: ImageFixtures | { skip: string } | undefined;

export function imageFixtures(): ImageFixtures | { skip: string } {
  cached ??= build();
  return cached;
}

/** Where the fixture builders put each form of an image under `dir`. */
export function imageFixturePaths(dir: string): ImageFixtures {
  return {
    dir,
    layout: join(dir, 'layout'),
    airgapDir: join(dir, 'airgap'),
    airgapTar: join(dir, 'airgap.tar'),
    airgapGz: join(dir, 'airgap.tar.gz'),
    airgapZst: join(dir, 'airgap.tar.zst'),
    dockerArchive: join(dir, 'docker.tar'),
    ociArchive: join(dir, 'oci.tar'),
  };
}

function build(): ImageFixtures | { skip: string } {
  if (existsSync(join(IMAGES_DIR, 'done'))) return imageFixturePaths(IMAGES_DIR);
  for (const tool of ['umoci', 'skopeo', 'zstd', 'gzip', 'tar']) {
    if (!hasTool(tool)) return { skip: `${tool} not installed (apt-get install -y skopeo umoci zstd)` };
  }
  const tmp = `${IMAGES_DIR}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const p = imageFixturePaths(tmp);
  run('umoci', ['init', '--layout', p.layout]);
  const image = (tag: string, layers: Array<Array<[string, string]>>) => {
    const ref = `${p.layout}:${tag}`;
    run('umoci', ['new', '--image', ref]);
    const bundle = join(tmp, `bundle-${tag}`);
    run('umoci', ['unpack', '--rootless', '--image', ref, bundle]);
    for (const files of layers) {
      for (const [from, to] of files) {
        mkdirSync(join(bundle, 'rootfs', to, '..'), { recursive: true });
        copyFileSync(from, join(bundle, 'rootfs', to));
      }
      run('umoci', ['repack', '--refresh-bundle', '--image', ref, bundle]);
    }
    run('umoci', [
      'config',
      '--image',
      ref,
      '--os',
      'linux',
      '--architecture',
      'amd64',
      '--config.entrypoint',
      '/bin/true',
    ]);
    rmSync(bundle, { recursive: true, force: true });
  };
  image('test', [
    [
      ['/bin/true', 'bin/true'],
      ['/bin/echo', 'bin/echo'],
    ],
    [
      ['/etc/os-release', 'etc/os-release'],
      ['/etc/debian_version', 'etc/debian_version'],
    ],
  ]);
  image('extra', [[['/bin/ls', 'bin/ls']]]);
  run('umoci', ['gc', '--layout', p.layout]);
  run('skopeo', ['copy', '-q', `oci:${p.layout}:test`, `docker-archive:${p.dockerArchive}:rancher/test:1.0`]);
  run('skopeo', ['copy', '-q', `oci:${p.layout}:test`, `oci-archive:${p.ociArchive}:${TEST_NAME}`]);
  makeAirgap(p.layout, p.airgapDir, { test: TEST_NAME, extra: EXTRA_NAME });
  packAirgap(p.airgapDir, p.airgapTar);
  run('gzip', ['-kn', p.airgapTar]);
  run('zstd', ['-q', '--long=25', p.airgapTar, '-o', p.airgapZst]);
  publishBuild(tmp, IMAGES_DIR);
  return imageFixturePaths(IMAGES_DIR);
}

/**
 * Move a finished fixture build from `tmp` to `dir`. Test files run in parallel processes:
 * the first finished build wins, later ones are dropped rather than replacing a directory
 * another process is reading.
 */
export function publishBuild(tmp: string, dir: string): void {
  writeFileSync(join(tmp, 'done'), '');
  if (!existsSync(join(dir, 'done'))) {
    try {
      renameSync(tmp, dir);
    } catch {
      // Another process renamed its build into place first.
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}

/**
 * What `ctr images export` writes: the OCI layout with containerd's name annotations in
 * index.json, plus a Docker manifest.json whose paths are the blobs themselves.
 */
export function makeAirgap(layout: string, out: string, names: Record<string, string>): void {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'blobs', 'sha256'), { recursive: true });
  cpSync(join(layout, 'blobs', 'sha256'), join(out, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifests: unknown[] = [];
  const dockerManifest: unknown[] = [];
  for (const d of index.manifests) {
    const tag = d.annotations['org.opencontainers.image.ref.name'];
    const name = names[tag];
    if (!name) continue;
    manifests.push({
      ...d,
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
    });
    const m = JSON.parse(readBlob(out, d.digest).toString('utf8'));
    dockerManifest.push({
      Config: blobRel(m.config.digest),
      RepoTags: [name],
      Layers: m.layers.map((l: { digest: string }) => blobRel(l.digest)),
    });
  }
  writeFileSync(join(out, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(dockerManifest));
}

export function packAirgap(dir: string, tarFile: string): void {
  const blobs = readdirSync(join(dir, 'blobs', 'sha256')).map((b) => `blobs/sha256/${b}`);
  run('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '-cf',
    tarFile,
    '-C',
    dir,
    'oci-layout',
    'index.json',
    'manifest.json',
    ...blobs,
  ]);
}

const blobRel = (digest: string) => `blobs/sha256/${digest.slice(7)}`;

export function readBlob(dir: string, digest: string): Buffer {
  return readFileSync(join(dir, blobRel(digest)));
}

/** Store a blob, return its descriptor digest. */
export function writeBlob(dir: string, content: Buffer): string {
  const hex = sha256(content);
  writeFileSync(join(dir, 'blobs', 'sha256', hex), content);
  return `sha256:${hex}`;
}

/**
 * Rewrite the manifest of the image named `name` (and its config, through `editConfig`),
 * re-hashing up the chain so every digest above the edited document is consistent: the
 * tampering a careful attacker would do.
 */
export function editImage(
  dir: string,
  name: string,
  edit: (manifest: OciManifestDoc, config: OciConfigDoc) => void,
): void {
  const index: OciIndexDoc = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const entry = index.manifests.find((d) => d.annotations['io.containerd.image.name'] === name);
  if (!entry) throw new Error(`${name} not in ${dir}/index.json`);
  const manifest: OciManifestDoc = JSON.parse(readBlob(dir, entry.digest).toString('utf8'));
  const config: OciConfigDoc = JSON.parse(readBlob(dir, manifest.config.digest).toString('utf8'));
  const oldConfig = manifest.config.digest;
  edit(manifest, config);
  const configBytes = Buffer.from(JSON.stringify(config));
  manifest.config = { ...manifest.config, digest: writeBlob(dir, configBytes), size: configBytes.length };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  entry.digest = writeBlob(dir, manifestBytes);
  entry.size = manifestBytes.length;
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  const docker: Array<{ Config: string; Layers: string[] }> = JSON.parse(
    readFileSync(join(dir, 'manifest.json'), 'utf8'),
  );
  for (const e of docker) {
    if (e.Config === blobRel(oldConfig)) {
      e.Config = blobRel(manifest.config.digest);
      e.Layers = manifest.layers.map((l: { digest: string }) => blobRel(l.digest));
    }
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(docker));
}

/** A tamper variant of the airgap layout: copied, changed by `mutate`, packed; cached. */
export function airgapVariant(f: ImageFixtures, label: string, mutate: (dir: string) => void): string {
  const vdir = join(f.dir, 'variants');
  const tarFile = join(vdir, `${label}.tar`);
  if (existsSync(tarFile)) return tarFile;
  const dir = join(vdir, label);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(vdir, { recursive: true });
  cpSync(f.airgapDir, dir, { recursive: true });
  mutate(dir);
  packAirgap(dir, `${tarFile}.tmp`);
  renameSync(`${tarFile}.tmp`, tarFile);
  return tarFile;
}

export { run as runTool };
