// A K3s-shaped node tree and the real report of one check of it (`k3sguard agent --once --json`,
// the real CLI), without node:test: the server tests (fixtures.ts) and the load benchmark
// (bench/server-load.ts) both build their reports from it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeLock } from '../../src/verify/lock/format.ts';
import { goodNode, installK3s, LOCKED_FILES, lockOf, POLICY_YAML } from '../audit/node/node-fixtures.ts';
import { CLI } from '../cli/run.ts';
import { k3sShaped } from '../fixtures/k3s-shaped.ts';

export type Report = Record<string, unknown> & {
  node: {
    hostname: string;
    machineId?: string;
    k3s: { version?: string; role?: string; binary?: { path: string; digest: string } };
  };
  check: { finishedAt: string };
  inventory: Record<string, unknown>;
  findings: unknown[];
};

export interface NodeTree {
  root: string;
  lock: string;
  policy: string;
  k3sVersion: string;
}

/** In `dir` (new or empty): a K3s-shaped node tree (binary, bundle, units, manifests) with its lock and policy. */
export async function buildNodeTree(dir: string): Promise<NodeTree | { skip: string }> {
  const k3s = await k3sShaped('good');
  if ('skip' in k3s) return k3s;
  mkdirSync(dir, { recursive: true });
  const root = join(dir, 'node');
  goodNode(root);
  installK3s(root, k3s);
  const lock = join(dir, 'k3sguard.lock');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, POLICY_YAML);
  writeFileSync(lock, serializeLock(lockOf(root, LOCKED_FILES))); // the binary left out: a finding
  return { root, lock, policy, k3sVersion: k3s.version };
}

/** The report of one check of a tree made in `dir` (exit 1: it has a finding). */
export async function agentReport(dir: string): Promise<{ report: Report } | { skip: string }> {
  const tree = await buildNodeTree(dir);
  if ('skip' in tree) return tree;
  const r = spawnSync(
    process.execPath,
    [CLI, 'agent', '--once', '--json', '--root', tree.root, '--state-dir', join(tree.root, '..', 'state')]
      .concat(['--proc', join(tree.root, 'proc'), '--lock', tree.lock, '--policy', tree.policy])
      .concat(['--containerd-socket', join(tree.root, 'no-containerd.sock')]),
    { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 1) throw new Error(`agent --once exited ${r.status}: ${r.stderr}`);
  return { report: JSON.parse(r.stdout) as Report };
}
