// `npm run build:image`: the OCI image of k3sguard, without Docker or any image tool. The amd64
// single executable (dist/k3sguard-linux-amd64, from `npm run build:sea`; --executable or
// K3SGUARD_IMAGE_EXECUTABLE for another) goes into one layer with what it needs from the build
// host's Debian (./rootfs.ts), written as
//   <out>/image/                OCI layout (index.json names it docker.io/library/k3sguard:<version>)
//   <out>/k3sguard-image.tar    the same layout as one OCI archive (`ctr images import` takes it)
//   <out>/k3sguard-image.cdx.json  its CycloneDX SBOM
// with <out> = dist/ unless --out-dir says otherwise (tests build elsewhere).
//
// Reproducible: every time in the image is SOURCE_DATE_EPOCH (default: the HEAD commit's time),
// entries are sorted and owned by fixed ids and names, and the layer's gzip is deterministic, so
// two builds of one commit on the same host (same Debian packages, same Node) give the same
// manifest digest, and the same archive bytes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileSource } from '../../src/io/bytesource.ts';
import { readElf } from '../../src/readers/elf/elf.ts';
import { parseOsRelease } from '../../src/readers/images/osrelease.ts';
import { writeArchive } from './archive.ts';
import { writeLayer } from './layer.ts';
import { type ImageMeta, writeImage, writeLayoutIndex } from './oci-image.ts';
import { rootfs } from './rootfs.ts';
import { imageSbom } from './sbom.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const DEFAULT_EXECUTABLE = join(ROOT, 'dist', 'k3sguard-linux-amd64');

export interface BuildImageOptions {
  executable: string;
  outDir: string;
  /** SOURCE_DATE_EPOCH, seconds. */
  epoch: number;
  /** The git commit the image is labelled with. */
  revision: string;
}

export interface BuiltImage {
  ref: string;
  manifestDigest: string;
  layout: string;
  archive: string;
  sbom: string;
  /** Bytes of the compressed layer, of the uncompressed one, and of the archive. */
  layerSize: number;
  tarSize: number;
  archiveSize: number;
  packages: string[];
}

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** SOURCE_DATE_EPOCH from the environment, else the HEAD commit's time. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.SOURCE_DATE_EPOCH ?? git(['log', '-1', '--format=%ct']);
  if (!/^[0-9]{1,12}$/.test(text)) throw new Error(`SOURCE_DATE_EPOCH: "${text}" is not a number of seconds`);
  return Number(text);
}

export const headRevision = () => git(['rev-parse', 'HEAD']);

function sha256File(path: string): Promise<string> {
  return new Promise((ok, fail) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', fail)
      .on('end', () => ok(h.digest('hex')));
  });
}

/** The executable must be an x86-64 ELF: the image is linux/amd64. */
function checkExecutable(path: string): void {
  if (!existsSync(path)) {
    throw new Error(`${path}: no such executable (run \`npm run build:sea\` first, or give --executable)`);
  }
  const src = fileSource(path);
  try {
    const arch = readElf(src).arch;
    if (arch.name !== 'amd64') throw new Error(`${path}: an ELF for ${arch.name}, not amd64`);
  } finally {
    src.close();
  }
}

export async function buildImage(o: BuildImageOptions): Promise<BuiltImage> {
  checkExecutable(o.executable);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    description: string;
    license: string;
  };
  const meta: ImageMeta = { ...pkg, revision: o.revision, epoch: o.epoch };
  const layout = join(o.outDir, 'image');
  rmSync(layout, { recursive: true, force: true });
  mkdirSync(layout, { recursive: true });

  const root = rootfs(o.executable, statSync(o.executable).size);
  const layer = await writeLayer(layout, root.entries, o.epoch);
  const { manifest } = writeImage(layout, meta, layer);
  const ref = writeLayoutIndex(layout, meta, manifest);
  const archive = join(o.outDir, 'k3sguard-image.tar');
  await writeArchive(layout, archive, o.epoch);

  const sbom = join(o.outDir, 'k3sguard-image.cdx.json');
  writeFileSync(
    sbom,
    imageSbom({
      meta,
      manifestDigest: manifest.digest,
      executableSha256: await sha256File(o.executable),
      // The image's os-release is the host's (./rootfs.ts copies it).
      os: parseOsRelease(readFileSync('/etc/os-release')),
      packages: root.packages,
      seaSbom: join(dirname(o.executable), 'sea', `${basename(o.executable)}.cdx.json`),
    }),
  );
  return {
    ref,
    manifestDigest: manifest.digest,
    layout,
    archive,
    sbom,
    layerSize: layer.descriptor.size,
    tarSize: layer.tarSize,
    archiveSize: statSync(archive).size,
    packages: root.packages.map((p) => `${p.name}=${p.version}`),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      executable: { type: 'string' },
      'out-dir': { type: 'string' },
    },
  });
  const executable = resolve(values.executable ?? process.env.K3SGUARD_IMAGE_EXECUTABLE ?? DEFAULT_EXECUTABLE);
  const outDir = resolve(values['out-dir'] ?? join(ROOT, 'dist'));
  // The revision label names a commit: changes not in it would be in the image unnamed.
  if (git(['status', '--porcelain', '--untracked-files=no']) !== '')
    console.error('build:image: warning: the work tree has uncommitted changes; the image is labelled with HEAD');
  const started = Date.now();
  const built = await buildImage({ executable, outDir, epoch: sourceDateEpoch(), revision: headRevision() });
  const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  console.log(`${built.ref} ${built.manifestDigest}`);
  console.log(`  layout  ${built.layout}`);
  console.log(
    `  archive ${built.archive} (${MiB(built.archiveSize)}; layer ${MiB(built.layerSize)}, ${MiB(built.tarSize)} unpacked)`,
  );
  console.log(`  sbom    ${built.sbom}`);
  console.log(`  debian  ${built.packages.join(' ')}`);
  console.log(`  built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (import.meta.main) {
  main().catch((e: Error) => {
    console.error(`build:image: ${e.message}`);
    process.exit(1);
  });
}
