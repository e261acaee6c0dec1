// `audit iac`: walk the paths, audit every candidate file (on worker threads when there are
// many: parsing YAML and lexing shell is CPU-bound, so the cores are the limit), and gather
// one AuditResult in a stable order whatever the scheduling.
import { statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { defaultPoolSize, WorkerPool } from '../../io/worker-pool.ts';
import type { Finding } from '../../model/inventory.ts';
import { LIMITS } from '../../model/limits.ts';
import { NOT_AUDITED } from '../../model/rules/iac.ts';
import { fileFinding } from '../../model/rules/rule.ts';
import type { ImagePolicy } from '../../policy/image-policy.ts';
import { type AuditResult, compareFindings, type FileProblem } from '../result.ts';
import { auditIacFile, type FileAudit, type FileJob, type FileJobOptions } from './audit-file.ts';
import { walkPaths } from './walk.ts';
import type { IacBatch } from './worker.ts';

export interface AuditIacOptions {
  policy?: ImagePolicy;
  maxFileSize?: number;
  /** Directory findings are relative to; default: the current directory when every path is under it. */
  root?: string;
  /** Worker threads; default min(4, cores); 0: audit on this thread. */
  workers?: number;
}

/** Below this many files, starting workers costs more than it saves. */
const INLINE_LIMIT = 64;
const BATCH = 32;

export async function auditIac(paths: readonly string[], opts: AuditIacOptions = {}): Promise<AuditResult> {
  const root = opts.root ? resolve(opts.root) : defaultRoot(paths);
  const walk = walkPaths(paths, root);
  const jobOpts: FileJobOptions = { maxFileSize: opts.maxFileSize ?? LIMITS.auditFileBytes };
  if (opts.policy) jobOpts.policy = opts.policy;
  const workers = opts.workers ?? defaultPoolSize();
  const audits =
    workers === 0 || walk.jobs.length < INLINE_LIMIT
      ? walk.jobs.map((job) => auditIacFile(job, jobOpts))
      : await inWorkers(walk.jobs, jobOpts, workers);
  const result: AuditResult = {
    area: 'iac',
    root,
    findings: [],
    waived: [],
    filesAudited: [],
    problems: [...walk.problems],
  };
  for (const a of audits) {
    if (a.kind !== undefined) result.filesAudited.push(a.rel);
    result.findings.push(...a.findings);
    result.waived.push(...a.waived);
    result.problems.push(...a.problems);
  }
  result.findings.push(...result.problems.flatMap(notAudited));
  result.findings.sort(compareFindings);
  result.waived.sort((a, b) => compareFindings(a.finding, b.finding));
  result.filesAudited.sort();
  result.problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return result;
}

/**
 * A file that could not be audited fails the audit like a finding would (and is waived like
 * one, by path in the policy): otherwise making a file unreadable to the audit would be a way
 * past it. A symlink loop has no content of its own (a directory link back to an ancestor is
 * audited where it really is), so it is only reported.
 */
function notAudited(p: FileProblem): Finding[] {
  if (p.kind === 'symlink-loop') return [];
  return [fileFinding(NOT_AUDITED, `${p.file} was not audited (${p.kind}): ${p.message}`, p.file)];
}

function defaultRoot(paths: readonly string[]): string {
  const cwd = process.cwd();
  const under = paths.every((p) => {
    const rel = relative(cwd, resolve(p));
    return !rel.startsWith('..') && !isAbsolute(rel);
  });
  if (under) return cwd;
  // Outside the working directory: the first path is the root, or its folder when it is a file,
  // so a file is reported by its name, never as `.`.
  const first = resolve(paths[0] ?? '.');
  return isDirectory(first) ? first : dirname(first);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // the walk reports a path it cannot read
  }
}

async function inWorkers(jobs: FileJob[], opts: FileJobOptions, size: number): Promise<FileAudit[]> {
  const pool = new WorkerPool<IacBatch, FileAudit[]>(new URL('./worker.ts', import.meta.url), size);
  try {
    const batches: Promise<FileAudit[]>[] = [];
    for (let i = 0; i < jobs.length; i += BATCH) batches.push(pool.run({ jobs: jobs.slice(i, i + BATCH), opts }));
    return (await Promise.all(batches)).flat();
  } finally {
    await pool.close();
  }
}
