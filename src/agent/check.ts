// One full check of the node, made of the checks that exist: the node audit (configuration,
// manifests, the binary and its bundle against the lock, data/current against its own sums),
// the processes K3s runs, and containerd's images and containers. Nothing here judges a file
// itself; this only runs the checks, each of which may fail on its own without stopping the
// others (a stopped containerd is a state of the node, not a reason to skip the audit).
import { join } from 'node:path';
import { auditNode, type NodeAuditResult } from '../audit/node/index.ts';
import type { ContainerdCheckOptions, ContainerdCheckResult } from '../audit/runtime/containerd.ts';
import { checkProcesses, type ProcessCheckResult } from '../audit/runtime/processes.ts';
import { applyPolicyWaivers } from '../audit/waivers.ts';
import type { Finding } from '../model/inventory.ts';
import type { ReportComponents } from '../model/report-components.ts';
import { binaryComponents } from './components.ts';
import type { AgentConfig } from './config.ts';
import type { AgentInputs } from './inputs.ts';
import type { FindingSource } from './state.ts';

/** The containerd check (checkContainerd), passed in so a test can stand a real containerd in its place. */
export type ContainerdCheck = (opts: ContainerdCheckOptions) => Promise<ContainerdCheckResult>;

export interface CheckProblem {
  /** What could not be checked: a node file, /proc, the containerd socket. */
  where: string;
  message: string;
}

export interface AgentCheck {
  startedAt: Date;
  finishedAt: Date;
  /** The node audit with the policy's waivers applied. */
  node: NodeAuditResult;
  /** As the audit returned it (what a later check may reuse), and whether it ran this time. */
  nodeRaw: NodeAuditResult;
  nodeReused: boolean;
  processes: ProcessCheckResult;
  containerd: ContainerdCheckResult;
  /** Every finding standing (waived ones left out), node first, then processes, then containerd. */
  findings: Finding[];
  /** What the K3s binary and its bundle are made of (read once per binary digest), when read. */
  k3sComponents?: ReportComponents;
  /** The findings of each check that could run (one that could not is left out). */
  bySource: Partial<Record<FindingSource, Finding[]>>;
  problems: CheckProblem[];
}

export interface CheckOptions {
  config: AgentConfig;
  inputs: AgentInputs;
  containerd: ContainerdCheck;
  /** Executable digests kept from check to check (see checkProcesses). */
  digestCache: Map<string, string>;
  /** Where image readings are kept by manifest digest. */
  imageCacheDir: string;
  now?: () => Date;
  /** The last node audit, when the node's files are known not to have changed since (fingerprint.ts). */
  reuseNode?: NodeAuditResult;
}

/** How long containerd may take to answer before the check goes on without it. */
const CONTAINERD_DEADLINE_MS = 30_000;

export async function runCheck(opts: CheckOptions): Promise<AgentCheck> {
  const now = opts.now ?? (() => new Date());
  const { config, inputs } = opts;
  const startedAt = now();
  const node =
    opts.reuseNode ??
    (await auditNode(config.root, {
      ...(inputs.policy ? { policy: inputs.policy } : {}),
      ...(inputs.lock ? { lock: inputs.lock, ...(config.lock ? { lockFile: config.lock } : {}) } : {}),
    }));
  const waived = applyPolicyWaivers(node, inputs.waivers);
  const components = node.binary
    ? await binaryComponents(config.stateDir, join(config.root, node.binary.rel), node.binary.sha256)
    : undefined;
  const processes = checkProcesses({
    proc: config.proc,
    root: config.root,
    dataDir: config.dataDir,
    digestCache: opts.digestCache,
  });
  const containerd = await opts.containerd({
    socket: config.containerdSocket,
    namespace: 'k8s.io',
    contentRoot: `${config.containerdRoot}/io.containerd.content.v1.content`,
    ...(inputs.policy ? { policy: inputs.policy } : {}),
    ...(inputs.lock ? { lock: inputs.lock } : {}),
    ...(config.db ? { vulnDb: config.db } : {}),
    cacheDir: opts.imageCacheDir,
    deadlineMs: CONTAINERD_DEADLINE_MS,
  });
  const problems: CheckProblem[] = [
    ...node.problems.map((p) => ({ where: p.file, message: `${p.kind}: ${p.message}` })),
    ...processes.notes.map((n) => ({ where: n.location.join('/'), message: n.message })),
  ];
  const componentsProblem = components?.kind === 'problem' ? components.message : components?.problem;
  if (componentsProblem && node.binary) problems.push({ where: node.binary.file, message: componentsProblem });
  if (!containerd.containerd.ok) {
    problems.push({
      where: config.containerdSocket,
      message: `containerd not checked (${containerd.containerd.code}): ${containerd.containerd.message}`,
    });
  }
  const containerdFindings = [...containerd.findings, ...containerd.images.flatMap((i) => i.vulnerabilities)];
  const bySource: AgentCheck['bySource'] = { node: waived.findings };
  if (processes.available) bySource.processes = processes.findings;
  if (containerd.containerd.ok) bySource.containerd = containerdFindings;
  return {
    startedAt,
    finishedAt: now(),
    node: { ...node, findings: waived.findings, waived: waived.waived },
    nodeRaw: node,
    nodeReused: opts.reuseNode !== undefined,
    processes,
    containerd,
    findings: [...waived.findings, ...processes.findings, ...containerdFindings],
    ...(components?.kind === 'read' ? { k3sComponents: components.components } : {}),
    bySource,
    problems,
  };
}
