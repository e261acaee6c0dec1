// Starting a worker thread whose code is TypeScript. The CLI turns Node's compile cache on
// (bin/k3sguard.js), but only for its own thread: a worker started from a .ts file would load
// the TypeScript stripper again (~13 MB a thread, measured). So the worker starts as three
// lines of JavaScript that turn the same cache on, then import the TypeScript entry, which
// the cache then serves already stripped.
// Callers name their entry as `new URL('./x.ts', import.meta.url)`; the build (npm run build)
// rewrites import specifiers to .js but not such strings, so when this module is itself the
// built .js, the entry is the built .js beside it. In the single executable there are no
// module files at all: each entry was bundled into one script of its own, embedded as an asset
// (io/sea.ts), and the worker evaluates that script.
import { getCompileCacheDir } from 'node:module';
import { Worker } from 'node:worker_threads';
import { IN_SEA, SEA_MODULE_BASE, seaAssetText, seaWorkerAsset } from './sea.ts';

const SHIM = [
  "const { workerData } = require('node:worker_threads');",
  "if (workerData.compileCache) require('node:module').enableCompileCache(workerData.compileCache);",
  'import(workerData.entry);',
].join('\n');

const BUILT = import.meta.url.endsWith('.js');

/** The module to run for `entry`: its built .js when we run built. */
function workerEntry(entry: URL): URL {
  return BUILT && entry.pathname.endsWith('.ts') ? new URL(entry.href.replace(/\.ts$/, '.js')) : entry;
}

/** The embedded bundle of `entry`, inside the single executable. */
function seaWorkerScript(entry: URL): string {
  if (!entry.href.startsWith(SEA_MODULE_BASE)) throw new Error(`worker entry outside the bundle: ${entry.href}`);
  return seaAssetText(seaWorkerAsset(entry.href.slice(SEA_MODULE_BASE.length)));
}

/** A worker running `entry` (a .ts module URL); `data` joins its workerData. */
export function tsWorker(entry: URL, data: Record<string, unknown> = {}): Worker {
  if (IN_SEA) return new Worker(seaWorkerScript(entry), { eval: true, workerData: data });
  const workerData = { ...data, entry: workerEntry(entry).href, compileCache: getCompileCacheDir() };
  return new Worker(SHIM, { eval: true, workerData });
}
