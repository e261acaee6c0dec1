// A real HTTP receiver on loopback for the senders' tests: records every request whole and
// answers with the status the test chooses, like a webhook endpoint or the fleet server would.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Condition } from './condition.ts';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** X-K3sguard-Event-Id. */
  readonly id: string;
}

/** The status for the nth request (0-based); 'hang' never answers (the sender's timeout must end it). */
export type Responder = (req: Received, n: number) => number | 'hang' | Promise<number | 'hang'>;

export interface Receiver {
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order, whatever it was answered. */
  readonly received: Received[];
  /** Requests answered 2xx. */
  readonly acked: Received[];
  /** Resolves once `done()` holds; rejects past `timeoutMs` (a bound, so a broken sender fails, not hangs). */
  waitFor(done: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(respond: Responder = () => 200, port = 0): Promise<Receiver> {
  const received: Received[] = [];
  const acked: Received[] = [];
  const changed = new Condition();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const r: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        id: String(req.headers['x-k3sguard-event-id'] ?? ''),
      };
      const n = received.length;
      received.push(r);
      const status = await respond(r, n);
      if (status === 'hang') return;
      if (status >= 200 && status < 300) acked.push(r);
      res.writeHead(status, { 'content-type': 'text/plain' }).end('thanks\n');
      changed.notify();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hook`,
    port: bound,
    received,
    acked,
    waitFor: (done, timeoutMs = 60_000) =>
      changed.until(done, `receiver condition (${received.length} requests so far)`, timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** How many times each id was acknowledged more than once (at-least-once allows some). */
export function duplicates(acked: readonly Received[]): number {
  const seen = new Set<string>();
  let dups = 0;
  for (const r of acked) {
    if (seen.has(r.id)) dups += 1;
    seen.add(r.id);
  }
  return dups;
}
