// `npm pack` runs the prepack build, which rewrites dist/src and dist/bin in the work tree; two
// test files packing at once (the npm package's, the release's) would each read the other's
// half-written build. Both take this lock, one process at a time (a directory made with
// mkdir is the lock: atomic, and gone with the work tree if a run dies holding it).
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const LOCK = join(import.meta.dirname, '..', '..', 'dist', '.pack-lock');
// A holder is done within minutes; an older lock was left by a killed run.
const STALE_MS = 15 * 60 * 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** `fn` while no other test process packs. */
export function withPackLock<T>(fn: () => T): T {
  mkdirSync(join(LOCK, '..'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // gone between the two calls: try again
      }
      Atomics.wait(pause, 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
