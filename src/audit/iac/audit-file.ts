// One file of `audit iac`, start to end: read it (refusing what is too large or binary),
// pick its checker, run it, apply the file's inline waivers and attach snippets. Runs on a
// worker thread for big trees, so everything in and out is structured-clone data.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { errnoOf } from '../../io/fs-error.ts';
import { fileTypeName } from '../../io/option-file.ts';
import type { Finding } from '../../model/inventory.ts';
import type { ImagePolicy } from '../../policy/image-policy.ts';
import { compareFindings, type FileProblem, type WaivedFinding } from '../result.ts';
import { applyInlineWaivers, parseInlineWaivers } from '../waivers.ts';
import { checkerFor, type FileKind } from './classify.ts';
import { AuditLimitError } from './context.ts';
import { LineIndex, looksBinary } from './text.ts';

export interface FileJob {
  abs: string;
  rel: string;
  kind: FileKind;
}

export interface FileJobOptions {
  policy?: ImagePolicy;
  maxFileSize: number;
}

export interface FileAudit {
  rel: string;
  /** The kind checked, or undefined when the file was not one `audit iac` checks after all. */
  kind?: FileKind;
  findings: Finding[];
  waived: WaivedFinding[];
  problems: FileProblem[];
}

const SNIPPET_MAX = 200;

export function auditIacFile(job: FileJob, opts: FileJobOptions): FileAudit {
  const out: FileAudit = { rel: job.rel, findings: [], waived: [], problems: [] };
  const read = readText(job, opts.maxFileSize);
  if ('problem' in read) {
    // A file we only would have sniffed (no extension) is not worth a problem when binary.
    if (!(job.kind === 'template' && read.problem.kind === 'binary')) out.problems.push(read.problem);
    return out;
  }
  const file = { path: job.rel, text: read.text, index: new LineIndex(read.text) };
  let result: { findings: Finding[]; problems: FileProblem[] };
  try {
    // Choosing the checker may parse the file (Ansible or Kubernetes?): inside the try too.
    const checker = checkerFor(job.kind, file);
    if (!checker) return out;
    out.kind = checker.kind;
    result = checker.check(file, { ...(opts.policy ? { policy: opts.policy } : {}) });
  } catch (e) {
    // Whatever stops a checker stops only this file; the file is reported, and what was found
    // of it before is dropped with it: it was not audited.
    out.problems.push(checkFailure(job.rel, e));
    delete out.kind;
    return out;
  }
  result.findings = unique(result.findings);
  for (const f of result.findings) {
    if (f.region) f.region.snippet = file.index.lineText(f.region.line).trim().slice(0, SNIPPET_MAX);
  }
  const split = applyInlineWaivers(result.findings, parseInlineWaivers(read.text), job.rel);
  out.findings = split.findings.sort(compareFindings);
  out.waived = split.waived;
  out.problems.push(...result.problems);
  return out;
}

/** A node reached twice through YAML aliases gives the same finding twice: once is enough. */
function unique(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.id}\0${f.region?.line}\0${f.region?.column}\0${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function checkFailure(file: string, e: unknown): FileProblem {
  if (e instanceof AuditLimitError) return { file, kind: 'over-limit', message: e.message };
  // The checks that recurse (Ansible blocks, Kubernetes Lists) go as deep as the YAML parser
  // does, which stops at its own stack's end; should one still run out, the file says so.
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return { file, kind: 'over-limit', message: 'nested too deeply to check (the stack ran out)' };
  }
  // A checker bug must not stop the audit of the other files.
  return { file, kind: 'unreadable', message: `internal error while checking: ${(e as Error).message}` };
}

function readText(job: FileJob, max: number): { text: string } | { problem: FileProblem } {
  const problem = (kind: FileProblem['kind'], message: string) => ({ problem: { file: job.rel, kind, message } });
  let fd: number;
  try {
    // Non-blocking: a FIFO swapped in after the walk must not hang the audit (refused below).
    fd = openSync(job.abs, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ELOOP') return problem('symlink-loop', 'symlink loop');
    return problem('unreadable', `cannot read (${code})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return problem('unreadable', `${fileTypeName(st)}, not a regular file`);
    const size = st.size;
    if (size > max) return problem('too-large', `${size} bytes, over the ${max}-byte limit: not read`);
    const buf = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buf, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
    const bytes = buf.subarray(0, at);
    if (looksBinary(bytes)) return problem('binary', 'binary content (NUL bytes or invalid UTF-8): not a text file');
    let text = bytes.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { text };
  } catch (e) {
    return problem('unreadable', `cannot read (${errnoOf(e)})`);
  } finally {
    closeSync(fd);
  }
}
