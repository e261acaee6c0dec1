// The node report, `k3sguard/report@1` (docs/report-schema.json, docs/agent.md): what one check
// saw on one node, made for a fleet server that keeps many nodes. Everything that has a digest
// (the k3s binary, the executables K3s runs, the images) is described once in `inventory`,
// keyed by that digest, and referred to by it elsewhere: a thousand nodes running one release
// share one entry, so the server stores each inventory once, not a copy per node.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Finding, Severity } from '../model/inventory.ts';
import type { ReportComponents } from '../model/report-components.ts';
import { compareSeverity, SEVERITIES } from '../model/severity.ts';
import type { AgentCheck } from './check.ts';
import type { TrackedFinding } from './state.ts';

export const REPORT_SCHEMA = 'k3sguard/report@1';

export interface NodeIdentity {
  hostname: string;
  /** /etc/machine-id of the node, when readable: stable across renames and re-addressing. */
  machineId?: string;
}

export type InventoryEntry =
  | { kind: 'k3s-binary'; names: string[]; k3sVersion?: string; bundle?: string; components?: ReportComponents }
  | { kind: 'executable'; names: string[] }
  | {
      kind: 'image';
      names: string[];
      verdict: 'trusted' | 'untrusted' | 'unknown';
      packages: number;
      goBinaries: number;
      vulnerabilities: number;
    };

export interface NodeReport {
  schema: typeof REPORT_SCHEMA;
  tool: { name: 'k3sguard'; version: string };
  node: NodeIdentity & {
    root: string;
    k3s: { version?: string; role: 'server' | 'agent' | 'unknown'; binary?: { path: string; digest: string } };
  };
  check: { startedAt: string; finishedAt: string; durationMs: number };
  containerd: { ok: true; version: string } | { ok: false; code: string; message: string };
  /** One entry per distinct digest (`sha256:<hex>`). */
  inventory: Record<string, InventoryEntry>;
  processes: Array<{ pid: number; name: string; exe?: string; digest?: string; status: string }>;
  images: Array<{ digest: string; names: string[]; verdict: 'trusted' | 'untrusted' | 'unknown' }>;
  containers: Array<{
    id: string;
    image: string;
    imageDigest?: string;
    pod?: { name: string; namespace: string };
    status: string;
  }>;
  findings: Array<{ key: string; firstSeen: string; lastSeen: string; finding: Finding }>;
  problems: Array<{ where: string; message: string }>;
  summary: { findings: number; bySeverity: Record<Severity, number> };
}

/** The node's identity as this agent sees it; `root` is where the node's files are. */
export function nodeIdentity(root: string): NodeIdentity {
  const id: NodeIdentity = { hostname: hostname() };
  try {
    const machineId = readFileSync(join(root, 'etc/machine-id'), 'utf8').trim();
    if (/^[0-9a-f]{32}$/.test(machineId)) id.machineId = machineId;
  } catch {
    // Not every node image has one; the hostname still names the node.
  }
  return id;
}

const digestOf = (hex: string) => (hex.startsWith('sha256:') ? hex : `sha256:${hex}`);

export function buildReport(
  check: AgentCheck,
  tracked: readonly TrackedFinding[],
  identity: NodeIdentity,
  toolVersion: string,
): NodeReport {
  const inventory: Record<string, InventoryEntry> = {};
  const addName = (digest: string, entry: InventoryEntry, name: string) => {
    const known = inventory[digest] ?? entry;
    if (!known.names.includes(name)) known.names.push(name);
    known.names.sort();
    inventory[digest] = known;
  };
  const binary = check.node.binary;
  const role = check.node.roles[0];
  const k3s: NodeReport['node']['k3s'] = { role: role === 'server' || role === 'agent' ? role : 'unknown' };
  if (binary) {
    const digest = digestOf(binary.sha256);
    const entry: InventoryEntry = { kind: 'k3s-binary', names: [] };
    if (binary.version) entry.k3sVersion = binary.version;
    if (binary.bundleHash) entry.bundle = binary.bundleHash;
    if (check.k3sComponents) entry.components = check.k3sComponents;
    addName(digest, entry, `/${binary.file}`);
    if (binary.version) k3s.version = binary.version;
    k3s.binary = { path: `/${binary.file}`, digest };
  }
  for (const p of check.processes.processes) {
    if (p.sha256 && p.exe) addName(digestOf(p.sha256), { kind: 'executable', names: [] }, p.exe);
  }
  for (const image of check.containerd.images) {
    const entry: InventoryEntry = {
      kind: 'image',
      names: [],
      verdict: image.verdict,
      packages: image.packages,
      goBinaries: image.goBinaries,
      vulnerabilities: image.vulnerabilities.length,
    };
    inventory[image.digest] = entry;
    for (const name of image.names) addName(image.digest, entry, name);
  }
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const t of tracked) bySeverity[t.finding.severity] += 1;
  return {
    schema: REPORT_SCHEMA,
    tool: { name: 'k3sguard', version: toolVersion },
    node: { ...identity, root: check.node.root, k3s },
    check: {
      startedAt: check.startedAt.toISOString(),
      finishedAt: check.finishedAt.toISOString(),
      durationMs: check.finishedAt.getTime() - check.startedAt.getTime(),
    },
    containerd: check.containerd.containerd,
    inventory: Object.fromEntries(Object.entries(inventory).sort(([a], [b]) => (a < b ? -1 : 1))),
    processes: check.processes.processes.map((p) => ({
      pid: p.pid,
      name: p.name,
      ...(p.exe ? { exe: p.exe } : {}),
      ...(p.sha256 ? { digest: digestOf(p.sha256) } : {}),
      status: p.status,
    })),
    images: check.containerd.images.map((i) => ({ digest: i.digest, names: [...i.names].sort(), verdict: i.verdict })),
    containers: check.containerd.containers.map((c) => ({
      id: c.id,
      image: c.image,
      ...(c.imageDigest ? { imageDigest: c.imageDigest } : {}),
      ...(c.pod ? { pod: c.pod } : {}),
      status: c.status,
    })),
    findings: tracked.map((t) => ({ key: t.key, firstSeen: t.firstSeen, lastSeen: t.lastSeen, finding: t.finding })),
    problems: check.problems,
    summary: { findings: tracked.length, bySeverity },
  };
}

/** The report for a terminal: the node, what was checked, then one line per finding and problem. */
export function reportTable(r: NodeReport): string {
  const lines: string[] = [];
  const k3s = r.node.k3s;
  lines.push(
    `node        ${r.node.hostname}${r.node.machineId ? ` (machine-id ${r.node.machineId})` : ''}, root ${r.node.root}`,
  );
  lines.push(
    `k3s         ${k3s.version ?? 'version unknown'}, ${k3s.role}${k3s.binary ? `, ${k3s.binary.path} ${k3s.binary.digest}` : ', no binary read'}`,
  );
  lines.push(
    `containerd  ${r.containerd.ok ? `${r.containerd.version}, ${r.images.length} image(s), ${r.containers.length} container(s)` : `not checked (${r.containerd.code}): ${r.containerd.message}`}`,
  );
  const verified = r.processes.filter((p) => p.status === 'verified').length;
  lines.push(`processes   ${r.processes.length} K3s process(es), ${verified} verified against their bundle`);
  lines.push(`checked     ${r.check.finishedAt} in ${r.check.durationMs} ms`);
  lines.push('');
  if (r.findings.length === 0) lines.push('No findings.');
  else {
    lines.push(`${r.findings.length} finding(s):`);
    const sorted = [...r.findings].sort((a, b) => compareSeverity(a.finding.severity, b.finding.severity));
    for (const { finding: f, firstSeen } of sorted) {
      lines.push(`  ${f.severity.toUpperCase().padEnd(8)} ${f.id}  ${f.location.join(' > ')}`);
      lines.push(`           ${f.message} (since ${firstSeen})`);
    }
  }
  if (r.problems.length > 0) {
    lines.push('', `${r.problems.length} thing(s) not checked:`);
    for (const p of r.problems) lines.push(`  ${p.where}: ${p.message}`);
  }
  return `${lines.join('\n')}\n`;
}
