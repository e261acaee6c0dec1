// The facts about one node a playbook is filled in with: its paths, role, datastore and K3s
// version, from an evidence archive when there is one (else K3s's defaults, said as such), and
// what the evidence itself shows (the agent's findings and when the first was seen, processes
// running replaced executables, manifests K3s does not ship, insecure registry settings).
import { K3S_BINARY } from '../audit/node/binary.ts';
import { InputError } from '../model/errors.ts';
import { type K3sVersion, parseK3sVersion } from '../versions/k3sversion.ts';
import { DEFAULT_DATA_DIR, type NodeState } from './node-state.ts';

export type Role = 'server' | 'agent';
export type Datastore = 'etcd' | 'sqlite' | 'external' | 'unknown';

export interface PlaybookNode {
  /** The node's name as kubectl knows it, or `<NODE>` when no evidence says. */
  name: string;
  version: K3sVersion;
  versionText: string;
  role: Role;
  datastore: Datastore;
  dataDir: string;
  configFile: string;
  binary: string;
  unit: string;
  manifestsDir: string;
  tokenFile: string;
  snapshotsDir: string;
  evidence?: { file: string; host: string; collectedAt: string; binarySha256?: string; bundleHash?: string };
  /** When the agent first saw something wrong: restore from before it. */
  firstBad?: string;
  findings: Array<{ id: string; message?: string; firstSeen: string }>;
  replacedProcesses: string[];
  /**
   * Manifests in server/manifests that K3s does not ship (by name); when the evidence holds the
   * lock in force, only those it does not vouch for (name and digest).
   */
  foreignManifests: string[];
  /** Whether foreignManifests was checked against the lock in force. */
  manifestsLocked: boolean;
  /** Registry settings that weaken pulls: `host: setting`. */
  insecureRegistry: string[];
  /** Registry hosts with credentials in registries.yaml. */
  registryAuth: string[];
  /** Namespaces of the pods containerd ran on the node. */
  namespaces: string[];
  /** Extracted bundle dirs on the node. */
  bundleDirs: string[];
  images: string[];
}

/** What K3s deploys from server/manifests itself (packaged add-ons, K3S-FACTS §6). */
const PACKAGED = new Set([
  'ccm.yaml',
  'coredns.yaml',
  'local-storage.yaml',
  'metrics-server',
  'rolebindings.yaml',
  'runtimes.yaml',
  'traefik.yaml',
]);

export interface PlaybookNodeOptions {
  state?: NodeState;
  version?: string;
  role?: Role;
}

export function playbookNode(o: PlaybookNodeOptions): PlaybookNode {
  const s = o.state;
  const versionText = o.version ?? s?.binary?.version;
  if (versionText === undefined) {
    throw new InputError(
      'USAGE',
      s?.file,
      s
        ? 'the evidence holds no K3s version (no k3s binary inventoried): give --k3s-version'
        : 'ir playbook needs --evidence or --k3s-version',
    );
  }
  const version = parseK3sVersion(versionText);
  if (!version)
    throw new InputError('USAGE', undefined, `--k3s-version ${versionText}: not a K3s version (vX.Y.Z+k3sN)`);
  const setting = (key: string) =>
    s?.settings.get(`/etc/rancher/k3s/config.yaml ${key}`) ??
    [...(s?.settings ?? [])].find(
      ([k]) => k.startsWith('/etc/rancher/k3s/config.yaml.d/') && k.endsWith(` ${key}`),
    )?.[1];
  const dataDir = s?.dataDir ?? DEFAULT_DATA_DIR;
  const role: Role = o.role ?? (s ? detectRole(s) : 'server');
  const node: PlaybookNode = {
    name: nodeName(setting('node-name')) ?? s?.host ?? '<NODE>',
    version,
    versionText,
    role,
    datastore: role === 'agent' ? 'unknown' : s ? detectDatastore(setting) : 'unknown',
    dataDir,
    configFile: '/etc/rancher/k3s/config.yaml',
    binary: K3S_BINARY,
    unit: role === 'agent' ? 'k3s-agent' : 'k3s',
    manifestsDir: `${dataDir}/server/manifests`,
    tokenFile: `${dataDir}/server/token`,
    snapshotsDir: `${dataDir}/server/db/snapshots`,
    findings: [],
    replacedProcesses: [],
    foreignManifests: [],
    manifestsLocked: false,
    insecureRegistry: [],
    registryAuth: [],
    namespaces: [],
    bundleDirs: [],
    images: [],
  };
  if (!s) return node;
  node.evidence = {
    file: s.file,
    host: s.host,
    collectedAt: s.collectedAt,
    ...(s.binary ? { binarySha256: s.binary.sha256 } : {}),
    ...(s.binary?.bundleHash ? { bundleHash: s.binary.bundleHash } : {}),
  };
  if (s.agent?.firstBad) node.firstBad = s.agent.firstBad;
  node.findings = (s.agent?.findings ?? []).map((f) => ({
    id: f.id,
    firstSeen: f.firstSeen,
    ...(f.message ? { message: f.message } : {}),
  }));
  for (const p of s.processes ?? []) {
    if (p.status === 'modified' || p.status === 'unlisted' || p.status === 'deleted')
      node.replacedProcesses.push(`${p.name} (pid ${p.pid}) ${p.exe ?? ''} (${p.status})`.trim());
  }
  const locked = new Set((s.lock?.artifacts ?? []).map((a) => `${a.name} ${a.sha256}`));
  node.manifestsLocked = s.lock !== undefined;
  for (const [path, f] of s.files) {
    if (!path.startsWith(`${node.manifestsDir}/`)) continue;
    const top = path.slice(node.manifestsDir.length + 1).split('/')[0] as string;
    if (PACKAGED.has(top) || top.endsWith('.skip') || node.foreignManifests.includes(top)) continue;
    if (s.lock && f.sha256 && locked.has(`${top} ${f.sha256}`)) continue;
    node.foreignManifests.push(top);
  }
  const bundleDir = new RegExp(`^${escapeRegExp(dataDir)}/data/([0-9a-f]{64})/`);
  for (const path of s.files.keys()) {
    const h = bundleDir.exec(path)?.[1];
    if (h && !node.bundleDirs.includes(h)) node.bundleDirs.push(h);
  }
  for (const [key, value] of s.settings) {
    if (!key.startsWith('/etc/rancher/k3s/registries.yaml ')) continue;
    const k = key.slice('/etc/rancher/k3s/registries.yaml '.length);
    if (
      (k.endsWith('.insecure_skip_verify') && value === 'true') ||
      (/^mirrors\..*\.endpoint/.test(k) && value.includes('"http://'))
    )
      node.insecureRegistry.push(`${k}: ${value}`);
    const auth = /^configs\.(.+)\.auth\./.exec(k)?.[1];
    if (auth && !node.registryAuth.includes(auth)) node.registryAuth.push(auth);
  }
  node.images = [...(s.images ?? [])].map(([n, d]) => `${n}@${d}`).sort();
  node.namespaces = [...s.namespaces].sort();
  return node;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function detectRole(s: NodeState): Role {
  if ([...s.files.keys()].some((p) => p.endsWith('/k3s-agent.service'))) return 'agent';
  return 'server';
}

function detectDatastore(setting: (key: string) => string | undefined): Datastore {
  if (setting('datastore-endpoint')) return 'external';
  if (setting('cluster-init') === 'true' || setting('server')) return 'etcd';
  return 'sqlite';
}

/** The `node-name` setting when it is a string (settings hold JSON values). */
function nodeName(json: string | undefined): string | undefined {
  if (json === undefined) return undefined;
  const v: unknown = JSON.parse(json);
  return typeof v === 'string' && v !== '' ? v : undefined;
}
