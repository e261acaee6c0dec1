// The K3s binary's components as the node report carries them (model/report-components.ts), both
// ways: the agent summarizes the inventory `inspect` builds, and the fleet server rebuilds from
// the summary the component tree scan's matcher reads (matchTargets: Go binaries with their build
// info, K3s identity and platform; modules made by the same goComponents as `inspect`, so forks
// get their upstream as they do in a scan). What the summary leaves out (sizes, digests of bundle
// members, module sums, function tables) no matcher needs; reachability stays `unknown`.
import type {
  BundleComponent,
  Component,
  ElfArch,
  FileComponent,
  GoBuildInfo,
  GoModule,
  K3sIdentity,
} from '../model/inventory.ts';
import { walk } from '../model/inventory.ts';
import { LIMITS } from '../model/limits.ts';
import type { ReportComponents, ReportGoBinary, ReportModule } from '../model/report-components.ts';
import { goComponents } from './gocomponents.ts';

function moduleTuple(m: GoModule & { replace?: GoModule }): ReportModule {
  return m.replace ? [m.path, m.version, m.replace.path, m.replace.version] : [m.path, m.version];
}

function platform(file: FileComponent): { goos?: string; goarch?: string } {
  const b = file.binary;
  const setting = (key: string) =>
    b.format === 'go' ? b.buildInfo.settings.find((s) => s.key === key)?.value : undefined;
  const elfArch = 'arch' in b && !b.arch.name.startsWith('machine-') ? b.arch.name : undefined;
  const goos = setting('GOOS');
  const goarch = setting('GOARCH') ?? elfArch;
  return { ...(goos ? { goos } : {}), ...(goarch ? { goarch } : {}) };
}

/**
 * The Go binaries of a K3s binary's inventory (`root`: the file `inspect` made of it), the
 * binary itself first, then its bundle's members in tree order; at most `limit` modules in all.
 */
export function summarizeComponents(root: Component, limit = LIMITS.reportComponents): ReportComponents {
  const binaries: ReportGoBinary[] = [];
  let left = limit;
  let truncated = false;
  for (const { component: c } of walk(root)) {
    if (c.type !== 'file') continue;
    const b = c.binary;
    if (b.format !== 'go' && b.format !== 'go-no-buildinfo') continue;
    if (left <= 0) {
      truncated = true;
      break;
    }
    const path = c === root ? '' : c.path;
    const k3s = c.k3s?.version ? { k3s: { module: c.k3s.modulePath, version: c.k3s.version } } : {};
    if (b.format === 'go-no-buildinfo') {
      if (!b.goVersion) continue; // nothing to match
      binaries.push({ path, go: b.goVersion, ...platform(c), stripped: true, ...k3s });
      left -= 1;
      continue;
    }
    const info = b.buildInfo;
    const need = 1 + (info.main ? 1 : 0); // the binary's stdlib, and its main module
    if (left < need) {
      truncated = true;
      break;
    }
    const deps = info.deps.slice(0, left - need);
    if (deps.length < info.deps.length) truncated = true;
    binaries.push({
      path,
      go: info.goVersion,
      ...platform(c),
      ...k3s,
      ...(info.main ? { main: moduleTuple(info.main) } : {}),
      modules: deps.map(moduleTuple),
    });
    left -= need + deps.length;
  }
  return truncated ? { binaries, truncated: true } : { binaries };
}

function goModule(t: ReportModule): GoModule & { replace?: GoModule } {
  return t.length === 4
    ? { path: t[0], version: t[1], replace: { path: t[2], version: t[3] } }
    : { path: t[0], version: t[1] };
}

function fileOf(b: ReportGoBinary, label: string): FileComponent {
  const location = b.path === '' ? [label] : [label, b.path];
  const ref = `${label}:${b.path}`;
  const arch: ElfArch = { class: 64, endian: 'little', machine: 0, name: b.goarch ?? 'machine-0' };
  const k3s: K3sIdentity | undefined = b.k3s
    ? { modulePath: b.k3s.module, version: b.k3s.version, source: 'ldflags' }
    : undefined;
  const file: FileComponent = {
    type: 'file',
    ref,
    name: b.path === '' ? label : b.path,
    location,
    path: b.path === '' ? label : b.path,
    size: 0,
    sha256: '',
    binary: b.stripped
      ? { format: 'go-no-buildinfo', goVersion: b.go, arch, reason: 'build info removed' }
      : { format: 'go', buildInfo: buildInfoOf(b), arch },
    children: [],
  };
  if (k3s) {
    file.k3s = k3s;
    file.version = b.k3s?.version;
  }
  if (file.binary.format === 'go') file.children.push(...goComponents(ref, location, file.binary.buildInfo, k3s));
  return file;
}

function buildInfoOf(b: ReportGoBinary): GoBuildInfo {
  const settings = [
    ...(b.goos ? [{ key: 'GOOS', value: b.goos }] : []),
    ...(b.goarch ? [{ key: 'GOARCH', value: b.goarch }] : []),
  ];
  return {
    encoding: 'inline',
    goVersion: b.go,
    ...(b.main ? { main: goModule(b.main) } : {}),
    deps: (b.modules ?? []).map(goModule),
    settings,
  };
}

/**
 * The component tree of a K3s binary from its report summary: the binary (named `label` in
 * locations, e.g. `k3s`) holding its modules and, in a bundle, the Go binaries of the bundle,
 * whose findings read `k3s > bin/containerd`.
 */
export function componentsFromSummary(summary: ReportComponents, label: string, bundleHash = ''): FileComponent {
  const outer = summary.binaries.find((b) => b.path === '');
  const root: FileComponent = outer
    ? fileOf(outer, label)
    : {
        type: 'file',
        ref: `${label}:`,
        name: label,
        location: [label],
        path: label,
        size: 0,
        sha256: '',
        binary: { format: 'other', detail: 'not in the report' },
        children: [],
      };
  const members = summary.binaries.filter((b) => b.path !== '').map((b) => fileOf(b, label));
  if (members.length > 0) {
    const bundle: BundleComponent = {
      type: 'k3s-bundle',
      ref: `${label}:bundle`,
      name: `${bundleHash}.tar.zst`,
      location: [label],
      declaredHash: bundleHash,
      uncompressedSize: 0,
      links: [],
      children: members,
    };
    root.children.push(bundle);
  }
  return root;
}
