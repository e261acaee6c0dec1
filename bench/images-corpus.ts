// The image benchmark's input: an airgap-style archive shaped like K3s's
// `k3s-airgap-images-<arch>.tar.{zst,gz}`, built once from real content and cached in
// K3SGUARD_BENCH_CACHE/images/<IMAGES_BENCH_VERSION>: eight images with gzip layers (the usual
// registry format) of mixed sizes, holding the Debian root of the test image (debootstrap
// minbase), the bench corpus's real Go binaries, the trees of Go-heavy Debian packages
// (prometheus, packer, CNI plugins, snapd, etcd-client; `apt-get download` + `dpkg-deb -x`)
// and the installed Go toolchain. umoci builds the OCI layout, test/images/fixtures.ts lays it
// out as `ctr images export` does and packs it; zstd and gzip compress the tar.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { debianImage } from '../test/fixtures/debian-image.ts';
import { makeAirgap, packAirgap, publishBuild } from '../test/images/fixtures.ts';
import { BENCH_CACHE, goBinaryFolder } from './corpus.ts';

/** Part of the cache key: bump it whenever the build below changes. */
export const IMAGES_BENCH_VERSION = 'v1';
export const IMAGES_BENCH_DIR = join(BENCH_CACHE, 'images', IMAGES_BENCH_VERSION);
/**
 * K3s compresses with `zstd -T0 -16 --long=25`; level 16 takes minutes for 600 MB on two
 * cores, and the gzip layers inside hardly compress anyway, so the bench uses a fast level with
 * the same window (what the decoder sees: same format, same 32 MiB window).
 */
export const ZSTD_ARGS = ['-T0', '-3', '--long=25'];

/** Debian packages whose whole extracted tree becomes a layer. */
const DEBS = ['prometheus', 'packer', 'containernetworking-plugins', 'snapd', 'etcd-client'];

export interface ImagesBench {
  dir: string;
  /** The airgap layout directory (blobs as files: the floor's `gzip -dc` reads them). */
  airgapDir: string;
  tar: string;
  zst: string;
  gz: string;
  /** Every layer blob of every image, once each (paths into airgapDir). */
  layers: string[];
}

/** What goes into one layer: a directory copied whole (`cp -a`) or named files. */
type LayerSpec = { tree: string } | { files: Array<[from: string, to: string]> };

interface ImageSpec {
  tag: string;
  name: string;
  layers: LayerSpec[];
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 }).toString('utf8');
}

function paths(dir: string): ImagesBench {
  const airgapDir = join(dir, 'airgap');
  const layers = new Set<string>();
  if (existsSync(join(airgapDir, 'manifest.json'))) {
    const docker: Array<{ Layers: string[] }> = JSON.parse(readFileSync(join(airgapDir, 'manifest.json'), 'utf8'));
    for (const image of docker) for (const l of image.Layers) layers.add(join(airgapDir, l));
  }
  return {
    dir,
    airgapDir,
    tar: join(dir, 'airgap.tar'),
    zst: join(dir, 'airgap.tar.zst'),
    gz: join(dir, 'airgap.tar.gz'),
    layers: [...layers],
  };
}

/** The extracted tree of a Debian package, fetched once. */
function debTree(pkg: string, log: (s: string) => void): string {
  const dir = join(BENCH_CACHE, 'images', 'debs', pkg);
  if (existsSync(join(dir, '.done'))) return dir;
  log(`bench: fetching Debian package ${pkg}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(BENCH_CACHE, 'fetch-'));
  try {
    run('apt-get', ['download', pkg], work);
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg}: no .deb`);
    run('dpkg-deb', ['-x', join(work, deb), dir]);
    run('touch', [join(dir, '.done')]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

/** The image set, K3s-like: big Go binaries on a shared base or on scratch, one tiny layer. */
function imageSpecs(root: string, gobins: string, debs: Record<string, string>): ImageSpec[] {
  const bins = (...names: string[]): LayerSpec => ({
    files: names.map((n) => [join(gobins, n), `usr/local/bin/${n}`] as [string, string]),
  });
  const base: LayerSpec = { tree: root };
  const n = (repo: string, tag: string) => `docker.io/k3sguard-bench/${repo}:${tag}`;
  const deb = (pkg: string): LayerSpec => ({ tree: debs[pkg] ?? '' });
  const esbuilds = readdirSync(gobins).filter((f) => f.startsWith('esbuild-') || f === 'lefthook-2.2.2');
  return [
    {
      tag: 'sites',
      name: n('sites', '1.0'),
      layers: [
        base,
        bins('rclone-rclone', 'hugo-hugo'),
        { files: [[join(root, 'etc/os-release'), 'etc/k3sguard-bench/os-release']] },
      ],
    },
    { tag: 'prometheus', name: n('prometheus', '2.42.0'), layers: [base, deb('prometheus')] },
    { tag: 'cni', name: n('cni-plugins', '1.1.1'), layers: [deb('containernetworking-plugins')] },
    {
      tag: 'runtime',
      name: n('runtime', '1.0'),
      layers: [
        bins('debian-containerd', 'debian-runc'),
        bins('debian-docker', 'debian-skopeo'),
        bins('debian-kubectl', 'debian-etcd'),
      ],
    },
    {
      tag: 'golang',
      name: n('golang', '1.19'),
      layers: [base, { tree: '/usr/lib/go-1.19' }, { tree: '/usr/share/go-1.19' }],
    },
    { tag: 'packer', name: n('packer', '1.6.6'), layers: [deb('packer')] },
    { tag: 'snapd', name: n('snapd', '2.57'), layers: [deb('snapd'), deb('etcd-client')] },
    {
      tag: 'tools',
      name: n('tools', '1.0'),
      layers: [
        bins('gh-gh', 'caddy-caddy'),
        bins('podman-podman', 'buildah-buildah', 'podman-rootlessport'),
        bins('gopls-gopls', 'delve-dlv'),
        bins(
          'prometheus-alertmanager-prometheus-alertmanager',
          'prometheus-alertmanager-amtool',
          'restic-restic',
          'syncthing-syncthing',
        ),
        bins(...esbuilds),
      ],
    },
  ];
}

/** A tree lands at its own absolute path, unless it is a package tree (then at /). */
function addLayer(rootfs: string, spec: LayerSpec, packageTrees: Set<string>, debianRoot: string): void {
  if ('files' in spec) {
    for (const [from, to] of spec.files) {
      mkdirSync(join(rootfs, to, '..'), { recursive: true });
      copyFileSync(from, join(rootfs, to));
    }
    return;
  }
  const at = packageTrees.has(spec.tree) || spec.tree === debianRoot ? rootfs : join(rootfs, spec.tree);
  mkdirSync(at, { recursive: true });
  // tar, not cp -a: a package's /lib must land in the base's /lib -> usr/lib (merged /usr).
  run('sh', ['-c', `tar -C '${spec.tree}' --exclude=./.done -cf - . | tar -C '${at}' --keep-directory-symlink -xf -`]);
}

/** The cached archive, building it first when absent (a few minutes; needs root, umoci, the mirror). */
export async function imagesBench(log: (s: string) => void): Promise<ImagesBench | { skip: string }> {
  if (existsSync(join(IMAGES_BENCH_DIR, 'done'))) return paths(IMAGES_BENCH_DIR);
  const debian = await debianImage(log);
  if ('skip' in debian) return debian;
  const gobins = goBinaryFolder(log);
  const debs: Record<string, string> = {};
  for (const pkg of DEBS) debs[pkg] = debTree(pkg, log);
  const tmp = `${IMAGES_BENCH_DIR}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const started = Date.now();
    const layout = join(tmp, 'layout');
    const debianRoot = join(tmp, 'debian', 'rootfs');
    log('bench: unpacking the Debian test image (umoci unpack)');
    run('umoci', ['unpack', '--image', `${debian.layout}:debian`, join(tmp, 'debian')]);
    run('umoci', ['init', '--layout', layout]);
    const specs = imageSpecs(debianRoot, gobins, debs);
    const packageTrees = new Set(Object.values(debs));
    for (const spec of specs) {
      log(`bench: building ${spec.name} (${spec.layers.length} layers)`);
      const ref = `${layout}:${spec.tag}`;
      const bundle = join(tmp, `bundle-${spec.tag}`);
      run('umoci', ['new', '--image', ref]);
      run('umoci', ['unpack', '--image', ref, bundle]);
      for (const layer of spec.layers) {
        addLayer(join(bundle, 'rootfs'), layer, packageTrees, debianRoot);
        run('umoci', ['repack', '--refresh-bundle', '--image', ref, bundle]);
      }
      run('umoci', ['config', '--image', ref, '--os', 'linux', '--architecture', 'amd64']);
      rmSync(bundle, { recursive: true, force: true });
    }
    run('umoci', ['gc', '--layout', layout]);
    const p = paths(tmp);
    makeAirgap(layout, p.airgapDir, Object.fromEntries(specs.map((s) => [s.tag, s.name])));
    rmSync(layout, { recursive: true, force: true });
    rmSync(join(tmp, 'debian'), { recursive: true, force: true });
    packAirgap(p.airgapDir, p.tar);
    log(`bench: zstd ${ZSTD_ARGS.join(' ')} and gzip -n`);
    run('zstd', ['-q', ...ZSTD_ARGS, p.tar, '-o', p.zst]);
    run('sh', ['-c', `gzip -nc '${p.tar}' > '${p.gz}'`]);
    log(`bench: image archive built in ${Math.round((Date.now() - started) / 1000)} s`);
    publishBuild(tmp, IMAGES_BENCH_DIR);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return paths(IMAGES_BENCH_DIR);
}

/** Sizes of a built archive set, for the report. */
export function imagesStats(b: ImagesBench): { tar: number; zst: number; gz: number; layerSizes: number[] } {
  return {
    tar: statSync(b.tar).size,
    zst: statSync(b.zst).size,
    gz: statSync(b.gz).size,
    layerSizes: b.layers.map((l) => statSync(l).size).sort((a, b) => b - a),
  };
}
