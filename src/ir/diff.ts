// `ir diff`: what changed on a node between a baseline (an earlier evidence archive, or the lock
// of reviewed digests) and an evidence archive, grouped and ordered by what matters to a
// responder: the k3s binary first (what runs everything), then its bundle, the extracted data
// dir (K3s checks it once, at extraction), images, auto-deployed manifests (a direct path into
// the cluster), registry and config settings, and processes running replaced executables.
import { K3S_BINARY } from '../audit/node/binary.ts';
import type { FileState, NodeState, ProcessState } from './node-state.ts';

export const DIFF_GROUPS = ['binary', 'bundle', 'data-dir', 'images', 'manifests', 'config', 'processes'] as const;
export type DiffGroup = (typeof DIFF_GROUPS)[number];

export const GROUP_TITLES: Record<DiffGroup, string> = {
  binary: 'k3s binary and its K3s version',
  bundle: 'bundle members (embedded in the binary)',
  'data-dir': 'data dir (extracted bundles)',
  images: 'images and their digests',
  manifests: 'auto-deployed manifests and charts',
  config: 'registry and config settings, units, tokens',
  processes: 'processes running replaced executables',
};

export interface Change {
  group: DiffGroup;
  change: 'changed' | 'added' | 'removed' | 'not-in-lock';
  /** What changed: a node path, a setting (`<file> <key path>`), an image name, a process. */
  subject: string;
  before?: string;
  after?: string;
  /** Why it matters, when it is not plain from the change. */
  why?: string;
}

export interface DiffResult {
  baseline: { kind: 'evidence' | 'lock'; file: string; host?: string; collectedAt?: string };
  evidence: { file: string; host: string; collectedAt: string };
  changes: Change[];
  notes: string[];
}

export const order = (a: Change, b: Change) =>
  DIFF_GROUPS.indexOf(a.group) - DIFF_GROUPS.indexOf(b.group) ||
  (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0);

/** Which group a node path belongs to; undefined for the agent's own state (it changes at every check). */
export function groupOf(path: string, s: Pick<NodeState, 'dataDir' | 'stateDir'>): DiffGroup | undefined {
  if (path === s.stateDir || path.startsWith(`${s.stateDir}/`)) return undefined;
  if (path === K3S_BINARY) return 'binary';
  if (path.startsWith(`${s.dataDir}/data/`)) return 'data-dir';
  if (path.startsWith(`${s.dataDir}/agent/images/`)) return 'images';
  if (path.startsWith(`${s.dataDir}/server/manifests/`) || path.startsWith(`${s.dataDir}/server/static/`))
    return 'manifests';
  return 'config';
}

const describe = (f: FileState | undefined): string | undefined =>
  f === undefined ? undefined : f.type === 'symlink' ? `symlink to ${f.target}` : `sha256:${f.sha256}`;

function fileChanges(group: DiffGroup, paths: Iterable<string>, a: NodeState, b: NodeState, out: Change[]): void {
  for (const p of paths) {
    const x = a.files.get(p);
    const y = b.files.get(p);
    const before = describe(x);
    const after = describe(y);
    if (before === after) continue;
    const change = x === undefined ? 'added' : y === undefined ? 'removed' : 'changed';
    out.push({
      group,
      change,
      subject: p,
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
      ...(group === 'manifests' && change !== 'removed'
        ? { why: 'K3s applies every file here at start: a direct path into the cluster' }
        : group === 'manifests'
          ? { why: 'deleting a manifest does not delete what it created' }
          : {}),
    });
  }
}

/** Settings known to weaken image pulls or the cluster, with why. */
function settingWhy(subject: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (/ insecure_skip_verify$|\.insecure_skip_verify$/.test(subject) && value === 'true')
    return 'TLS to this registry is not verified: anyone on the path can serve any image';
  if (/\.endpoint/.test(subject) && /"http:\/\//.test(value))
    return 'a plain-HTTP registry endpoint: images can be swapped in transit';
  if (/registries\.yaml mirrors\."\*"/.test(subject)) return 'a mirror for every registry: it can serve any image';
  if (/\.rewrite\./.test(subject)) return 'rewrites image names: pulls go to another repository';
  if (/ (system-default-registry|embedded-registry|disable-default-registry-endpoint)$/.test(subject))
    return 'changes where every system image is pulled from';
  if (/ (secrets-encryption|protect-kernel-defaults|kube-apiserver-arg|anonymous-auth)/.test(subject))
    return 'a security setting of the cluster';
  return undefined;
}

function evidenceDiff(a: NodeState, b: NodeState, out: Change[], notes: string[]): void {
  const paths = new Set([...a.files.keys(), ...b.files.keys()]);
  const byGroup = new Map<DiffGroup, string[]>();
  for (const p of [...paths].sort()) {
    const g = groupOf(p, b);
    if (!g) continue;
    const list = byGroup.get(g);
    if (list) list.push(p);
    else byGroup.set(g, [p]);
  }
  // binary
  fileChanges('binary', byGroup.get('binary') ?? [], a, b, out);
  for (const [field, label] of [
    ['version', 'K3s version'],
    ['commit', 'K3s commit'],
    ['bundleHash', 'embedded bundle hash'],
  ] as const) {
    const x = a.binary?.[field];
    const y = b.binary?.[field];
    if (x !== y && (x !== undefined || y !== undefined)) {
      out.push({
        group: 'binary',
        change: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed',
        subject: `${K3S_BINARY} ${label}`,
        ...(x ? { before: x } : {}),
        ...(y ? { after: y } : {}),
      });
    }
  }
  // bundle members
  if (a.bundleMembers && b.bundleMembers) {
    for (const m of [...new Set([...a.bundleMembers.keys(), ...b.bundleMembers.keys()])].sort()) {
      const x = a.bundleMembers.get(m);
      const y = b.bundleMembers.get(m);
      if (x === y) continue;
      out.push({
        group: 'bundle',
        change: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed',
        subject: m,
        ...(x ? { before: `sha256:${x}` } : {}),
        ...(y ? { after: `sha256:${y}` } : {}),
      });
    }
  } else if (a.bundleMembers || b.bundleMembers) {
    notes.push('the k3s binary was inventoried in only one of the two: bundle members not compared');
  }
  dataDirDiff(byGroup.get('data-dir') ?? [], a, b, out);
  // images
  fileChanges('images', byGroup.get('images') ?? [], a, b, out);
  if (a.images && b.images) {
    for (const name of [...new Set([...a.images.keys(), ...b.images.keys()])].sort()) {
      const x = a.images.get(name);
      const y = b.images.get(name);
      if (x === y) continue;
      out.push({
        group: 'images',
        change: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed',
        subject: name,
        ...(x ? { before: x } : {}),
        ...(y ? { after: y } : {}),
        ...(x && y ? { why: 'the same name now points at other content (re-pointed)' } : {}),
      });
    }
  }
  fileChanges('manifests', byGroup.get('manifests') ?? [], a, b, out);
  // config: settings key by key; a YAML file whose settings differ is not listed again as a file
  const settingFiles = new Set<string>();
  for (const key of [...new Set([...a.settings.keys(), ...b.settings.keys()])].sort()) {
    const x = a.settings.get(key);
    const y = b.settings.get(key);
    if (x === y) continue;
    settingFiles.add(key.slice(0, key.indexOf(' ')));
    const why = settingWhy(key, y);
    out.push({
      group: 'config',
      change: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed',
      subject: key,
      ...(x !== undefined ? { before: x } : {}),
      ...(y !== undefined ? { after: y } : {}),
      ...(why ? { why } : {}),
    });
  }
  fileChanges(
    'config',
    (byGroup.get('config') ?? []).filter((p) => !settingFiles.has(p) || !a.files.has(p) || !b.files.has(p)),
    a,
    b,
    out,
  );
  const sameExe = (p: ProcessState) =>
    (a.processes ?? []).some((q) => q.exe === p.exe && q.sha256 === p.sha256 && q.status === p.status);
  processChanges(b, (exe) => a.files.get(exe)?.sha256, sameExe, out);
}

/**
 * The data dir: a bundle dir that appeared or went is one line (with its file count), not one
 * per file; files changed inside a bundle dir both hold were changed after extraction, which
 * K3s never notices; and when data/current moved, the two current bundles are compared member
 * by member, so a swapped runc is named.
 */
function dataDirDiff(paths: string[], a: NodeState, b: NodeState, out: Change[]): void {
  const data = `${b.dataDir}/data/`;
  const bundleOf = (p: string) => /^([0-9a-f]{64})(\/.*)?$/.exec(p.slice(data.length));
  const dirs = (s: NodeState) => {
    const m = new Map<string, number>();
    for (const p of s.files.keys()) {
      const x = p.startsWith(data) ? bundleOf(p) : null;
      if (x?.[1]) m.set(x[1], (m.get(x[1]) ?? 0) + 1);
    }
    return m;
  };
  const da = dirs(a);
  const db = dirs(b);
  for (const h of [...new Set([...da.keys(), ...db.keys()])].sort()) {
    if (da.has(h) && db.has(h)) continue;
    out.push({
      group: 'data-dir',
      change: da.has(h) ? 'removed' : 'added',
      subject: `${data}${h}`,
      ...(da.has(h) ? { before: `${da.get(h)} files` } : { after: `${db.get(h)} files` }),
    });
  }
  const inBoth = paths.filter((p) => {
    const x = bundleOf(p);
    return !x?.[1] || (da.has(x[1]) && db.has(x[1]));
  });
  const before = out.length;
  fileChanges('data-dir', inBoth, a, b, out);
  for (const c of out.slice(before)) {
    if (bundleOf(c.subject)?.[2]) c.why = 'changed after K3s extracted and checked the bundle: K3s never checks again';
  }
  const current = (s: NodeState) => /([0-9a-f]{64})\/?$/.exec(s.files.get(`${data}current`)?.target ?? '')?.[1];
  const ca = current(a);
  const cb = current(b);
  if (ca && cb && ca !== cb && da.has(ca) && db.has(cb)) {
    const members = (s: NodeState, h: string) =>
      new Map(
        [...s.files]
          .filter(([p]) => p.startsWith(`${data}${h}/`))
          .map(([p, f]) => [p.slice(data.length + h.length + 1), describe(f)]),
      );
    const ma = members(a, ca);
    const mb = members(b, cb);
    for (const m of [...new Set([...ma.keys(), ...mb.keys()])].sort()) {
      const x = ma.get(m);
      const y = mb.get(m);
      if (x === y) continue;
      out.push({
        group: 'data-dir',
        change: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed',
        subject: `${data}current/${m}`,
        ...(x ? { before: `${x} (data/${ca.slice(0, 12)})` } : {}),
        ...(y ? { after: `${y} (data/${cb.slice(0, 12)})` } : {}),
      });
    }
  }
}

const REPLACED: Record<string, string> = {
  deleted: 'its executable was deleted or replaced while it runs',
  modified: "its executable differs from the bundle's .sha256sums",
  unlisted: "its executable is not in the bundle's .sha256sums",
};

/**
 * Processes whose executable was modified, unlisted or deleted (unless the baseline already saw
 * that very executable so), or differs from the file the baseline recorded at its path.
 */
export function processChanges(
  b: NodeState,
  baseline: (exe: string) => string | undefined,
  seen: (p: ProcessState) => boolean,
  out: Change[],
): void {
  for (const p of b.processes ?? []) {
    const subject = `${p.name} (pid ${p.pid})${p.exe ? ` ${p.exe}` : ''}`;
    const was = p.exe ? baseline(p.exe) : undefined;
    const replaced = Object.hasOwn(REPLACED, p.status) ? REPLACED[p.status] : undefined;
    if (replaced && !seen(p)) {
      out.push({
        group: 'processes',
        change: 'changed',
        subject,
        ...(was && was !== p.sha256 ? { before: `sha256:${was}` } : {}),
        ...(p.sha256 ? { after: `sha256:${p.sha256}` } : {}),
        why: replaced,
      });
    } else if (!replaced && p.sha256 && was && was !== p.sha256) {
      out.push({
        group: 'processes',
        change: 'changed',
        subject,
        before: `sha256:${was}`,
        after: `sha256:${p.sha256}`,
        why: 'runs an executable other than the one the baseline recorded at that path',
      });
    }
  }
}

export function diffEvidence(a: NodeState, b: NodeState): DiffResult {
  const changes: Change[] = [];
  const notes = [...a.notes, ...b.notes];
  if (a.host !== b.host) notes.push(`the archives come from different hosts (${a.host}, ${b.host})`);
  if (a.dataDir !== b.dataDir)
    notes.push(`the data dirs differ (${a.dataDir}, ${b.dataDir}): paths compared as they are`);
  evidenceDiff(a, b, changes, notes);
  return {
    baseline: { kind: 'evidence', file: a.file, host: a.host, collectedAt: a.collectedAt },
    evidence: { file: b.file, host: b.host, collectedAt: b.collectedAt },
    changes: changes.sort(order),
    notes,
  };
}
