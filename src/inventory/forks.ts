// K3s builds Kubernetes, containerd, etcd and others from forks, through go.mod `replace`
// lines (`k8s.io/kubernetes => github.com/k3s-io/kubernetes v1.31.4-k3s1`). Advisories are
// published for the upstream module, so a fork must also record which upstream module and
// version it stands for (K3S-FACTS §4, §7). Between releases K3s's go.mod points at its
// maintainers' own forks too (`-vs1`, `-bd1` suffixes), so the rule is not tied to an owner:
// any replacement by a module of another path, at a version, is a fork of the module it replaces.
import type { GoModule } from '../model/inventory.ts';

// A release version with a fork suffix: `v1.31.4-k3s1`, `v1.7.23-k3s2`, `v1.37.0-rc.1-vs1`,
// `v3.7.1-bd1`. Group 1 is the upstream release it was forked from.
const FORK_SUFFIX = /^(v\d+\.\d+\.\d+(?:-(?:alpha|beta|rc)(?:\.?\d+)?)?)-[a-z][a-z0-9]*\d$/;
// A plain release, used as is: `v0.3.19`.
const RELEASE = /^v\d+\.\d+\.\d+(?:-(?:alpha|beta|rc)(?:\.?\d+)?)?$/;

// Kubernetes staging modules (k8s.io/api, k8s.io/client-go, ...) are released as v0.Y.Z for
// Kubernetes v1.Y.Z; K3s forks them inside its kubernetes fork, at the v1 version.
const STAGING = '/staging/src/k8s.io/';

export interface Upstream {
  path: string;
  version: string;
}

export function forkUpstream(required: GoModule, replacement: GoModule): Upstream | undefined {
  if (replacement.path === required.path) return undefined; // a version pin, not a fork
  // A local directory (`=> ../x`, recorded with no version or `(devel)`): nothing to stand for.
  if (!replacement.version || replacement.version === '(devel)' || /^[./]/.test(replacement.path)) return undefined;
  // A plain release first: `v1.2.3-rc1` is a pre-release, not `v1.2.3` with a fork suffix.
  let version = RELEASE.test(replacement.version) ? replacement.version : FORK_SUFFIX.exec(replacement.version)?.[1];
  // A pseudo-version says nothing about the upstream release: the required version does.
  if (version === undefined) return { path: required.path, version: required.version };
  if (replacement.path.includes(STAGING) && version.startsWith('v1.')) version = `v0.${version.slice(3)}`;
  return { path: required.path, version };
}
