// `k3sguard audit iac PATH...`, `audit node [--root DIR]` and `audit --list-rules`: run one
// audit, apply the policy's waivers, write the report, and map the result to the exit code:
// 0 nothing at or above --fail-on, 1 findings, 2 nothing could be audited at all (or usage).
import { auditIac } from '../audit/iac/index.ts';
import type { AuditResult } from '../audit/result.ts';
import { applyPolicyWaivers, type PolicyWaiver, parsePolicyWaivers } from '../audit/waivers.ts';
import { readOptionText } from '../io/option-file.ts';
import { TOOL_VERSION } from '../io/tool-version.ts';
import { auditRules, rulesText } from '../model/rules/catalogue.ts';
import { type ImagePolicy, parseImagePolicy } from '../policy/image-policy.ts';
import { auditFails, auditJson, auditTable, type FailOn, nothingAudited } from '../report/audit.ts';
import { auditSarifJson } from '../report/audit-sarif.ts';
import { readLock } from '../verify/lock/format.ts';
import { EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT } from './exit.ts';
import { type PlannedOutput, planOutput, writeOutput } from './output.ts';

export interface AuditOutputOptions {
  json?: boolean;
  format?: 'table' | 'json' | 'sarif';
  output?: string;
  policy?: string;
  failOn?: FailOn;
}

export interface AuditIacCliOptions extends AuditOutputOptions {
  maxFileSize?: number;
  workers?: number;
}

export interface AuditNodeCliOptions extends AuditOutputOptions {
  root?: string;
  lock?: string;
  maxFileSize?: number;
}

export interface ListRulesOptions {
  listRules?: boolean;
  json?: boolean;
  output?: string;
}

export function runListRules(opts: ListRulesOptions): number {
  writeOutput(opts.json ? `${JSON.stringify(auditRules(), null, 2)}\n` : rulesText(), opts.output, []);
  return EXIT_CLEAN;
}

export async function runAuditIac(paths: string[], opts: AuditIacCliOptions): Promise<number> {
  const output = planOutput(opts.output, [...paths, opts.policy]);
  const policy = opts.policy ? readPolicy(opts.policy) : undefined;
  const result = await auditIac(paths, {
    ...(policy ? { policy: policy.policy } : {}),
    ...(opts.maxFileSize !== undefined ? { maxFileSize: opts.maxFileSize } : {}),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
  });
  return report(result, policy?.waivers ?? [], opts, output);
}

export async function runAuditNode(opts: AuditNodeCliOptions): Promise<number> {
  const output = planOutput(opts.output, [opts.root, opts.policy, opts.lock]);
  const policy = opts.policy ? readPolicy(opts.policy) : undefined;
  const { auditNode } = await import('../audit/node/index.ts');
  const result = await auditNode(opts.root ?? '/', {
    ...(policy ? { policy: policy.policy } : {}),
    ...(opts.lock ? { lock: readLock(opts.lock, { create: false }), lockFile: opts.lock } : {}),
    ...(opts.maxFileSize !== undefined ? { maxFileSize: opts.maxFileSize } : {}),
  });
  return report(result, policy?.waivers ?? [], opts, output);
}

function report(raw: AuditResult, waivers: PolicyWaiver[], opts: AuditOutputOptions, output: PlannedOutput): number {
  const result = applyPolicyWaivers(raw, waivers);
  const format = opts.json ? 'json' : (opts.format ?? 'table');
  const text =
    format === 'json'
      ? auditJson(result, TOOL_VERSION)
      : format === 'sarif'
        ? auditSarifJson(result, TOOL_VERSION)
        : auditTable(result);
  output.write(text);
  if (nothingAudited(result)) {
    process.stderr.write(
      `k3sguard: audit ${result.area}: nothing could be audited (${result.problems.length} problem(s))\n`,
    );
    return EXIT_INPUT;
  }
  return auditFails(result, opts.failOn) ? EXIT_FINDINGS : EXIT_CLEAN;
}

function readPolicy(file: string): { policy: ImagePolicy; waivers: PolicyWaiver[] } {
  const text = readOptionText(file, 'policy');
  return { policy: parseImagePolicy(file, text), waivers: parsePolicyWaivers(file, text) };
}
