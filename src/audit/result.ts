// What one audit (iac or node) produces, before it is reported: the findings still standing,
// those a waiver covers (kept, so reports can show them), the files looked at, and the files
// that could not be audited and why. Reports, SARIF and the exit code are computed from this.
import type { Finding } from '../model/inventory.ts';
import type { ImagePolicy } from '../policy/image-policy.ts';
import type { Lockfile } from '../verify/lock/format.ts';

/** Why a file was not (fully) audited. Reported per file; the rest of the audit goes on. */
export type FileProblemKind =
  | 'unreadable' // permission denied, I/O error, vanished while walking
  | 'invalid-yaml' // a YAML file (or one document of it) that does not parse
  | 'too-large' // over the size limit: not read at all
  | 'binary' // NUL bytes or invalid UTF-8 where text was expected
  | 'symlink-loop' // a symlink cycle (ELOOP) or a directory link back to an ancestor
  | 'over-limit' // nested or aliased past a documented limit (LIMITS.auditScriptNesting, yamlAliasNodes)
  | 'not-found'; // a path given on the command line that does not exist

export interface FileProblem {
  /** Relative to the audit root when under it, else as given. */
  file: string;
  kind: FileProblemKind;
  message: string;
}

export interface Waiver {
  /** `inline`: a `k3sguard:ignore` comment in the file; `policy`: an entry of the policy file. */
  source: 'inline' | 'policy';
  ruleId: string;
  reason: string;
  /** Where the waiver itself is written (the commented file, or the policy file). */
  file: string;
  line: number;
}

export interface WaivedFinding {
  finding: Finding;
  waiver: Waiver;
}

export interface AuditResult {
  area: 'iac' | 'node';
  /** Absolute directory that findings' `region.file` paths are relative to (SARIF %SRCROOT%). */
  root: string;
  /** Findings not waived: these count for `--fail-on`. Sorted by file, line, column, id. */
  findings: Finding[];
  /** Findings a waiver covers: reported, never counted for the exit code. */
  waived: WaivedFinding[];
  /** Files read and checked (relative to root), sorted. */
  filesAudited: string[];
  /** Files that could not be audited, each with its reason. */
  problems: FileProblem[];
}

/** What `audit node` is given (the CLI loads the policy and lock; both optional). */
export interface AuditNodeOptions {
  policy?: ImagePolicy;
  lock?: Lockfile;
  /** The lock file's path as the user named it, for messages. */
  lockFile?: string;
  /** Largest text file read, in bytes (default: LIMITS.auditFileBytes). */
  maxFileSize?: number;
}

/** Stable order so outputs and fingerprints do not depend on worker scheduling. */
export function compareFindings(a: Finding, b: Finding): number {
  const fa = a.region?.file ?? a.location.join('/');
  const fb = b.region?.file ?? b.location.join('/');
  if (fa !== fb) return fa < fb ? -1 : 1;
  const la = a.region?.line ?? 0;
  const lb = b.region?.line ?? 0;
  if (la !== lb) return la - lb;
  const ca = a.region?.column ?? 0;
  const cb = b.region?.column ?? 0;
  if (ca !== cb) return ca - cb;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
