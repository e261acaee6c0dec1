// One writer of k3sguard.lock at a time. `lock add` reads the lock, checks files (seconds to
// minutes), then writes: two runs at once would each write what they read plus their own
// artifacts, and the second rename would drop the first's. The update itself (read the lock
// as it is now, merge, write, rename) is therefore done holding `<lock>.lck`, created with
// O_EXCL: a second run waits for it a moment, then reads the lock the first one wrote.
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { InputError } from '../../model/errors.ts';

/** How long a run waits for another run's update (milliseconds; an update takes a few). */
const WAIT_MS = 10_000;
const POLL_MS = 25;

export function lockMarkerPath(lockPath: string): string {
  return `${lockPath}.lck`;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Create the marker, waiting while another run holds it; false when the wait ran out. */
function acquire(marker: string, waitMs: number): boolean {
  for (const deadline = Date.now() + waitMs; ; sleep(POLL_MS)) {
    try {
      const fd = openSync(marker, 'wx', 0o644);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST')
        throw new InputError('OUTPUT', marker, `cannot create the lock marker next to the lock (${code ?? e})`);
      if (Date.now() >= deadline) return false;
    }
  }
}

/**
 * Run `update` (read, merge, write the lock) holding `<lockPath>.lck`. A marker that stays
 * past the wait is another run's, or was left by one killed mid-update: LOCK_BUSY says so.
 */
export function withLockHeld<T>(lockPath: string, update: () => T, waitMs = WAIT_MS): T {
  const marker = lockMarkerPath(lockPath);
  if (!acquire(marker, waitMs))
    throw new InputError(
      'LOCK_BUSY',
      lockPath,
      `another k3sguard lock add is updating it (${marker} exists); the lock was left unchanged: run again once it is done, or remove ${marker} if no lock add is running`,
    );
  try {
    return update();
  } finally {
    rmSync(marker, { force: true });
  }
}
