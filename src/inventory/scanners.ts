// Reading every byte of every file (to hash it, and to find an embedded bundle) is most of
// the cost of an inventory. Two ways to keep it off the critical path:
// - a folder: a pool of worker threads scans files in parallel (one read per file), while
//   the main thread reads build info and decompresses bundles;
// - one file: the main thread finds the bundle at once (jumping over the frame, no hashing),
//   and hashes the file in its idle time while the bundle decompresses.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import type { ByteSource } from '../io/bytesource.ts';
import { tsWorker } from '../io/ts-worker.ts';
import { InputError } from '../model/errors.ts';
import { type FileSearch, searchFile } from '../readers/bundle/locate.ts';

export interface Scan {
  /** Bundle names and zstd magics in the file. */
  search: Promise<Pick<FileSearch, 'names' | 'magics'>>;
  sha256: Promise<string>;
}

export interface FileScanner {
  /** `src` is the file at `path`, open; `file` is how the user named it, for errors. */
  scan(path: string, src: ByteSource, file: string): Scan;
  close(): Promise<void>;
}

function unreadable(file: string, why: string): InputError {
  return new InputError('UNREADABLE', file, `cannot read (${why})`);
}

/**
 * For many files: worker threads, each scanning one file at a time from a shared queue, the
 * largest queued file first. A worker takes its first file once it is up (~30 ms), by when
 * the walk has queued the folder: so the run ends with small files, not one core on the
 * largest while the others wait.
 */
export class ScanPool implements FileScanner {
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private readonly all: Worker[] = [];
  private readonly size: number;
  private starting = 0;

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.size = size;
  }

  scan(path: string, src: ByteSource, file: string): Scan {
    const result = new Promise<FileSearch>((resolve, reject) => {
      this.queue.push({ path, file, size: src.size, resolve, reject });
      this.dispatch();
    });
    return { search: result, sha256: result.then((r) => r.sha256 as string) };
  }

  private spawn(): void {
    const w = tsWorker(new URL('./scan-worker.ts', import.meta.url));
    this.starting++;
    let online = false;
    w.once('online', () => {
      online = true;
      this.starting--;
      this.idle.push(w);
      this.dispatch();
    });
    w.on('message', (m: Reply) => this.done(w, m));
    w.on('error', (e) => {
      const job = this.running.get(w);
      this.running.delete(w);
      job?.reject(e);
      if (online) return;
      // A worker that never started: with none left to take them, the queued files fail too.
      this.starting--;
      this.all.splice(this.all.indexOf(w), 1);
      if (this.all.length === 0) for (const j of this.queue.splice(0)) j.reject(e);
    });
    this.all.push(w);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const w = this.idle.pop();
      if (!w) {
        if (this.all.length < this.size && this.starting < this.queue.length) {
          this.spawn();
          continue;
        }
        return;
      }
      const job = this.takeLargest();
      this.running.set(w, job);
      w.postMessage({ path: job.path });
    }
  }

  private takeLargest(): Job {
    let best = 0;
    for (let i = 1; i < this.queue.length; i++)
      if ((this.queue[i] as Job).size > (this.queue[best] as Job).size) best = i;
    return this.queue.splice(best, 1)[0] as Job;
  }

  private done(w: Worker, m: Reply): void {
    const job = this.running.get(w);
    this.running.delete(w);
    this.idle.push(w);
    if (job) {
      if ('ok' in m) job.resolve(m.ok);
      else job.reject(unreadable(job.file, m.error));
    }
    this.dispatch();
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
    this.all.length = 0;
    this.idle.length = 0;
  }
}

interface Job {
  path: string;
  file: string;
  size: number;
  resolve: (r: FileSearch) => void;
  reject: (e: Error) => void;
}

type Reply = { ok: FileSearch } | { error: string };

const SLICE = 256 * 1024;

/** For one file: search now on this thread, hash in slices between other work. */
export class InterleavedScanner implements FileScanner {
  private readonly buf = Buffer.allocUnsafe(SLICE);

  scan(path: string, src: ByteSource, file: string): Scan {
    const found = searchFile(src, { hash: false });
    return { search: Promise.resolve(found), sha256: this.hash(path, file) };
  }

  private async hash(path: string, file: string): Promise<string> {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw unreadable(file, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
    }
    try {
      const hash = createHash('sha256');
      for (let at = 0; ; ) {
        await yieldToEventLoop();
        const n = readSync(fd, this.buf, 0, SLICE, at);
        if (n === 0) return hash.digest('hex');
        hash.update(this.buf.subarray(0, n));
        at += n;
      }
    } finally {
      closeSync(fd);
    }
  }

  async close(): Promise<void> {}
}
