// A pool of worker threads running one TypeScript entry (started through tsWorker, so they
// share the CLI's compile cache). Workers start when there is work for them, up to `size`,
// and take requests from one queue, the heaviest first: one message in, one reply out (the
// worker side is serveRequests in worker-serve.ts). With `whenUp`, a worker takes its first
// request only once it is up, by when a caller that queues as it goes (a folder walk) has
// usually queued everything: so the heaviest request starts first and a run ends on light
// ones, not on one core with the largest file while the others wait. Without it a request is
// posted at once, for a caller that then keeps its own thread busy (the hasher hashes too). An idle worker does not keep the process alive, so a
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
  weight: number;
  resolve: (reply: Rep) => void;
  reject: (e: Error) => void;
}

export interface WorkerPoolOptions {
  /** Hand a new worker its first request once it is up (default: at once). */
  whenUp?: boolean;
}

export class WorkerPool<Req, Rep> {
  private readonly entry: URL;
  private readonly size: number;
  private readonly whenUp: boolean;
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Job<Req, Rep>>();
  private readonly queue: Job<Req, Rep>[] = [];
  private readonly all = new Set<Worker>();
  private readonly starting = new Set<Worker>();
  private closed = false;
  /** Worker threads started so far (for tests and diagnostics). */
  started = 0;

  /** `entry`: a .ts module that calls serveRequests. */
  constructor(entry: URL, size: number = defaultPoolSize(), opts: WorkerPoolOptions = {}) {
    this.entry = entry;
    this.size = Math.max(1, size);
    this.whenUp = opts.whenUp ?? false;
  }

  /**
   * The worker's reply to `message`. Rejects when the handler threw (with its message) or
   * the worker died while on it; a dead worker is replaced for the requests after. Queued
   * requests go out heaviest `weight` first (e.g. a file's size), in order among equals.
   */
  run(message: Req, weight = 0): Promise<Rep> {
    if (this.closed) return Promise.reject(new Error('worker pool: closed'));
    return new Promise<Rep>((resolve, reject) => {
      this.queue.push({ message, weight, resolve, reject });
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
    this.starting.clear();
    const workers = [...this.all];
    this.all.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const w = this.idle.pop();
      if (!w) {
        // Start another worker only for work that no starting worker will take.
        if (this.all.size < this.size && (!this.whenUp || this.starting.size < this.queue.length)) {
          this.spawn();
          continue;
        }
        return;
      }
      const job = this.takeHeaviest();
      this.running.set(w, job);
      w.ref(); // a request under way keeps the process alive until its reply
      w.postMessage(job.message);
    }
  }

  private takeHeaviest(): Job<Req, Rep> {
    let best = 0;
    for (let i = 1; i < this.queue.length; i++)
      if ((this.queue[i] as Job<Req, Rep>).weight > (this.queue[best] as Job<Req, Rep>).weight) best = i;
    return this.queue.splice(best, 1)[0] as Job<Req, Rep>;
  }

  private spawn(): void {
    const w = tsWorker(this.entry);
    this.started++;
    this.all.add(w);
    this.starting.add(w);
    w.once('online', () => {
      if (!this.starting.delete(w) || !this.whenUp) return; // closed meanwhile, or in use already
      this.idle.push(w);
      this.dispatch();
    });
    if (!this.whenUp) this.idle.push(w);
    w.on('message', (m: WorkerReply<Rep>) => this.replied(w, m));
    w.on('error', (e) => this.lost(w, e));
    w.on('exit', (code) => this.lost(w, new Error(`worker exited with code ${code}`)));
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
    // A worker that died before it was up cannot run its entry: starting another would only
    // die again, so what is queued fails with the same error.
    if (this.starting.delete(w)) {
      for (const queued of this.queue.splice(0)) queued.reject(e);
      return;
    }
    this.dispatch();
  }
}
