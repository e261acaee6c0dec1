// The source a release is built from: the commit, and whether the work tree differs from it.
// Provenance that names a commit must mean that commit: a tree with changes (or untracked
// files, which a build may pick up) is refused unless the caller accepts it, and then the
// provenance says so.
import { execFileSync } from 'node:child_process';
import { ReleaseError } from './release-error.ts';

export interface SourceState {
  /** `git rev-parse HEAD`. */
  commit: string;
  /** The committer time of HEAD, seconds: the default SOURCE_DATE_EPOCH. */
  commitTime: number;
  /** `git status --porcelain` lines: what differs from the commit (empty: clean). */
  changes: string[];
  /** The `origin` remote, when there is one: where the commit can be fetched. */
  remote: string | undefined;
}

function git(root: string, args: string[]): string {
  return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function sourceState(root: string): SourceState {
  let commit: string;
  try {
    commit = git(root, ['rev-parse', 'HEAD']);
  } catch {
    throw new ReleaseError(`${root}: not a git checkout with a commit: a release names the commit it is built from`);
  }
  let remote: string | undefined;
  try {
    remote = git(root, ['remote', 'get-url', 'origin']) || undefined;
  } catch {
    remote = undefined;
  }
  return {
    commit,
    commitTime: Number(git(root, ['show', '-s', '--format=%ct', 'HEAD'])),
    // Not trimmed as a whole: a line's leading space is part of its status (` M file`).
    changes: execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=all'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l !== ''),
    remote,
  };
}
