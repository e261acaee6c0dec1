// Starting a hash worker (through tsWorker, so it shares the CLI's compile cache).

import type { HashJob, HashOutcome } from './hashing.ts';
import { tsWorker } from './ts-worker.ts';

const ENTRY = new URL('./hash-worker.ts', import.meta.url);

/**
 * A worker taking files from `job` until none is left, reporting each outcome. Resolves when
 * it has exited: undefined, or why it failed (its unfinished file then has no outcome).
 */
export function spawnHashWorker(
  job: HashJob,
  record: (index: number, outcome: HashOutcome) => void,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    let failure: string | undefined;
    const w = tsWorker(ENTRY, { ...job });
    w.on('message', (m: { index: number; outcome: HashOutcome }) => record(m.index, m.outcome));
    w.on('error', (e) => {
      failure = e.message;
    });
    w.on('exit', () => resolve(failure));
  });
}
