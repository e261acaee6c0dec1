// Turn a Go binary's build info into inventory components: the main module, every dependency
// (keeping both the required module and its replacement), and `stdlib` at the Go version.

import type { Component, GoBuildInfo, GoModule, GoModuleComponent, K3sIdentity, Location } from '../model/inventory.ts';
import { goModulePurl, goStdlibPurl } from '../model/purl.ts';
import { forkUpstream } from './forks.ts';

const DEVEL = '(devel)';

/** `=> ../local` (Go 1.18+ records `(devel)` for it, older Go an empty version): no module version. */
function isLocalReplacement(m: GoModule): boolean {
  return !m.version || m.version === DEVEL || m.path.startsWith('.') || m.path.startsWith('/');
}

function moduleComponent(
  ownerRef: string,
  location: Location,
  role: 'main' | 'dep',
  mod: GoModule & { replace?: GoModule },
  reportedVersion: string | undefined,
): GoModuleComponent {
  const { replace, ...module } = mod;
  // The code that was built is the replacement's; name and purl follow it, so a scanner
  // looking up the purl finds the fork. The required module stays in `module`.
  const built = replace && !isLocalReplacement(replace) ? replace : module;
  const c: GoModuleComponent = {
    type: 'go-module',
    ref: `${ownerRef}#go:${module.path}@${module.version}`,
    name: built.path,
    location,
    role,
    module,
  };
  const version = built === module ? reportedVersion : built.version;
  if (version) {
    c.version = version;
    c.purl = goModulePurl(built.path, version);
  } else {
    c.purl = goModulePurl(built.path, undefined);
  }
  if (replace) {
    c.replacement = replace;
    const upstream = forkUpstream(module, replace);
    if (upstream) c.upstream = upstream;
  }
  return c;
}

/** Components for one Go binary; `ownerRef` is the ref of the file they were found in. */
export function goComponents(
  ownerRef: string,
  location: Location,
  info: GoBuildInfo,
  k3s: K3sIdentity | undefined,
): Component[] {
  const out: Component[] = [];
  if (info.main) {
    // `(devel)` is what `go build` records for the main module of a source checkout: never a
    // version. For K3s the true version is the -X ldflag (k3s-io/k3s#8618).
    const isK3s = k3s !== undefined && info.main.path === k3s.modulePath;
    const version = isK3s ? k3s.version : info.main.version === DEVEL ? undefined : info.main.version;
    out.push(moduleComponent(ownerRef, location, 'main', info.main, version));
  }
  for (const dep of info.deps) {
    out.push(moduleComponent(ownerRef, location, 'dep', dep, dep.version === DEVEL ? undefined : dep.version));
  }
  out.push({
    type: 'go-stdlib',
    ref: `${ownerRef}#go:stdlib@${info.goVersion}`,
    name: 'stdlib',
    version: info.goVersion,
    purl: goStdlibPurl(info.goVersion),
    location,
    goVersion: info.goVersion,
  });
  return out;
}
