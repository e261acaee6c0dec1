// A small pool of worker threads hashing whole files. sha256 is the largest cost of an
// inventory (every byte of every file); on the main thread it is serial, while the standard
// tools' pipeline it is measured against uses both cores. Jobs wait in one queue and go to
// whichever worker is free, so one large file does not hold up the rest. close() ends it.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.ts';

interface Job {
  path: string;
  file: string;
  resolve: (sha256: string) => void;
  reject: (e: Error) => void;
}

type Reply = { sha256: string } | { error: string };

/** Computes the sha256 of whole files, off the critical path. */
export interface FileHasher {
  /** sha256 of the file at `path`; `file` is how the user named it, for errors. */
  hashFile(path: string, file: string): Promise<string>;
  close(): Promise<void>;
}

export class HashPool implements FileHasher {
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private readonly all: Worker[] = [];
  private readonly size: number;

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.size = size;
  }

  /** sha256 of the file at `path`; `file` is how the user named it, for errors. */
  hashFile(path: string, file: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ path, file, resolve, reject });
      this.dispatch();
    });
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./hash-worker.ts', import.meta.url));
    w.on('message', (m: Reply) => this.done(w, m));
    w.on('error', (e) => {
      const job = this.running.get(w);
      this.running.delete(w);
      job?.reject(e);
    });
    this.all.push(w);
    return w;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const w = this.idle.pop() ?? (this.all.length < this.size ? this.spawn() : undefined);
      if (!w) return;
      const job = this.queue.shift() as Job;
      this.running.set(w, job);
      w.postMessage({ path: job.path });
    }
  }

  private done(w: Worker, m: Reply): void {
    const job = this.running.get(w);
    this.running.delete(w);
    this.idle.push(w);
    if (job) {
      if ('sha256' in m) job.resolve(m.sha256);
      else job.reject(new InputError('UNREADABLE', job.file, `cannot read (${m.error})`));
    }
    this.dispatch();
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
    this.all.length = 0;
    this.idle.length = 0;
  }
}
