// `k3sguard lock add`: record reviewed digests in k3sguard.lock. Nothing is written unless
// every check before it passed (a file that does not match its own sums is never locked).
import { InputError, isInputError } from '../model/errors.ts';
import { verifyJson, verifyTable } from '../report/verify.ts';
import { lockAddFiles, lockAddRelease } from '../verify/lock/lockfile.ts';
import { EXIT_CLEAN, EXIT_FINDINGS } from './exit.ts';
import { errorLine } from './stderr.ts';

export interface LockAddCliOptions {
  lock: string;
  release?: string;
  source?: string;
  checksums?: string;
  expectVersion?: string;
  json?: boolean;
}

export async function runLockAdd(files: string[], opts: LockAddCliOptions): Promise<number> {
  if (opts.release && files.length > 0)
    throw new InputError('USAGE', undefined, 'give files or --release DIR, not both');
  if (!opts.release && files.length === 0)
    throw new InputError('USAGE', undefined, 'name the files to lock, or --release DIR');
  const common = {
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.expectVersion ? { expectVersion: opts.expectVersion } : {}),
  };
  let result: Awaited<ReturnType<typeof lockAddRelease>>;
  try {
    result = opts.release
      ? await lockAddRelease(opts.lock, opts.release, common)
      : await lockAddFiles(opts.lock, files, { ...common, ...(opts.checksums ? { checksums: opts.checksums } : {}) });
  } catch (e) {
    // Two independent channels disagreeing is a verification failure (exit 1), not bad input.
    if (isInputError(e) && e.code === 'LOCK_CONFLICT') {
      errorLine(e.oneLine());
      return EXIT_FINDINGS;
    }
    throw e;
  }
  if (opts.json) {
    process.stdout.write(verifyJson(result.report));
  } else {
    if (result.report.checks.length > 0) process.stdout.write(verifyTable(result.report, false));
    process.stdout.write(
      result.written
        ? `${opts.lock}: ${result.artifacts.length} artifact(s) recorded; review the diff before committing it\n`
        : `${opts.lock}: nothing written (a check failed)\n`,
    );
  }
  return result.written ? EXIT_CLEAN : EXIT_FINDINGS;
}
