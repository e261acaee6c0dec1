// The simulated fleet of bench/server-load.ts: one real report (`k3sguard agent --once` on the
// K3s-shaped fixture) dressed as a K3s node that runs its default workloads, then varied per
// node. 95% of the nodes run one of 5 K3s releases with that release's images (5 shared
// inventories); the other 5% each also run an image of their own (an inventory no other node
// has). Every body is a `k3sguard/report@1` the server validates as it would an agent's.
import { createHash } from 'node:crypto';
import type { Report } from '../../test/server/agent-report.ts';

/** What K3s deploys on a server node (docs of each release name these images). */
const SYSTEM_IMAGES = [
  ['docker.io/rancher/mirrored-coredns-coredns:1.12.0', 'kube-system', 'coredns'],
  ['docker.io/rancher/local-path-provisioner:v0.0.30', 'kube-system', 'local-path-provisioner'],
  ['docker.io/rancher/mirrored-metrics-server:v0.7.2', 'kube-system', 'metrics-server'],
  ['docker.io/rancher/mirrored-library-traefik:2.11.18', 'kube-system', 'traefik'],
  ['docker.io/rancher/klipper-lb:v0.4.9', 'kube-system', 'svclb-traefik'],
  ['docker.io/rancher/mirrored-pause:3.6', 'kube-system', 'pause'],
  ['ghcr.io/stefanprodan/podinfo:6.7.1', 'apps', 'podinfo'],
  ['quay.io/jetstack/cert-manager-controller:v1.16.2', 'cert-manager', 'cert-manager'],
] as const;

/**
 * The real report's release first; the others as a fleet mid-upgrade would have them, each with
 * the runc it builds in (the real report's inner k3s has runc v1.1.5, below the fix of
 * CVE-2024-21626, so "runc < 1.1.12" finds the nodes of the first release).
 */
const OTHER_RELEASES: ReadonlyArray<readonly [string, string]> = [
  ['v1.31.3+k3s1', 'v1.2.1'],
  ['v1.30.8+k3s1', 'v1.1.14'],
  ['v1.32.0+k3s1', 'v1.2.3'],
  ['v1.29.12+k3s1', 'v1.1.12'],
];
const RUNC = 'github.com/opencontainers/runc';
/** Executables of the bundle the process check finds running. */
const BUNDLE_PROGRAMS = ['containerd', 'containerd-shim-runc-v2', 'runc'];

export const SHARED_INVENTORIES = 5;
export const UNIQUE_SHARE = 0.05;
/** The interval every node reports at, in real time. */
export const REPORT_INTERVAL_MS = 5 * 60_000;

const hex = (text: string) => createHash('sha256').update(text).digest('hex');

interface Release {
  version: string;
  binary: string;
  inventory: Record<string, unknown>;
  images: Array<{ digest: string; names: string[]; verdict: string }>;
  containers: Array<Record<string, unknown>>;
  processes: Array<Record<string, unknown>>;
}

function release(base: Report, index: number): Release {
  const [realDigest, realEntry] = Object.entries(base.inventory)[0] as [string, Record<string, unknown>];
  const other = OTHER_RELEASES[index - 1];
  const version = other ? other[0] : String(base.node.k3s.version);
  const binary = other ? `sha256:${hex(`k3s ${version}`)}` : realDigest;
  const bundle = other ? hex(`bundle ${version}`) : String(realEntry.bundle);
  const inventory: Record<string, unknown> = {
    [binary]: { ...(other ? asRelease(realEntry, version, other[1]) : realEntry), k3sVersion: version, bundle },
  };
  const processes: Array<Record<string, unknown>> = [
    { pid: 1021, name: 'k3s-server', exe: '/usr/local/bin/k3s', digest: binary, status: 'unlisted' },
  ];
  BUNDLE_PROGRAMS.forEach((program, i) => {
    const digest = `sha256:${hex(`${program} ${version}`)}`;
    const path = `/var/lib/rancher/k3s/data/${bundle}/bin/${program}`;
    inventory[digest] = { kind: 'executable', names: [path] };
    processes.push({ pid: 1100 + i, name: program, exe: path, digest, status: 'verified' });
  });
  const images: Release['images'] = [];
  const containers: Release['containers'] = [];
  for (const [name, namespace, pod] of SYSTEM_IMAGES) {
    // A release ships its own builds of the system images; workloads are the same on every release.
    const digest = `sha256:${hex(namespace === 'kube-system' ? `${name} ${version}` : name)}`;
    inventory[digest] = {
      kind: 'image',
      names: [name],
      verdict: 'trusted',
      packages: 0,
      goBinaries: 1,
      vulnerabilities: 0,
    };
    images.push({ digest, names: [name], verdict: 'trusted' });
    containers.push({
      image: name,
      imageDigest: digest,
      pod: { name: `${pod}-7d9c8b6f5-x2kqz`, namespace },
      status: 'running',
    });
  }
  return { version, binary, inventory, images, containers, processes };
}

interface ComponentSummary {
  binaries: Array<{ k3s?: { version: string }; modules: string[][] }>;
}

/** The real k3s-binary entry as another release's: its K3s identity, and runc at `runc`. */
function asRelease(entry: Record<string, unknown>, k3s: string, runc: string): Record<string, unknown> {
  if (entry.components === undefined) return entry;
  const copy = structuredClone(entry) as Record<string, unknown> & { components: ComponentSummary };
  for (const b of copy.components.binaries) {
    if (b.k3s) b.k3s.version = k3s;
    for (const m of b.modules) if (m[0] === RUNC) m[1] = runc;
  }
  return copy;
}

export interface Fleet {
  readonly nodes: number;
  /** Node n's name (its token is filed under it). */
  name(n: number): string;
  /** Node n's report of `round` (its check `round` intervals after `start`): the message id and the body. */
  report(n: number, round: number): { id: string; text: string };
  /** How many distinct inventories the fleet sends. */
  readonly distinctInventories: number;
}

export function fleetOf(base: Report, nodes: number, start: Date): Fleet {
  const releases = Array.from({ length: SHARED_INVENTORIES }, (_, i) => release(base, i));
  const uniqueEvery = Math.round(1 / UNIQUE_SHARE);
  const name = (n: number) => `node-${String(n).padStart(5, '0')}`;
  const uniqueNodes = Math.floor(nodes / uniqueEvery);
  return {
    nodes,
    name,
    distinctInventories: Math.min(nodes, SHARED_INVENTORIES) + uniqueNodes,
    report(n, round) {
      // Releases in shares a fleet mid-upgrade has: most on the newest, a tail on older ones
      // (by blocks of 20 nodes, so the unique 1 in 20 falls on every release).
      const share = Math.floor(n / uniqueEvery) % 20;
      const r = releases[share < 10 ? 0 : share < 15 ? 1 : share < 18 ? 2 : share < 19 ? 3 : 4] as Release;
      const machineId = createHash('md5').update(name(n)).digest('hex');
      // Nodes spread over the interval, as agents started at different times are.
      const at = start.getTime() + round * REPORT_INTERVAL_MS + Math.floor((n / nodes) * REPORT_INTERVAL_MS);
      const finishedAt = new Date(at).toISOString();
      const startedAt = new Date(at - 900).toISOString();
      let { inventory, images, containers } = r;
      if (n % uniqueEvery === uniqueEvery - 1) {
        // A node that runs something of its own: one more image, so an inventory no one shares.
        const own = `registry.example.com/team/${name(n)}-tool:build-${n}`;
        const digest = `sha256:${hex(own)}`;
        inventory = {
          ...inventory,
          [digest]: { kind: 'image', names: [own], verdict: 'unknown', packages: 0, goBinaries: 1, vulnerabilities: 0 },
        };
        images = [...images, { digest, names: [own], verdict: 'unknown' }];
        containers = [
          ...containers,
          { image: own, imageDigest: digest, pod: { name: 'tool', namespace: 'team' }, status: 'running' },
        ];
      }
      const report = {
        ...base,
        node: {
          ...base.node,
          hostname: name(n),
          machineId,
          root: '/',
          k3s: { ...base.node.k3s, version: r.version, binary: { path: '/usr/local/bin/k3s', digest: r.binary } },
        },
        check: { startedAt, finishedAt, durationMs: 900 },
        containerd: { ok: true, version: 'v1.7.23-k3s2' },
        inventory,
        processes: r.processes,
        images,
        containers: containers.map((c, i) => ({ id: hex(`${name(n)} ${i}`), ...c })),
        findings: (base.findings as Array<Record<string, unknown>>).map((f) => ({ ...f, lastSeen: finishedAt })),
        problems: [],
      };
      // The agent's report id: from the node and its check time, so a re-send has the same id.
      return { id: hex(`${machineId} ${finishedAt}`), text: JSON.stringify(report) };
    },
  };
}
