// A real three-layer image for the file view tests, built by umoci from real files and cached
// in CACHE_DIR/images/fileview-v1:
//   layer 0: this machine's dpkg status file and os-release (as Debian lays them out:
//            /etc/os-release -> ../usr/lib/os-release), /bin/true, /bin/echo,
//            /etc/debian_version, /opt/data/{a,b}, an absolute symlink /etc/alt-release;
//   layer 1: `rm etc/debian_version` (umoci writes a real `.wh.debian_version`), a real Go
//            binary (Debian's runc) as /usr/bin/runc, /bin/echo replaced by /bin/ls;
//   layer 2: /opt/data replaced: rm -rf + a new file, so umoci writes its whiteouts for it.
// umoci does not write `.wh..wh..opq` (it whites out each lower entry instead), so an opaque
// layer is made with GNU tar (`opaqueLayer`): /opt/data/.wh..wh..opq and /opt/data/c.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR, realBinary } from '../fixtures/realbins.ts';
import { hasTool } from '../fixtures/tools.ts';
import { publishBuild } from './fixtures.ts';

export const FILEVIEW_DIR = join(CACHE_DIR, 'images', 'fileview-v1');
export const GO_BINARY = 'debian-runc';

export interface FileViewFixture {
  dir: string;
  /** The layer blobs of the umoci image, lowest first. */
  layers: string[];
  /** A gzip layer tar with an opaque /opt/data (made by GNU tar). */
  opaqueLayer: string;
  /** The dpkg admin dir holding the copy of the status file that went into layer 0. */
  dpkgAdmin: string;
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 }).toString('utf8');
}

let cached: FileViewFixture | { skip: string } | undefined;

export function fileViewFixture(): FileViewFixture | { skip: string } {
  cached ??= build();
  return cached;
}

function layersOf(layout: string): string[] {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const blob = (d: string) => join(layout, 'blobs', 'sha256', d.slice(7));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
  return manifest.layers.map((l: { digest: string }) => blob(l.digest));
}

function paths(dir: string): FileViewFixture {
  return {
    dir,
    layers: layersOf(join(dir, 'layout')),
    opaqueLayer: join(dir, 'opaque.tar.gz'),
    dpkgAdmin: join(dir, 'dpkg'),
  };
}

function build(): FileViewFixture | { skip: string } {
  if (existsSync(join(FILEVIEW_DIR, 'done'))) return paths(FILEVIEW_DIR);
  for (const tool of ['umoci', 'tar', 'gzip', 'dpkg-query']) {
    if (!hasTool(tool)) return { skip: `${tool} not installed (apt-get install -y umoci tar gzip)` };
  }
  if (!existsSync('/var/lib/dpkg/status')) return { skip: 'no /var/lib/dpkg/status on this machine' };
  const go = realBinary(GO_BINARY);
  if ('skip' in go) return go;
  const tmp = `${FILEVIEW_DIR}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'dpkg', 'updates'), { recursive: true });
  copyFileSync('/var/lib/dpkg/status', join(tmp, 'dpkg', 'status'));
  const layout = join(tmp, 'layout');
  const ref = `${layout}:test`;
  const bundle = join(tmp, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', ref]);
  run('umoci', ['unpack', '--rootless', '--image', ref, bundle]);
  const put = (from: string | Buffer, to: string) => {
    mkdirSync(join(rootfs, to, '..'), { recursive: true });
    if (typeof from === 'string') copyFileSync(from, join(rootfs, to));
    else writeFileSync(join(rootfs, to), from);
  };
  const repack = () => run('umoci', ['repack', '--refresh-bundle', '--image', ref, bundle]);
  put(join(tmp, 'dpkg', 'status'), 'var/lib/dpkg/status');
  put('/usr/lib/os-release', 'usr/lib/os-release');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  symlinkSync('../usr/lib/os-release', join(rootfs, 'etc', 'os-release'));
  symlinkSync('/usr/lib/os-release', join(rootfs, 'etc', 'alt-release'));
  put('/bin/true', 'bin/true');
  put('/bin/echo', 'bin/echo');
  put('/etc/debian_version', 'etc/debian_version');
  put(Buffer.from('lower a\n'), 'opt/data/a');
  put(Buffer.from('lower b\n'), 'opt/data/b');
  repack();
  rmSync(join(rootfs, 'etc', 'debian_version'));
  put(go.path, 'usr/bin/runc');
  rmSync(join(rootfs, 'bin', 'echo'));
  put('/bin/ls', 'bin/echo');
  repack();
  rmSync(join(rootfs, 'opt', 'data'), { recursive: true });
  put(Buffer.from('upper c\n'), 'opt/data/c');
  repack();
  rmSync(bundle, { recursive: true, force: true });

  const opaque = join(tmp, 'opaque-root');
  mkdirSync(join(opaque, 'opt', 'data'), { recursive: true });
  writeFileSync(join(opaque, 'opt', 'data', '.wh..wh..opq'), '');
  writeFileSync(join(opaque, 'opt', 'data', 'c'), 'opaque c\n');
  run('tar', ['--sort=name', '--owner=0', '--group=0', '-czf', join(tmp, 'opaque.tar.gz'), '-C', opaque, 'opt']);
  rmSync(opaque, { recursive: true, force: true });
  publishBuild(tmp, FILEVIEW_DIR);
  return paths(FILEVIEW_DIR);
}

/** `tar -tvzf` of a layer: what GNU tar lists, to check the fixture is what it claims. */
export function tarList(layer: string): string[] {
  return run('tar', ['-tzf', layer]).split('\n').filter(Boolean);
}

export { run as runTool };
