// `audit node`: a K3s node's files (K3S-FACTS §6) under a root, `/` or a mounted node image,
// checked against the rules of src/model/rules/node.ts. Every file that cannot be read is a
// per-file problem and the rest of the audit goes on; inline `k3sguard:ignore` waivers in the
// files read are applied here (policy waivers are the caller's, as for `audit iac`).
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { fsError } from '../../io/fs-error.ts';
import { InputError } from '../../model/errors.ts';
import type { Finding } from '../../model/inventory.ts';
import { LIMITS } from '../../model/limits.ts';
import { type AuditNodeOptions, type AuditResult, compareFindings, type WaivedFinding } from '../result.ts';
import { applyInlineWaivers, parseInlineWaivers } from '../waivers.ts';
import { checkBinary, checkExecStart, type InstalledBinary, K3S_BINARY } from './binary.ts';
import { CONFIG_YAML, checkConfig, configPath, readConfig } from './config.ts';
import { checkKubeconfigMode } from './config-secrets.ts';
import type { NodeContext } from './context.ts';
import { checkDataDir } from './datadir.ts';
import { checkAirgap, checkCharts, checkManifests } from './manifests.ts';
import { checkRegistries, REGISTRIES_YAML } from './registries.ts';
import { NodeRoot } from './rootfs.ts';
import { readUnits, UNIT_FILES } from './unit.ts';

export interface NodeAuditOptions extends AuditNodeOptions {
  /**
   * The uid that owns the node's system files, 0 unless the tree was unpacked by another user
   * (a node image extracted without preserving owners): the owner the k3s binary must have.
   */
  rootUid?: number;
}

/** What the audit learnt of the node on the way, for those who describe it (the agent's report). */
export interface NodeAuditResult extends AuditResult {
  /** The installed k3s binary, when it could be read. */
  binary?: InstalledBinary;
  /** `server` or `agent` for each K3s unit whose ExecStart says it, in unit order. */
  roles: string[];
}

export async function auditNode(root: string, opts: NodeAuditOptions = {}): Promise<NodeAuditResult> {
  const nodeRoot = new NodeRoot(root);
  let isDir: boolean;
  try {
    isDir = statSync(nodeRoot.dir).isDirectory(); // a root named through a symlink is followed
  } catch (e) {
    throw fsError(e, root, { missing: 'no such directory' });
  }
  if (!isDir) throw new InputError('USAGE', root, 'not a directory: --root takes the directory a node is mounted at');
  const ctx: NodeContext = {
    root: nodeRoot,
    lockName: opts.lockFile ? basename(opts.lockFile) : 'k3sguard.lock',
    maxFileSize: opts.maxFileSize ?? LIMITS.auditFileBytes,
    rootUid: opts.rootUid ?? 0,
    findings: [],
    problems: [],
    audited: new Set(),
    texts: new Map(),
    ...(opts.policy ? { policy: opts.policy } : {}),
    ...(opts.lock ? { lock: opts.lock } : {}),
  };
  checkRegistries(ctx);
  const units = readUnits(ctx);
  const config = readConfig(ctx, configPath(units));
  checkConfig(ctx, config, units);
  checkKubeconfigMode(ctx, config, units);
  checkManifests(ctx);
  checkCharts(ctx);
  checkAirgap(ctx);
  const binary = checkBinary(ctx);
  checkExecStart(ctx, units, binary);
  await checkDataDir(ctx, binary);
  if (ctx.audited.size === 0 && ctx.problems.length === 0) {
    // Saying "no findings" of a directory that holds no K3s node at all would read as a clean node.
    ctx.problems.push({
      file: '.',
      kind: 'not-found',
      message: `no K3s node file (${K3S_BINARY}, ${CONFIG_YAML}, ${REGISTRIES_YAML}, ${UNIT_FILES[0]}, ...) under ${nodeRoot.dir}: is it the root of a K3s node?`,
    });
  }
  const { findings, waived } = inlineWaivers(ctx);
  return {
    area: 'node',
    root: nodeRoot.dir,
    findings: findings.sort(compareFindings),
    waived,
    filesAudited: [...ctx.audited].sort(),
    problems: ctx.problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)),
    ...(binary ? { binary } : {}),
    roles: units.flatMap((u) => (u.subcommand ? [u.subcommand] : [])),
  };
}

/** `# k3sguard:ignore RULE reason` in a text file covers that file's findings on the line it names. */
function inlineWaivers(ctx: NodeContext): { findings: Finding[]; waived: WaivedFinding[] } {
  const byFile = new Map<string, Finding[]>();
  for (const f of ctx.findings) {
    const file = f.region?.file ?? '';
    byFile.set(file, [...(byFile.get(file) ?? []), f]);
  }
  const findings: Finding[] = [];
  const waived: WaivedFinding[] = [];
  for (const [file, list] of byFile) {
    const text = ctx.texts.get(file);
    const split =
      text === undefined ? { findings: list, waived: [] } : applyInlineWaivers(list, parseInlineWaivers(text), file);
    findings.push(...split.findings);
    waived.push(...split.waived);
  }
  return { findings, waived };
}
