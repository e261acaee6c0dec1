// `--db`: `sqlite:PATH` (the default: one file, nothing to install) or `postgres://...` /
// `postgresql://...` (a fleet: several server replicas on one PostgreSQL).
import { InputError } from '../../model/errors.ts';
import type { DatabaseUrl } from './database.ts';

export const DEFAULT_DB = 'sqlite:/var/lib/k3sguard-server/fleet.sqlite';

export function parseDatabaseUrl(text: string): DatabaseUrl {
  if (text.startsWith('sqlite:')) {
    const path = text.slice('sqlite:'.length);
    if (path === '') throw new InputError('USAGE', undefined, '--db sqlite:PATH: the path is empty');
    return { kind: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(text)) return { kind: 'postgres', url: text };
  // Not echoed whole: a PostgreSQL URL can carry a password.
  throw new InputError(
    'USAGE',
    undefined,
    '--db: expected sqlite:PATH or postgres://USER@HOST/DATABASE (e.g. sqlite:./fleet.sqlite)',
  );
}
