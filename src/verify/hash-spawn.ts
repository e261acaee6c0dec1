// Starting a hash worker. The CLI turns Node's compile cache on (bin/k3sguard.js), but only for
// its own thread: a worker started from a .ts file would load the TypeScript stripper again
// (~13 MB a thread, measured). So the worker starts as three lines of JavaScript that turn the
// same cache on, then import the TypeScript entry, which the cache then serves stripped.
import { getCompileCacheDir } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { HashJob, HashOutcome } from './hashing.ts';

const ENTRY = new URL('./hash-worker.ts', import.meta.url).href;
const SHIM = [
  "const { workerData } = require('node:worker_threads');",
  "if (workerData.compileCache) require('node:module').enableCompileCache(workerData.compileCache);",
  'import(workerData.entry);',
].join('\n');

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
    const workerData = { ...job, entry: ENTRY, compileCache: getCompileCacheDir() };
    const w = new Worker(SHIM, { eval: true, workerData });
    w.on('message', (m: { index: number; outcome: HashOutcome }) => record(m.index, m.outcome));
    w.on('error', (e) => {
      failure = e.message;
    });
    w.on('exit', () => resolve(failure));
  });
}
