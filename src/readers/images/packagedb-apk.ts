// apk's installed database, `/lib/apk/db/installed`: one record per package, records separated
// by blank lines, each line a one-letter key, a colon and a value (`P:musl`, `V:1.2.4-r2`).
// Keys used here: P name, V version, A architecture, o origin (the source package, which
// always has the same version as its subpackages). The other keys (F folders, R files, Z
// checksums, D dependencies...) repeat per file and are skipped; this format is documented in
// apk-tools' doc/apk-package(5) and the Alpine wiki ("Apk spec").

import { isValidApkVersion } from '../../versions/apk.ts';
import type { DbProblem } from './packagedb-dpkg.ts';

export interface ApkEntry {
  name: string;
  version: string;
  arch: string;
  /** The `o:` origin; the package's own name when absent. */
  origin: string;
  license?: string;
}

/** Parses `/lib/apk/db/installed`; `file` names it in problems. */
export function parseApkInstalled(
  input: string | Buffer,
  file: string,
): { entries: ApkEntry[]; problems: DbProblem[] } {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const entries: ApkEntry[] = [];
  const problems: DbProblem[] = [];
  let record: Map<string, string> | undefined;
  let recordLine = 0;
  const finish = (): void => {
    if (!record) return;
    const name = record.get('P') ?? '';
    const version = record.get('V') ?? '';
    if (name === '' || /\s/.test(name)) {
      problems.push({ file, line: recordLine, message: 'record without a package name (P:)' });
    } else if (!isValidApkVersion(version)) {
      problems.push({ file, line: recordLine, message: `${name}: invalid version ${JSON.stringify(version)}` });
    } else {
      const entry: ApkEntry = { name, version, arch: record.get('A') ?? '', origin: record.get('o') || name };
      const license = record.get('L');
      if (license) entry.license = license;
      entries.push(entry);
    }
    record = undefined;
  };
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).replace(/\r$/, '');
    if (line === '') {
      finish();
      continue;
    }
    if (line.length < 2 || line[1] !== ':') {
      problems.push({ file, line: n + 1, message: `line is not "X:value": ${JSON.stringify(line.slice(0, 40))}` });
      continue;
    }
    if (!record) {
      record = new Map();
      recordLine = n + 1;
    }
    const key = line[0] as string;
    // Per-package keys appear once; the first one wins if a hostile file repeats them.
    if (!record.has(key)) record.set(key, line.slice(2));
  }
  finish();
  return { entries, problems };
}
