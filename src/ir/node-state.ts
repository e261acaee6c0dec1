// What `ir diff` compares: a node's state as one evidence archive tells it, read back from the
// archive's members (digests.json, k3s-inventory.json, containerd.json, processes.json, the
// collected configuration files) into one shape. The archive is read with the bounded reader
// and its members must match its manifest: evidence that does not is refused, not compared.
import { parseAllDocuments } from 'yaml';
import { parseJsonText } from '../io/json-text.ts';
import { InputError, isInputError } from '../model/errors.ts';
import { type Lockfile, validateLock } from '../verify/lock/format.ts';
import { manifestProblems, parseManifest, readEvidenceArchive } from './archive.ts';
import { MANIFEST_NAME } from './manifest.ts';

export interface FileState {
  type: 'file' | 'symlink';
  sha256?: string;
  target?: string;
}

export interface BinaryState {
  path: string;
  sha256: string;
  version?: string;
  commit?: string;
  /** The hash of the bundle embedded in the binary. */
  bundleHash?: string;
}

export interface ProcessState {
  pid: number;
  name: string;
  exe?: string;
  sha256?: string;
  status: string;
}

export interface AgentSummary {
  findings: Array<{ id: string; severity?: string; message?: string; firstSeen: string }>;
  firstBad?: string;
}

export interface NodeState {
  file: string;
  host: string;
  collectedAt: string;
  root: string;
  dataDir: string;
  stateDir: string;
  /** Every file and symlink walked, by node path. */
  files: Map<string, FileState>;
  binary?: BinaryState;
  /** The embedded bundle's members (path inside the bundle -> sha256), from the binary's inventory. */
  bundleMembers?: Map<string, string>;
  /** Image name -> target digest, as containerd listed them; absent when containerd was not reached. */
  images?: Map<string, string>;
  /** `<file> <key path>` -> the value as JSON, for config.yaml(.d) and registries.yaml. */
  settings: Map<string, string>;
  /** Namespaces of the containers containerd listed (their pod labels). */
  namespaces: Set<string>;
  /** Absent when no proc filesystem was read. */
  processes?: ProcessState[];
  agent?: AgentSummary;
  /** The lock in force at collection (`ir collect --lock`), when it was archived. */
  lock?: Lockfile;
  notes: string[];
}

export const DEFAULT_DATA_DIR = '/var/lib/rancher/k3s';
export const DEFAULT_STATE_DIR = '/var/lib/k3sguard';
const SETTINGS_DIR = 'files/etc/rancher/k3s/';
const SETTINGS_BYTES = 1024 * 1024;
const LOCK_MEMBER = 'in-force/k3sguard.lock';
const JSON_MEMBERS = [
  'digests.json',
  'k3s-inventory.json',
  'containerd.json',
  'processes.json',
  'agent.json',
  LOCK_MEMBER,
];

export async function readNodeState(file: string): Promise<NodeState> {
  const { members, kept } = await readEvidenceArchive(
    file,
    (name) => JSON_MEMBERS.includes(name) || (name.startsWith(SETTINGS_DIR) && /\.ya?ml$/.test(name)),
  );
  const manifestBytes = kept.get(MANIFEST_NAME);
  if (!manifestBytes)
    throw new InputError('BAD_JSON', file, `evidence: no ${MANIFEST_NAME}: not an ir collect archive`);
  const manifest = parseManifest(file, manifestBytes);
  const problems = manifestProblems(manifest, members);
  if (problems.length > 0) {
    throw new InputError('TAR_CORRUPT', file, `evidence does not match its manifest (${problems[0]}): run ir verify`);
  }
  const json = <T>(name: string): T | undefined => {
    const b = kept.get(name);
    if (!b) return undefined;
    try {
      return parseJsonText(b.toString('utf8')) as T;
    } catch (e) {
      throw new InputError('BAD_JSON', file, `evidence: ${name} is not JSON (${(e as Error).message})`);
    }
  };
  const state: NodeState = {
    file,
    host: String(manifest.host),
    collectedAt: String(manifest.collectedAt),
    root: String(manifest.root),
    dataDir: typeof manifest.dataDir === 'string' ? manifest.dataDir : DEFAULT_DATA_DIR,
    stateDir: typeof manifest.stateDir === 'string' ? manifest.stateDir : DEFAULT_STATE_DIR,
    files: new Map(),
    settings: new Map(),
    namespaces: new Set(),
    notes: [],
  };
  const digests = json<Array<{ path?: unknown; type?: unknown; sha256?: unknown; target?: unknown }>>('digests.json');
  if (!Array.isArray(digests))
    throw new InputError('BAD_JSON', file, 'evidence: digests.json is missing or not a list');
  for (const d of digests) {
    if (typeof d?.path !== 'string' || (d.type !== 'file' && d.type !== 'symlink')) continue;
    state.files.set(d.path, {
      type: d.type,
      ...(typeof d.sha256 === 'string' ? { sha256: d.sha256 } : {}),
      ...(typeof d.target === 'string' ? { target: d.target } : {}),
    });
  }
  readInventory(json('k3s-inventory.json'), state);
  const runtime = json<{
    images?: Array<{ name?: unknown; digest?: unknown }>;
    containers?: Array<{ labels?: Record<string, unknown> }>;
    version?: unknown;
  }>('containerd.json');
  for (const c of runtime?.containers ?? []) {
    const ns = c?.labels?.['io.kubernetes.pod.namespace'];
    if (typeof ns === 'string') state.namespaces.add(ns);
  }
  if (runtime && typeof runtime.version === 'string' && Array.isArray(runtime.images)) {
    state.images = new Map(
      runtime.images
        .filter((i) => typeof i?.name === 'string' && typeof i.digest === 'string')
        .map((i) => [i.name as string, i.digest as string]),
    );
  } else {
    state.notes.push(`${file}: containerd was not reached at collection: images not compared`);
  }
  const procs = json<{ available?: unknown; processes?: ProcessState[] }>('processes.json');
  if (procs?.available === true && Array.isArray(procs.processes)) {
    // Only well-formed entries: the archive may come from a hostile node.
    state.processes = procs.processes.filter(
      (p) =>
        typeof p?.pid === 'number' &&
        typeof p.name === 'string' &&
        typeof p.status === 'string' &&
        (p.exe === undefined || typeof p.exe === 'string') &&
        (p.sha256 === undefined || typeof p.sha256 === 'string'),
    );
  }
  const agent = json<AgentSummary & { present?: boolean }>('agent.json');
  if (agent && Array.isArray(agent.findings)) {
    const findings = agent.findings.filter(
      (f) =>
        typeof f?.id === 'string' &&
        typeof f.firstSeen === 'string' &&
        (f.message === undefined || typeof f.message === 'string'),
    );
    state.agent = { findings, ...(typeof agent.firstBad === 'string' ? { firstBad: agent.firstBad } : {}) };
  }
  const lock = json<unknown>(LOCK_MEMBER);
  if (lock !== undefined) {
    try {
      state.lock = validateLock(lock, `${file}:${LOCK_MEMBER}`);
    } catch (e) {
      if (!isInputError(e)) throw e;
      state.notes.push(`${file}: ${LOCK_MEMBER}: ${e.message}`);
    }
  }
  for (const [name, bytes] of [...kept].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (name.startsWith(SETTINGS_DIR)) readSettings(name.slice('files'.length), bytes, state);
  }
  return state;
}

interface InvComponent {
  type?: string;
  path?: string;
  sha256?: string;
  declaredHash?: string;
  k3s?: { version?: string; commit?: string };
  children?: InvComponent[];
}

function readInventory(doc: { root?: InvComponent } | undefined, state: NodeState): void {
  const root = doc?.root;
  if (!root || typeof root.sha256 !== 'string') return;
  const binary: BinaryState = { path: typeof root.path === 'string' ? root.path : 'k3s', sha256: root.sha256 };
  if (root.k3s?.version) binary.version = root.k3s.version;
  if (root.k3s?.commit) binary.commit = root.k3s.commit;
  const bundle = (root.children ?? []).find((c) => c?.type === 'k3s-bundle');
  if (bundle) {
    if (typeof bundle.declaredHash === 'string') binary.bundleHash = bundle.declaredHash;
    const members = new Map<string, string>();
    const walk = (cs: InvComponent[] | undefined) => {
      for (const c of cs ?? []) {
        if (c?.type === 'file' && typeof c.path === 'string' && typeof c.sha256 === 'string')
          members.set(c.path, c.sha256);
        if (c?.type === 'directory') walk(c.children);
      }
    };
    walk(bundle.children);
    state.bundleMembers = members;
  }
  state.binary = binary;
}

/**
 * Flattens a YAML settings file to `key path -> JSON value`, so one changed setting is one
 * line of the diff. Keys holding dots or colons (registry hosts) are quoted in the path.
 */
function readSettings(nodePath: string, bytes: Buffer, state: NodeState): void {
  // Settings files are small (collect archives files up to 1 MiB); a larger one, or one whose
  // aliases or nesting would explode (it came from a node that may be hostile), is compared by
  // its digest only.
  const unread = (why: string): void => {
    state.notes.push(`${nodePath}: ${why}: compared by digest only`);
  };
  if (bytes.length > SETTINGS_BYTES) {
    unread('larger than 1 MiB');
    return;
  }
  let values: unknown[];
  try {
    const docs = parseAllDocuments(bytes.toString('utf8'));
    if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) {
      unread('not YAML');
      return;
    }
    values = docs.map((d) => d.toJS({ maxAliasCount: 100 }));
  } catch (e) {
    unread(`not read (${(e as Error).message})`);
    return;
  }
  const put = (path: string, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const key = /^[A-Za-z0-9_+-]+$/.test(k) ? k : JSON.stringify(k);
        put(path ? `${path}.${key}` : key, x);
      }
      return;
    }
    state.settings.set(`${nodePath} ${path}`, JSON.stringify(v));
  };
  try {
    for (const v of values) put('', v);
  } catch {
    unread('nested too deeply');
  }
}
