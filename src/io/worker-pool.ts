// A pool of worker threads running one TypeScript entry (started through tsWorker, so they
// share the CLI's compile cache). Workers start when there is work for them, up to `size`,
// and take requests from one queue: one message in, one reply out (the worker side is
// serveRequests in worker-serve.ts). An idle worker does not keep the process alive, so a
// pool nobody closes (a long-lived Hasher) never holds up the exit; close() ends them all.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { tsWorker } from './ts-worker.ts';
import type { WorkerReply } from './worker-serve.ts';

/** The default size: a few cores, not all (each worker costs its own memory). */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

interface Job<Req, Rep> {
  message: Req;
  resolve: (reply: Rep) => void;
  reject: (e: Error) => void;
}

export class WorkerPool<Req, Rep> {
  private readonly entry: URL;
  private readonly size: number;
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Job<Req, Rep>>();
  private readonly queue: Job<Req, Rep>[] = [];
  private readonly all = new Set<Worker>();
  private closed = false;
  /** Worker threads started so far (for tests and diagnostics). */
  started = 0;

  /** `entry`: a .ts module that calls serveRequests. */
  constructor(entry: URL, size: number = defaultPoolSize()) {
    this.entry = entry;
    this.size = Math.max(1, size);
  }

  /**
   * The worker's reply to `message`. Rejects when the handler threw (with its message) or
   * the worker died while on it; a dead worker is replaced for the requests after.
   */
  run(message: Req): Promise<Rep> {
    if (this.closed) return Promise.reject(new Error('worker pool: closed'));
    return new Promise<Rep>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.dispatch();
    });
  }

  /** Terminate every worker; requests still queued or running reject. */
  async close(): Promise<void> {
    this.closed = true;
    const gone = new Error('worker pool: closed');
    for (const job of this.queue.splice(0)) job.reject(gone);
    for (const job of this.running.values()) job.reject(gone);
    this.running.clear();
    this.idle.length = 0;
    const workers = [...this.all];
    this.all.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const w = this.idle.pop() ?? (this.all.size < this.size ? this.spawn() : undefined);
      if (!w) return;
      const job = this.queue.shift() as Job<Req, Rep>;
      this.running.set(w, job);
      w.ref(); // a request under way keeps the process alive until its reply
      w.postMessage(job.message);
    }
  }

  private spawn(): Worker {
    const w = tsWorker(this.entry);
    this.started++;
    this.all.add(w);
    w.on('message', (m: WorkerReply<Rep>) => this.replied(w, m));
    w.on('error', (e) => this.lost(w, e));
    w.on('exit', (code) => this.lost(w, new Error(`worker exited with code ${code}`)));
    return w;
  }

  private replied(w: Worker, m: WorkerReply<Rep>): void {
    const job = this.running.get(w);
    this.running.delete(w);
    w.unref();
    this.idle.push(w);
    if (job) {
      if ('reply' in m) job.resolve(m.reply);
      else job.reject(new Error(m.error));
    }
    this.dispatch();
  }

  /** The worker is gone (an uncaught error, then its exit): its request fails, the rest go on. */
  private lost(w: Worker, e: Error): void {
    if (!this.all.delete(w)) return; // closed, or the exit after the error
    const job = this.running.get(w);
    this.running.delete(w);
    const at = this.idle.indexOf(w);
    if (at >= 0) this.idle.splice(at, 1);
    job?.reject(e);
    this.dispatch();
  }
}
