// `k3sguard ir collect` and `ir verify`: incident response evidence (docs/incident-response.md).
import { resolve } from 'node:path';
import { collectEvidence } from '../ir/collect.ts';
import { type DiffFormat, formatDiff } from '../ir/diff-format.ts';
import { diffFiles } from '../ir/diff-inputs.ts';
import { readNodeState } from '../ir/node-state.ts';
import { buildPlaybook } from '../ir/playbook.ts';
import { playbookNode, type Role } from '../ir/playbook-node.ts';
import { playbookHtml, playbookMarkdown } from '../ir/playbook-render.ts';
import { verifyEvidence } from '../ir/verify.ts';
import { InputError } from '../model/errors.ts';
import { EXIT_CLEAN, EXIT_FINDINGS } from './exit.ts';
import { planOutput } from './output.ts';

export interface IrCollectCliOptions {
  root: string;
  dataDir: string;
  containerdSocket?: string;
  stateDir: string;
  proc?: string;
  lock?: string;
  policy?: string;
  output?: string;
  key?: string;
}

export async function runIrCollect(opts: IrCollectCliOptions): Promise<number> {
  if (!opts.output) throw new InputError('USAGE', undefined, 'ir collect needs -o EVIDENCE.tar.zst');
  if (!opts.key) throw new InputError('USAGE', undefined, 'ir collect needs --key KEY.pem (the organisation key)');
  const r = await collectEvidence({
    root: resolve(opts.root),
    dataDir: opts.dataDir,
    stateDir: opts.stateDir,
    keyPath: opts.key,
    output: opts.output,
    ...(opts.containerdSocket !== undefined ? { containerdSocket: opts.containerdSocket } : {}),
    ...(opts.proc !== undefined ? { proc: opts.proc } : {}),
    ...(opts.lock !== undefined ? { lock: opts.lock } : {}),
    ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
  });
  const lines = [
    `${opts.output}: ${r.items} items, ${r.digests} files hashed, ${r.redactions} secrets replaced by their sha256, signed with key ${r.keyId}`,
    ...r.notes.map((n) => `note: ${n}`),
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
  return EXIT_CLEAN;
}

export async function runIrVerify(file: string, opts: { key?: string }): Promise<number> {
  if (!opts.key) throw new InputError('USAGE', undefined, 'ir verify needs --key PUB.pem');
  const r = await verifyEvidence(file, opts.key);
  if (r.problems.length > 0) {
    process.stdout.write(`${file}: FAILED\n${r.problems.map((p) => `  ${p}`).join('\n')}\n`);
    return EXIT_FINDINGS;
  }
  process.stdout.write(
    `${file}: verified: ${r.items} items intact, manifest signed with key ${r.keyId} (host ${r.host}, collected ${r.collectedAt})\n`,
  );
  return EXIT_CLEAN;
}

export async function runIrDiff(
  baseline: string,
  evidence: string,
  opts: { format: DiffFormat; output?: string },
): Promise<number> {
  const out = planOutput(opts.output, [baseline, evidence]);
  const r = await diffFiles(baseline, evidence);
  out.write(formatDiff(r, opts.format));
  return r.changes.length > 0 ? EXIT_FINDINGS : EXIT_CLEAN;
}

export interface IrPlaybookCliOptions {
  evidence?: string;
  k3sVersion?: string;
  role?: Role;
  format: 'md' | 'html';
  output?: string;
}

export async function runIrPlaybook(opts: IrPlaybookCliOptions): Promise<number> {
  const out = planOutput(opts.output, [opts.evidence]);
  const state = opts.evidence !== undefined ? await readNodeState(opts.evidence) : undefined;
  const node = playbookNode({
    ...(state ? { state } : {}),
    ...(opts.k3sVersion !== undefined ? { version: opts.k3sVersion } : {}),
    ...(opts.role !== undefined ? { role: opts.role } : {}),
  });
  const playbook = buildPlaybook(node);
  out.write(opts.format === 'html' ? playbookHtml(playbook) : playbookMarkdown(playbook));
  return EXIT_CLEAN;
}
