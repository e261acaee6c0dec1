// Finding the files of `audit iac PATH...`: directories are walked (following symlinks, with
// cycles reported as symlink loops rather than followed forever), VCS and dependency folders
// skipped, and each file kept only when its path says it may be a kind we check.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { errnoOf } from '../../io/fs-error.ts';
import { fileTypeName } from '../../io/option-file.ts';
import type { FileProblem } from '../result.ts';
import type { FileJob } from './audit-file.ts';
import { kindByPath } from './classify.ts';

const SKIP_DIRS = new Set(['.git', '.hg', '.svn', 'node_modules', '.terraform', '.venv', '__pycache__']);

export interface Walk {
  jobs: FileJob[];
  problems: FileProblem[];
  /** Files seen and skipped as no kind `audit iac` reads. */
  skipped: number;
}

export function walkPaths(paths: readonly string[], root: string): Walk {
  const walk: Walk = { jobs: [], problems: [], skipped: 0 };
  const relOf = (abs: string) => {
    const rel = relative(root, abs);
    return (rel === '' ? '.' : rel).split(sep).join('/');
  };
  const visitFile = (abs: string) => {
    const rel = relOf(abs);
    const kind = kindByPath(rel);
    if (kind) walk.jobs.push({ abs, rel, kind });
    else walk.skipped++;
  };
  const visitDir = (abs: string, ancestors: Set<string>) => {
    let real: string;
    let names: string[];
    try {
      real = realpathSync(abs);
      if (ancestors.has(real)) {
        walk.problems.push({
          file: relOf(abs),
          kind: 'symlink-loop',
          message: `links back to ${relOf(real)}: not followed`,
        });
        return;
      }
      names = readdirSync(abs).sort();
    } catch (e) {
      walk.problems.push(fsProblem(relOf(abs), e));
      return;
    }
    const inner = new Set(ancestors).add(real);
    for (const name of names) {
      const child = join(abs, name);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(child);
      } catch (e) {
        walk.problems.push(fsProblem(relOf(child), e));
        continue;
      }
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(name)) visitDir(child, inner);
      } else if (st.isFile()) visitFile(child);
    }
  };
  for (const p of paths) {
    const abs = join(p.startsWith('/') ? '' : process.cwd(), p);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      walk.problems.push(
        code === 'ENOENT' ? { file: p, kind: 'not-found', message: 'no such file or directory' } : fsProblem(p, e),
      );
      continue;
    }
    if (st.isDirectory()) visitDir(abs, new Set());
    else if (!st.isFile()) {
      // A FIFO would block the read forever, a device be read without end: not audit targets.
      walk.problems.push({ file: p, kind: 'unreadable', message: `${fileTypeName(st)}, not a regular file` });
    } else if (kindByPath(relOf(abs)) === undefined) {
      // Named on the command line: the user wants it read; decide by content.
      walk.jobs.push({ abs, rel: relOf(abs), kind: 'template' });
    } else visitFile(abs);
  }
  return walk;
}

function fsProblem(file: string, e: unknown): FileProblem {
  const code = errnoOf(e);
  if (code === 'ELOOP') return { file, kind: 'symlink-loop', message: 'symlink loop' };
  if (code === 'ENOENT') return { file, kind: 'unreadable', message: 'dangling symlink or vanished while walking' };
  return { file, kind: 'unreadable', message: `cannot read (${code})` };
}
