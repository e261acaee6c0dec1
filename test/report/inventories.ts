// Inventories shaped like what k3sguard builds from a real K3s release, for the SBOM writers'
// tests: the outer K3s binary with its identity and embedded bundle; inside, the real k3s (with
// the Kubernetes, containerd and etcd forks K3s's go.mod replaces), runc, containerd, a shim
// whose build info was stripped, a shell script and a symlink; plus a folder target and an
// extracted data dir. Module components come from the inventory's own goComponents, so the
// refs, names and purls are the ones the real builder produces.
// Also: a build info parsed from real `go version -m` output in ../shared/data/gobin.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { goComponents } from '../../src/inventory/gocomponents.ts';
import type {
  BundleComponent,
  Component,
  DirectoryComponent,
  ElfArch,
  FileComponent,
  GoBuildInfo,
  GoModule,
  Inventory,
  K3sIdentity,
  Location,
} from '../../src/model/inventory.ts';
import { SHARED_DATA } from '../fixtures/realbins.ts';

export const K3S_VERSION = 'v1.31.4+k3s1';
const COMMIT = 'a1b2c3d4';
const GO = 'go1.23.8';
const AMD64: ElfArch = { class: 64, endian: 'little', machine: 62, name: 'amd64' };

/** A stable, well-formed sha256 for a named piece of content. */
export function sha(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

type Dep = GoModule & { replace?: GoModule };

function dep(path: string, version: string, replace?: [string, string]): Dep {
  const d: Dep = { path, version, sum: `h1:${createHash('sha256').update(`${path}@${version}`).digest('base64')}` };
  if (replace) d.replace = { path: replace[0], version: replace[1], sum: `h1:${sha(replace.join('@')).slice(0, 43)}=` };
  return d;
}

function buildInfo(path: string, main: Dep, deps: Dep[], ldflags?: string): GoBuildInfo {
  const settings = [
    { key: '-buildmode', value: 'exe' },
    { key: '-compiler', value: 'gc' },
    { key: 'CGO_ENABLED', value: '0' },
    { key: 'GOARCH', value: 'amd64' },
    { key: 'GOOS', value: 'linux' },
  ];
  if (ldflags) settings.splice(2, 0, { key: '-ldflags', value: ldflags });
  return { encoding: 'inline', goVersion: GO, path, main, deps, settings };
}

function k3sLdflags(): string {
  return `-w -s -X github.com/k3s-io/k3s/pkg/version.Version=${K3S_VERSION} -X github.com/k3s-io/k3s/pkg/version.GitCommit=${COMMIT}`;
}

const K3S_IDENTITY: K3sIdentity = {
  modulePath: 'github.com/k3s-io/k3s',
  version: K3S_VERSION,
  commit: COMMIT,
  source: 'ldflags',
};

function goFile(location: Location, path: string, info: GoBuildInfo, k3s?: K3sIdentity, mode = 0o755): FileComponent {
  const ref = location.join('!');
  const f: FileComponent = {
    type: 'file',
    ref,
    name: path.split('/').pop() ?? path,
    path,
    location,
    size: 40_000_000 + path.length,
    sha256: sha(`file:${path}`),
    mode,
    binary: { format: 'go', buildInfo: info, arch: AMD64 },
    children: goComponents(ref, location, info, k3s),
  };
  if (k3s) {
    f.k3s = k3s;
    if (k3s.version) f.version = k3s.version;
  }
  return f;
}

/** In two binaries of the bundle: one upstream, two forks of it in the SBOM. */
const CLIENT_GO_FORK = dep('k8s.io/client-go', 'v0.31.4', [
  'github.com/k3s-io/kubernetes/staging/src/k8s.io/client-go',
  'v1.31.4-k3s1',
]);

function bundleMembers(bundleLocation: Location): Component[] {
  const at = (p: string): Location => [...bundleLocation, p];
  const innerK3s = goFile(
    at('bin/k3s'),
    'bin/k3s',
    buildInfo(
      'github.com/k3s-io/k3s/cmd/server',
      { path: 'github.com/k3s-io/k3s', version: '(devel)' },
      [
        dep('k8s.io/kubernetes', 'v1.31.4', ['github.com/k3s-io/kubernetes', 'v1.31.4-k3s1']),
        CLIENT_GO_FORK,
        dep('github.com/containerd/containerd', 'v1.7.23', ['github.com/k3s-io/containerd', 'v1.7.23-k3s2']),
        dep('go.etcd.io/etcd/server/v3', 'v3.5.16', ['github.com/k3s-io/etcd/server/v3', 'v3.5.16-k3s1']),
        // A version pin: replaced, but by the same module, so not a fork.
        dep('github.com/opencontainers/runc', 'v1.1.14', ['github.com/opencontainers/runc', 'v1.2.3']),
        dep('github.com/docker/docker', 'v27.1.1+incompatible'),
        dep('github.com/Microsoft/hcsshim', 'v0.12.6'),
        dep('github.com/BurntSushi/toml', 'v1.4.0'),
        dep('golang.org/x/net', 'v0.33.0'),
      ],
      k3sLdflags(),
    ),
    K3S_IDENTITY,
  );
  const runc = goFile(
    at('bin/runc'),
    'bin/runc',
    buildInfo('github.com/opencontainers/runc', { path: 'github.com/opencontainers/runc', version: 'v1.2.3' }, [
      dep('github.com/cilium/ebpf', 'v0.16.0'),
      dep('github.com/opencontainers/runtime-spec', 'v1.2.0'),
      dep('github.com/seccomp/libseccomp-golang', 'v0.10.0'),
    ]),
  );
  const containerd = goFile(
    at('bin/containerd'),
    'bin/containerd',
    buildInfo(
      'github.com/containerd/containerd/cmd/containerd',
      { path: 'github.com/containerd/containerd', version: '(devel)' },
      [CLIENT_GO_FORK, dep('google.golang.org/grpc', 'v1.65.0')],
    ),
  );
  const shim: FileComponent = {
    type: 'file',
    ref: at('bin/containerd-shim-runc-v2').join('!'),
    name: 'containerd-shim-runc-v2',
    path: 'bin/containerd-shim-runc-v2',
    location: at('bin/containerd-shim-runc-v2'),
    size: 11_000_000,
    sha256: sha('file:bin/containerd-shim-runc-v2'),
    mode: 0o755,
    binary: {
      format: 'go-no-buildinfo',
      goVersion: GO,
      arch: AMD64,
      reason: 'build info removed; runtime version string found',
    },
    children: [],
  };
  const script: FileComponent = {
    type: 'file',
    ref: at('bin/check-config').join('!'),
    name: 'check-config',
    path: 'bin/check-config',
    location: at('bin/check-config'),
    size: 12_345,
    sha256: sha('file:bin/check-config'),
    mode: 0o755,
    binary: { format: 'other', detail: 'shell script' },
    children: [],
  };
  const kubectl: Component = {
    type: 'symlink',
    ref: at('bin/kubectl').join('!'),
    name: 'kubectl',
    path: 'bin/kubectl',
    location: at('bin/kubectl'),
    target: 'k3s',
  };
  return [innerK3s, runc, containerd, shim, script, kubectl];
}

/** `k3sguard sbom k3s` of a K3s release binary. */
export function k3sInventory(): Inventory {
  const rootLocation = ['k3s'];
  const outer = goFile(
    rootLocation,
    'k3s',
    buildInfo(
      'github.com/k3s-io/k3s/cmd/k3s',
      { path: 'github.com/k3s-io/k3s', version: '(devel)' },
      [
        dep('github.com/pkg/errors', 'v0.9.1'),
        dep('github.com/sirupsen/logrus', 'v1.9.3'),
        dep('github.com/urfave/cli', 'v1.22.15'),
        dep('golang.org/x/sys', 'v0.28.0'),
      ],
      k3sLdflags(),
    ),
    K3S_IDENTITY,
  );
  const frameHash = sha('bundle frame');
  const bundleLocation = [...rootLocation, `bundle:${frameHash}`];
  const bundle: BundleComponent = {
    type: 'k3s-bundle',
    ref: bundleLocation.join('!'),
    name: `${frameHash}.tar.zst`,
    location: bundleLocation,
    declaredHash: frameHash,
    sha256: frameHash,
    offset: 1_234_567,
    compressedSize: 61_000_000,
    uncompressedSize: 190_000_000,
    links: [
      { name: 'kubectl', target: 'k3s' },
      { name: 'crictl', target: 'k3s' },
      { name: 'ctr', target: 'k3s' },
    ],
    children: bundleMembers(bundleLocation),
  };
  outer.children.push(bundle);
  return {
    tool: { name: 'k3sguard', version: '0.1.0' },
    target: 'k3s',
    targetKind: 'file',
    root: outer,
    findings: [
      {
        id: 'K3SG-BUNDLE-MEMBER-MODIFIED',
        severity: 'critical',
        title: 'Bundled file differs from its manifest hash',
        message: 'bin/runc does not match bin/.sha256sums',
        location: [...bundleLocation, 'bin/runc'],
        component: `${bundleLocation.join('!')}!bin/runc`,
      },
    ],
    notes: [
      {
        location: [...bundleLocation, 'bin/containerd-shim-runc-v2'],
        message: 'module list missing (build info stripped)',
      },
    ],
  };
}

/** `k3sguard sbom bins/` of a folder: a Go binary, a nested folder, links in and across folders. */
export function directoryInventory(): Inventory {
  const loc = (p: string): Location => ['bins', p];
  const runc = goFile(
    loc('runc'),
    'runc',
    buildInfo('github.com/opencontainers/runc', { path: 'github.com/opencontainers/runc', version: 'v1.2.3' }, [
      dep('github.com/cilium/ebpf', 'v0.16.0'),
    ]),
  );
  const tool: FileComponent = {
    type: 'file',
    ref: loc('sub/tool').join('!'),
    name: 'tool',
    path: 'sub/tool',
    location: loc('sub/tool'),
    size: 2048,
    sha256: sha('file:sub/tool'),
    mode: 0o700,
    binary: { format: 'elf', arch: AMD64 },
    children: [],
  };
  const sub: DirectoryComponent = {
    type: 'directory',
    ref: loc('sub').join('!'),
    name: 'sub',
    path: 'sub',
    location: loc('sub'),
    children: [
      tool,
      {
        type: 'symlink',
        ref: loc('sub/up').join('!'),
        name: 'up',
        path: 'sub/up',
        location: loc('sub/up'),
        target: '../runc',
      },
    ],
  };
  const root: DirectoryComponent = {
    type: 'directory',
    ref: 'bins',
    name: 'bins',
    path: 'bins',
    location: ['bins'],
    children: [
      {
        type: 'symlink',
        ref: loc('current').join('!'),
        name: 'current',
        path: 'current',
        location: loc('current'),
        target: 'runc',
      },
      runc,
      sub,
      { type: 'symlink', ref: loc('etc').join('!'), name: 'etc', path: 'etc', location: loc('etc'), target: '/etc' },
    ],
  };
  return {
    tool: { name: 'k3sguard', version: '0.1.0' },
    target: 'bins',
    targetKind: 'directory',
    root,
    findings: [],
    notes: [],
  };
}

/** `k3sguard sbom /var/lib/rancher/k3s/data/<hash>`: the bundle as extracted, no frame to hash. */
export function dataDirInventory(): Inventory {
  const hash = sha('bundle frame');
  const location = [hash];
  const bundle: BundleComponent = {
    type: 'k3s-bundle',
    ref: hash,
    name: hash,
    location,
    declaredHash: hash,
    uncompressedSize: 190_000_000,
    links: [{ name: 'kubectl', target: 'k3s' }],
    children: bundleMembers(location),
  };
  return {
    tool: { name: 'k3sguard', version: '0.1.0' },
    target: `data/${hash}`,
    targetKind: 'k3s-data-dir',
    root: bundle,
    findings: [],
    notes: [],
  };
}

/** Build info from `go version -m` text (tab-separated `path`, `mod`, `dep`, `=>`, `build` lines). */
export function parseGoVersionM(text: string): GoBuildInfo {
  const lines = text.split('\n');
  const goVersion = /^[^:]*: (go\S.*)$/.exec(lines[0] ?? '')?.[1];
  if (!goVersion) throw new Error(`not go version -m output: ${lines[0]}`);
  const info: GoBuildInfo = { encoding: 'inline', goVersion, deps: [], settings: [] };
  let last: Dep | undefined;
  for (const line of lines.slice(1)) {
    const [, kind, a = '', b = '', sum] = line.split('\t');
    const module: Dep = { path: a, version: b };
    if (sum) module.sum = sum;
    if (kind === 'path') info.path = a;
    else if (kind === 'mod' || kind === 'dep') {
      if (kind === 'mod') info.main = module;
      else info.deps.push(module);
      last = module;
    } else if (kind === '=>' && last) last.replace = module;
    else if (kind === 'build') {
      const eq = a.indexOf('=');
      info.settings.push({ key: a.slice(0, eq), value: a.slice(eq + 1) });
    }
  }
  return info;
}

/** An inventory of one real Go binary from its recorded `go version -m` output, or why not. */
export function realGoInventory(name: string, realPath?: string): Inventory | { skip: string } {
  const txt = join(SHARED_DATA, 'gobin', `${name}.txt`);
  if (!existsSync(txt)) return { skip: `${txt} not found (../shared absent)` };
  const info = parseGoVersionM(readFileSync(txt, 'utf8'));
  const bytes = realPath ? readFileSync(realPath) : undefined;
  const file = goFile([name], name, info);
  if (bytes) {
    file.size = bytes.length;
    file.sha256 = createHash('sha256').update(bytes).digest('hex');
  }
  return {
    tool: { name: 'k3sguard', version: '0.1.0' },
    target: name,
    targetKind: 'file',
    root: file,
    findings: [],
    notes: [],
  };
}
