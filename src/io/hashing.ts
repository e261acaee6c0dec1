// sha256 of whole files, as fast as `openssl dgst -sha256` and in flat memory. Node's crypto is
// OpenSSL (SHA extensions where the CPU has them), so the hash costs the same; what decides
// the rest is how the bytes are read and how the cores are shared:
// - one 1 MiB buffer per thread, reused from read to read and file to file: a fresh buffer
//   per read costs its page faults every time (and piles up as garbage in a synchronous
//   loop); 1 MiB stays in the caches, so the hash reads what read() has just written;
// - several files: this thread and availableParallelism() - 1 workers take the files, largest
//   first, from one shared counter, so no core waits for a dispatcher and the run ends with
//   small files; each worker answers once, with every file it took. This thread hashes too
//   because each worker costs ~15 MB of memory and ~30 ms to start; a Hasher keeps its
//   workers for its next run (idle ones do not hold up the exit). (The inventory's ScanPool
//   keeps its main thread free for other work and loads the bundle readers in each worker,
//   ~42 MB each, measured: right for inspect, but two of them would break the 100 MB budget
//   of verify.)
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { InputError, type InputErrorCode } from '../model/errors.ts';
import { fsError } from './fs-error.ts';
import { WorkerPool } from './worker-pool.ts';

export interface FileDigest {
  /** Lowercase hex. */
  sha256: string;
  /** Bytes hashed. */
  size: number;
}

export interface HashTarget {
  path: string;
  /** How the user named it, for errors (default: path). */
  file?: string;
}

const CHUNK = 1024 * 1024;
let chunk: Buffer | undefined;

/**
 * Open a file for reading, with an error the user can act on. Non-blocking, so a FIFO put in
 * a file's place cannot hang the open (callers then refuse what is not a regular file).
 */
export function openForRead(path: string, file: string = path): number {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fsError(e, file);
  }
}

/** sha256 and size of one file, on this thread. */
export function sha256File(path: string, file: string = path): FileDigest {
  const fd = openForRead(path, file);
  try {
    if (!fstatSync(fd).isFile()) throw new InputError('USAGE', file, 'not a regular file: name a file to hash');
    chunk ??= Buffer.allocUnsafe(CHUNK);
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, CHUNK, size);
      if (n === 0) break;
      hash.update(n === CHUNK ? chunk : chunk.subarray(0, n));
      size += n;
    }
    return { sha256: hash.digest('hex'), size };
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError('UNREADABLE', file, `cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
  } finally {
    closeSync(fd);
  }
}

/** A result that can cross a thread (an InputError's class does not survive postMessage). */
export type HashOutcome = { ok: FileDigest } | { code: InputErrorCode; message: string };

/** The files of one parallel run, and the counter every thread takes the next index from. */
export interface HashJob {
  paths: string[];
  next: Int32Array;
}

/** Hash files of `job` until none is left; this thread and every worker run it. */
export function takeJobs(job: HashJob, report: (index: number, outcome: HashOutcome) => void): void {
  for (let i = Atomics.add(job.next, 0, 1); i < job.paths.length; i = Atomics.add(job.next, 0, 1)) {
    try {
      report(i, { ok: sha256File(job.paths[i] as string) });
    } catch (e) {
      const err = e instanceof InputError ? e : new InputError('UNREADABLE', undefined, String(e));
      report(i, { code: err.code, message: err.message });
    }
  }
}

// Below this many bytes in all, this thread hashes alone: it is done before a worker has
// started (~30 ms, in which one core hashes about 60 MB).
const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

/** The hash workers' entry: each request is a HashJob, each reply what that worker hashed. */
export const HASH_WORKER = new URL('./hash-worker.ts', import.meta.url);

/** What one worker hashed of a job: [index in job.paths, outcome]. */
export type HashJobReply = Array<[number, HashOutcome]>;

/**
 * Outcomes in the order of `paths`, hashed by `helpers` workers of `pool` and, when
 * `thisThread`, by this thread too.
 */
async function hashParallel(
  paths: string[],
  pool: WorkerPool<HashJob, HashJobReply> | undefined,
  helpers: number,
  thisThread: boolean,
): Promise<HashOutcome[]> {
  const job: HashJob = { paths, next: new Int32Array(new SharedArrayBuffer(4)) };
  const outcomes: (HashOutcome | undefined)[] = new Array(paths.length);
  const record = (i: number, o: HashOutcome) => {
    outcomes[i] = o;
  };
  // Posted before this thread starts hashing, so the workers start meanwhile.
  const done = pool ? Array.from({ length: helpers }, () => pool.run(job)) : [];
  if (thisThread) takeJobs(job, record);
  let why = 'stopped early';
  for (const d of await Promise.allSettled(done)) {
    if (d.status === 'fulfilled') for (const [i, o] of d.value) record(i, o);
    else why = d.reason instanceof Error ? d.reason.message : String(d.reason);
  }
  // A worker that died leaves the files it had taken without an outcome.
  return outcomes.map((o) => o ?? { code: 'UNREADABLE', message: `cannot read (hash worker: ${why})` });
}

/**
 * Hashes files, each once however often asked (a verify and a lock check in one run share
 * it), several at once when asked for several.
 */
export class Hasher {
  private readonly memo = new Map<string, Promise<FileDigest>>();
  private readonly threads: number;
  /** Started at the first run that needs a helper, and kept for the runs after. */
  private pool: WorkerPool<HashJob, HashJobReply> | undefined;

  constructor(threads: number = availableParallelism()) {
    this.threads = Math.max(1, threads);
  }

  /** Worker threads started so far (for tests and diagnostics). */
  get workersStarted(): number {
    return this.pool?.started ?? 0;
  }

  /**
   * Digests in the order of `targets`; rejects with the InputError of the first unreadable one.
   * `beside`: the caller has its own work for this thread meanwhile (it reads other files), so
   * the workers hash everything and this thread is left to it.
   */
  async digestAll(targets: readonly HashTarget[], opts: { beside?: boolean } = {}): Promise<FileDigest[]> {
    const fresh = new Map<string, { path: string; file: string; size: number }>();
    for (const t of targets) {
      const key = resolve(t.path);
      if (!this.memo.has(key) && !fresh.has(key))
        fresh.set(key, { path: t.path, file: t.file ?? t.path, size: sizeOf(t.path) });
    }
    // Largest first: the run then ends with small files, not one core hashing the biggest alone.
    const order = [...fresh].sort((a, b) => b[1].size - a[1].size);
    const total = order.reduce((sum, [, t]) => sum + t.size, 0);
    const besideOwnWork = opts.beside === true && this.threads > 1 && order.length > 0;
    const helpers = besideOwnWork
      ? Math.min(this.threads - 1, order.length)
      : total < PARALLEL_MIN_BYTES
        ? 0
        : Math.max(0, Math.min(this.threads, order.length) - 1);
    if (helpers > 0) this.pool ??= new WorkerPool(HASH_WORKER, this.threads - 1);
    const run = hashParallel(
      order.map(([, t]) => t.path),
      this.pool,
      helpers,
      !besideOwnWork,
    );
    order.forEach(([key, t], i) => {
      this.memo.set(
        key,
        run.then((outcomes) => {
          const o = outcomes[i] as HashOutcome;
          if ('ok' in o) return o.ok;
          throw new InputError(o.code, t.file, o.message);
        }),
      );
    });
    return Promise.all(targets.map((t) => this.memo.get(resolve(t.path)) as Promise<FileDigest>));
  }

  digest(path: string, file: string = path): Promise<FileDigest> {
    return this.digestAll([{ path, file }]).then((d) => d[0] as FileDigest);
  }
}

// For ordering only; a file that cannot be stat'ed fails properly when it is hashed.
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Hash `targets`, several at once. */
export function hashFiles(targets: readonly HashTarget[]): Promise<FileDigest[]> {
  return new Hasher().digestAll(targets);
}
