// What every iac checker gets and gives: one file's text (with its line index) and the
// options, and back its findings and, when part of it could not be read, problems.
import type { Finding } from '../../model/inventory.ts';
import type { ImagePolicy } from '../../policy/image-policy.ts';
import type { FileProblem } from '../result.ts';
import type { LineIndex } from './text.ts';

export interface IacFile {
  /** Relative to the audit root (forward slashes). */
  path: string;
  text: string;
  index: LineIndex;
}

export interface IacOptions {
  /** Registries/repositories allowed (K3SG-IAC-IMAGE-REGISTRY); absent: that rule is off. */
  policy?: ImagePolicy;
}

export interface CheckOutput {
  findings: Finding[];
  problems: FileProblem[];
}

export type Checker = (file: IacFile, opts: IacOptions) => CheckOutput;

/**
 * A file past one of the audit's limits (scripts nested too deep): thrown from anywhere in a
 * checker, it makes the whole file an `over-limit` problem, since what was checked of it is
 * not all of it.
 */
export class AuditLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditLimitError';
  }
}
