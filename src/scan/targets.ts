// What is looked up for each Go binary in an inventory: every (package, installed version)
// pair whose records may apply, and the component a finding will point at.
//
// - a dependency or main module is matched as what was BUILT: a `=>` replacement's path and
//   version (a same-path replacement pins another version; a fork is another module);
// - a fork (`upstream` set by the inventory: github.com/k3s-io/kubernetes v1.31.4-k3s1 for
//   k8s.io/kubernetes) is ALSO matched as the upstream module at the upstream version, via
//   'upstream': advisories are published for k8s.io/kubernetes, never for the fork's path;
// - Kubernetes staging modules are looked up under their own path only, at their own version
//   (k8s.io/client-go v0.31.4: the inventory maps the fork's v1.31.4-k3s1 to v0.31.4). Records
//   on k8s.io/kubernetes, whose ranges are 1.x, are never applied to them: a staging module is
//   not Kubernetes, and compared with 1.x ranges v0.31.4 would sit "before every fix" -- the
//   classic false positive of matching by product name or path prefix;
// - `stdlib` at the Go version the binary was built with (stripped binaries included, when
//   their Go version was found), via 'stdlib';
// - the file's K3s identity, via 'k3s', in K3s order; the main module it came from is not
//   matched a second time;
// - no version, `(devel)` (a build from a checkout), a local `=> ../dir` replacement, or a
//   version its order cannot read: skipped, never guessed.
//
// An image's OS packages (dpkg, apk) are looked up by their source package in the release's
// own ecosystem (`Debian:12`, `Alpine:v3.20`), via 'os-package': ospackages.ts.
import type { Component, FileComponent, GoModule, GoModuleComponent, Location } from '../model/inventory.ts';
import { goToolchainSemver } from '../versions/gotoolchain.ts';
import { hasK3sBuild } from '../versions/k3sversion.ts';
import type { OrderKind } from './orders.ts';
import { osPackageTarget } from './ospackages.ts';
import { type EntryScope, GO_SCOPE, type Platform } from './records.ts';

export const K3S_MODULES: readonly string[] = ['github.com/k3s-io/k3s', 'github.com/rancher/k3s'];

export interface MatchTarget {
  /** Ref of the component a finding points at. */
  component: string;
  location: Location;
  /** Package names to look records up under (two for K3s: its old and new module path). */
  names: readonly string[];
  /** Installed version, in the order's spelling (`v1.1.5`, `1.19.8`, `v1.31.4+k3s1`, `5.2.15-2`). */
  version: string;
  order: OrderKind;
  via: 'module' | 'upstream' | 'stdlib' | 'k3s' | 'os-package';
  /** The ecosystems records are looked up in and the entries that count (Go: `Go`). */
  scope: EntryScope;
  platform: Platform;
  /** For 'upstream': the fork that was built. */
  fork?: GoModule;
  /** For 'stdlib': the Go version as the binary records it (`go1.25.1 X:nodwarf5`). */
  goVersion?: string;
  /** The K3s release the component ships in (its own binary or the bundle's owner). */
  k3s?: string;
  /** For 'os-package': the installed binary package and its distribution, for the message. */
  osPackage?: OsPackageInfo;
}

export interface OsPackageInfo {
  manager: 'dpkg' | 'apk';
  /** The binary package (`libssl3`) and its version (`3.0.19-1~deb12u2`, `5.2.15-2+b8`). */
  name: string;
  version: string;
  /** `Debian 12`, `Alpine 3.20`, `Ubuntu 22.04`. */
  release: string;
}

function usable(m: GoModule | undefined): m is GoModule {
  return m !== undefined && !!m.version && m.version !== '(devel)' && !/^[./]/.test(m.path);
}

function platformOf(file: FileComponent): Platform {
  const b = file.binary;
  const setting = (key: string): string | undefined =>
    b.format === 'go' ? b.buildInfo.settings.find((s) => s.key === key)?.value : undefined;
  // The ELF machine's GOARCH name when the build info has none; `machine-<n>` is no GOARCH.
  const elfArch = 'arch' in b && !b.arch.name.startsWith('machine-') ? b.arch.name : undefined;
  const goarch = setting('GOARCH') ?? elfArch;
  // GOOS is recorded in module-mode build info; an ELF without it is taken as Linux.
  return goarch ? { goos: setting('GOOS') ?? 'linux', goarch } : { goos: setting('GOOS') ?? 'linux' };
}

function moduleTargets(
  c: GoModuleComponent,
  file: FileComponent,
  base: Omit<MatchTarget, 'names' | 'version' | 'order' | 'via'>,
): MatchTarget[] {
  // The K3s main module is the K3s identity, matched once, via 'k3s'.
  if (c.role === 'main' && file.k3s?.version && c.module.path === file.k3s.modulePath) return [];
  const out: MatchTarget[] = [];
  const built = c.replacement ? (usable(c.replacement) ? c.replacement : undefined) : c.module;
  if (usable(built)) {
    const k3s = K3S_MODULES.includes(built.path) && hasK3sBuild(built.version);
    out.push({ ...base, names: [built.path], version: built.version, order: k3s ? 'k3s' : 'go', via: 'module' });
  }
  if (c.upstream?.version && c.upstream.version !== '(devel)') {
    const fork = c.replacement;
    out.push({
      ...base,
      names: [c.upstream.path],
      version: c.upstream.version,
      order: 'go',
      via: 'upstream',
      ...(fork ? { fork } : {}),
    });
  }
  return out;
}

function fileTargets(file: FileComponent, k3s: string | undefined): MatchTarget[] {
  const b = file.binary;
  if (b.format !== 'go' && b.format !== 'go-no-buildinfo') return [];
  const base = { location: file.location, platform: platformOf(file), scope: GO_SCOPE, ...(k3s ? { k3s } : {}) };
  const out: MatchTarget[] = [];
  const stdlib = (component: string, location: Location, goVersion: string): void => {
    const version = goToolchainSemver(goVersion);
    if (version)
      out.push({ ...base, component, location, names: ['stdlib'], version, order: 'go', via: 'stdlib', goVersion });
  };
  for (const c of file.children) {
    if (c.type === 'go-module')
      out.push(...moduleTargets(c, file, { ...base, component: c.ref, location: c.location }));
    if (c.type === 'go-stdlib') stdlib(c.ref, c.location, c.goVersion);
  }
  // A stripped binary has no stdlib component; its Go version, when found, still says which
  // standard library it carries. The finding points at the file.
  if (b.format === 'go-no-buildinfo' && b.goVersion && !file.children.some((c) => c.type === 'go-stdlib'))
    stdlib(file.ref, file.location, b.goVersion);
  const identity = file.k3s;
  if (identity?.version) {
    const names = [identity.modulePath, ...K3S_MODULES.filter((n) => n !== identity.modulePath)];
    out.push({ ...base, component: file.ref, names, version: identity.version, order: 'k3s', via: 'k3s' });
  }
  return out;
}

type Distro = { id: string; versionId?: string };

/** Every lookup to make for a component tree, depth first, in tree order. */
export function matchTargets(roots: Component | readonly Component[]): MatchTarget[] {
  const out: MatchTarget[] = [];
  const visit = (c: Component, k3s: string | undefined, os: Distro | undefined): void => {
    let inside = k3s;
    let imageOs = os;
    if (c.type === 'file') {
      // A binary with its own K3s identity is "that K3s"; bundle members inherit the owner's.
      inside = c.k3s?.version ?? k3s;
      out.push(...fileTargets(c, inside));
    }
    // A package without its own distro takes its image's (both come from the image's os-release).
    if (c.type === 'image') imageOs = c.os;
    if (c.type === 'os-package') {
      const t = osPackageTarget(c, imageOs);
      if (t) out.push(t);
    }
    if (
      c.type === 'file' ||
      c.type === 'directory' ||
      c.type === 'k3s-bundle' ||
      c.type === 'image' ||
      c.type === 'image-archive'
    )
      for (const child of c.children) visit(child, inside, imageOs);
  };
  for (const root of Array.isArray(roots) ? roots : [roots as Component]) visit(root, undefined, undefined);
  return out;
}
