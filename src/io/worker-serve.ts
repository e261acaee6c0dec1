// The worker side of a WorkerPool (worker-pool.ts): answer each request with one reply. A
// handler that throws answers with the error's message, so one bad request fails alone and
// the worker stays in the pool.
import { parentPort } from 'node:worker_threads';

/** What crosses back to the pool: the handler's result, or why it threw. */
export type WorkerReply<Rep> = { reply: Rep } | { error: string };

export function serveRequests<Req, Rep>(handle: (request: Req) => Rep | Promise<Rep>): void {
  const port = parentPort;
  if (!port) throw new Error('serveRequests: not on a worker thread');
  port.on('message', async (request: Req) => {
    let answer: WorkerReply<Rep>;
    try {
      answer = { reply: await handle(request) };
    } catch (e) {
      answer = { error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(answer);
  });
}
