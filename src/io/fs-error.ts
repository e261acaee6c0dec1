// One mapping from a failed file-system call to the coded error the CLI prints as one line:
// a missing path is NOT_FOUND, a symlink loop SYMLINK_LOOP, anything else (permissions, I/O
// errors, a socket that cannot be opened) UNREADABLE, with the errno code for the user.
import { InputError } from '../model/errors.ts';

/** The errno code of a failed call (`ENOENT`, `EACCES`, ...), or its message when it has none. */
export function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
}

export interface FsErrorText {
  /** Put before the message, e.g. the option that named the file: `--policy`. */
  prefix?: string;
  /** What a missing path is called (default `no such file`). */
  missing?: string;
  /** What failed, before the errno code (default `cannot read`). */
  doing?: string;
}

/** The InputError for `e` on `file`; an InputError passes through unchanged. */
export function fsError(e: unknown, file: string, text: FsErrorText = {}): InputError {
  if (e instanceof InputError) return e;
  const code = errnoOf(e);
  const lead = text.prefix ? `${text.prefix}: ` : '';
  if (code === 'ENOENT')
    return new InputError('NOT_FOUND', file, `${lead}${text.missing ?? 'no such file'}`, { cause: e });
  if (code === 'ELOOP') return new InputError('SYMLINK_LOOP', file, `${lead}symlink loop`, { cause: e });
  // open(2) gives ENXIO for a socket (and a device without a driver): not a file to read.
  const why = code === 'ENXIO' ? 'a socket or absent device, not a regular file' : code;
  return new InputError('UNREADABLE', file, `${lead}${text.doing ?? 'cannot read'} (${why})`, { cause: e });
}
