// Replacing a file atomically: the new content is written to a temp file in the same folder
// (a rename is atomic only within one file system), synced, renamed over the target, and the
// folder synced so the rename itself survives a crash. Temp names carry the writer's pid, so
// a later run can remove what a killed one left without touching a live one's.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const TEMP_NAME = /^(.*)\.(\d+)\.[0-9a-f]+\.(tmp|download)$/;

/** A temp name next to `target` carrying our pid, so a later run can tell a dead one's leftovers. */
export function tempPathFor(target: string, suffix: 'tmp' | 'download'): string {
  return `${target}.${process.pid}.${randomBytes(6).toString('hex')}.${suffix}`;
}

/** Remove temp files next to `target` left by imports or downloads whose process is gone. */
export function removeStaleTemps(target: string): string[] {
  const removed: string[] = [];
  const dir = dirname(target);
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const m = TEMP_NAME.exec(name);
    if (!m || m[1] !== basename(target)) continue;
    const pid = Number(m[2]);
    let alive = pid === process.pid;
    try {
      if (!alive) alive = process.kill(pid, 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM'; // someone else's live process
    }
    if (alive) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function fsyncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Make `tmp` durable, then put it in place of `target` in one atomic step. */
export function swapInto(tmp: string, target: string): void {
  fsyncPath(tmp, 'r+');
  renameSync(tmp, target);
  fsyncDir(dirname(target));
}

/** Make the folder's entries (a rename, a new or removed file) survive a crash. */
export function fsyncDir(dir: string): void {
  fsyncPath(dir, 'r');
}

/**
 * Write `data` as `target`: a reader, or the next run after a crash, finds the old file or the
 * new one whole, never a torn one. The temp file is removed when anything fails; the error is
 * the file system's, for the caller to name.
 */
export function writeFileDurably(target: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = tempPathFor(target, 'tmp');
  try {
    writeFileSync(tmp, data, { flag: 'wx', mode });
    swapInto(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
