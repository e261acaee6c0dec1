// The one reader for the small files options name (`--key`, `--policy`, `--lock`, `--vex`,
// `--images-list`, `--checksums`, `--bundle`, `--trusted-root`) and the check for the
// database path. Only regular files: a FIFO would block a plain open or read forever, and a
// character device such as /dev/zero would be read until memory runs out. So the file is
// opened non-blocking, the type is checked on the opened descriptor (the file actually read,
// not whatever the path names a moment later), and at most limit+1 bytes are read, so a file
// that grows while it is read is still caught.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { InputError } from '../model/errors.ts';
import { formatLimit, LIMITS, type OptionFileKind, type SizedOptionFileKind } from '../model/limits.ts';
import { fsError } from './fs-error.ts';

export type { OptionFileKind, SizedOptionFileKind } from '../model/limits.ts';

/** The option that names each kind of file: errors start with it. */
const OPTION: Record<OptionFileKind, string> = {
  policy: '--policy',
  key: '--key',
  lock: '--lock',
  vex: '--vex',
  'images-list': '--images-list',
  sums: '--checksums',
  bundle: '--bundle',
  'trusted-root': '--trusted-root',
  predicate: '--predicate',
  db: '--db',
  config: '--config',
  secret: '--webhook-secret-file/--token-file',
};

export interface OptionFileNaming {
  /** The file as the user named it, for messages (default: the path). */
  file?: string;
  /** What the message starts with (default: the option, e.g. `--key`). */
  label?: string;
}

/** What a file that is not a regular file is, in words. */
export function fileTypeName(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symlink';
  return 'not a regular file';
}

function open(path: string, file: string, label: string): { fd: number; st: Stats } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fsError(e, file, { prefix: label });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError('UNREADABLE', file, `${label}: ${fileTypeName(st)}, not a regular file`);
    return { fd, st };
  } catch (e) {
    closeSync(fd);
    throw fsError(e, file, { prefix: label });
  }
}

function tooLarge(file: string, label: string, limit: number): InputError {
  return new InputError('UNREADABLE', file, `${label}: larger than ${formatLimit(limit)}, the limit for this file`);
}

/** The bytes of the regular file an option names; InputError NOT_FOUND / UNREADABLE / SYMLINK_LOOP. */
export function readOptionFile(path: string, kind: SizedOptionFileKind, naming: OptionFileNaming = {}): Buffer {
  const file = naming.file ?? path;
  const label = naming.label ?? OPTION[kind];
  const limit = LIMITS.optionFile[kind];
  const { fd, st } = open(path, file, label);
  try {
    if (st.size > limit) throw tooLarge(file, label, limit);
    // Read to the end (a file may grow after fstat), but never more than one byte past the
    // limit: that byte is how a file that grew too large is told from one that did not.
    let buf = Buffer.allocUnsafe(Math.min(limit + 1, st.size + 1));
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (got > limit) break;
        const bigger = Buffer.allocUnsafe(Math.min(limit + 1, got * 2));
        buf.copy(bigger, 0, 0, got);
        buf = bigger;
      }
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    if (got > limit) throw tooLarge(file, label, limit);
    return buf.subarray(0, got);
  } catch (e) {
    throw fsError(e, file, { prefix: label });
  } finally {
    closeSync(fd);
  }
}

/** readOptionFile as UTF-8 text. */
export function readOptionText(path: string, kind: SizedOptionFileKind, naming: OptionFileNaming = {}): string {
  return readOptionFile(path, kind, naming).toString('utf8');
}

/**
 * For files read by something else (the database, opened by SQLite): true when `path` is a
 * regular file, false when nothing is there; InputError for anything else.
 */
export function isRegularFileOrAbsent(path: string, kind: OptionFileKind, naming: OptionFileNaming = {}): boolean {
  const file = naming.file ?? path;
  const label = naming.label ?? OPTION[kind];
  try {
    closeSync(open(path, file, label).fd);
    return true;
  } catch (e) {
    if (e instanceof InputError && e.code === 'NOT_FOUND') return false;
    throw e;
  }
}
