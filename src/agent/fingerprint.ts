// Whether the node's files can have changed since the last node audit, without reading them:
// a digest of the metadata (inode, size, mode, owner, mtime and ctime) of every file the audit
// reads, the places the watch covers. Re-hashing the k3s binary and its extracted bundle at
// every interval check costs far more CPU than everything else the agent does; when this
// fingerprint is unchanged, the last node audit still holds. ctime cannot be set from user
// space (any write, chmod, chown or rename sets it to the clock), so a file changed in place
// changes the fingerprint even when its mtime is put back. A full audit still runs at least
// once every FULL_AUDIT_MS, for changes no metadata shows (a write to the block device).
import { createHash, type Hash } from 'node:crypto';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { WatchTarget } from './watch.ts';

export const FULL_AUDIT_MS = 60 * 60 * 1000;

/** Entries hashed at most: a data dir far past this is audited in full every time. */
const MAX_ENTRIES = 50_000;
const MAX_DEPTH = 8;

/** The fingerprint of `targets` plus the extra files (lock, policy); undefined when past the bounds. */
export function nodeFingerprint(targets: readonly WatchTarget[], files: readonly string[]): string | undefined {
  const hash = createHash('sha256');
  const budget = { left: MAX_ENTRIES };
  for (const f of files) entry(hash, f, budget);
  for (const t of [...targets].sort((a, b) => (a.dir < b.dir ? -1 : 1))) {
    if (!entry(hash, t.dir, budget)) continue;
    let names: string[];
    try {
      names = t.names ? [...t.names] : readdirSync(t.dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) walk(hash, join(t.dir, name), t.recursive || t.names ? MAX_DEPTH : 0, budget);
  }
  return budget.left < 0 ? undefined : hash.digest('hex');
}

function walk(hash: Hash, path: string, depth: number, budget: { left: number }): void {
  if (!entry(hash, path, budget) || depth <= 0) return;
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return; // not a directory (or gone): its own entry says so
  }
  for (const name of names.sort()) walk(hash, join(path, name), depth - 1, budget);
}

/** One path's metadata into the hash; false when it is absent. */
function entry(hash: Hash, path: string, budget: { left: number }): boolean {
  budget.left -= 1;
  try {
    const st = lstatSync(path, { bigint: true });
    const link = st.isSymbolicLink() ? readlinkSync(path) : '';
    hash.update(`${path}\0${st.ino}\0${st.size}\0${st.mode}\0${st.uid}\0${st.mtimeNs}\0${st.ctimeNs}\0${link}\n`);
    return true;
  } catch {
    hash.update(`${path}\0absent\n`);
    return false;
  }
}
