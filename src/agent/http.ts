// The agent's HTTP endpoints on --listen: GET /metrics (Prometheus text format), /healthz (the
// process answers: it is alive) and /readyz (ready once the first complete check is done; the
// caller says when). Nothing else: other paths 404, other methods 405. No request body is ever
// read, and every stage of a request has a timeout, so a slow or hostile client costs little.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatListen, parseListen } from './listen.ts';
import type { AgentMetrics } from './metrics.ts';

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

export interface AgentHttpOptions {
  readonly metrics: AgentMetrics;
  /** Asked at each GET /readyz. */
  readonly health: () => Readiness;
}

export interface AgentHttp {
  /** Where it listens, `host:port` (the port the system chose when --listen said 0). */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

const PATHS = new Set(['/metrics', '/healthz', '/readyz']);

function send(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse, options: AgentHttpOptions): Promise<void> {
  const path = (req.url ?? '').split('?')[0] as string;
  if (!PATHS.has(path)) return send(res, 404, 'not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    // The body is not read: close the connection after answering rather than drain it.
    res.setHeader('allow', 'GET, HEAD');
    res.shouldKeepAlive = false;
    return send(res, 405, 'method not allowed\n');
  }
  if (path === '/healthz') return send(res, 200, 'ok\n');
  if (path === '/readyz') {
    const r = options.health();
    return r.ready ? send(res, 200, 'ready\n') : send(res, 503, `not ready: ${r.reason}\n`);
  }
  try {
    send(res, 200, await options.metrics.metrics(), options.metrics.contentType);
  } catch (e) {
    send(res, 500, `metrics failed: ${(e as Error).message}\n`);
  }
}

/** Starts serving on `listen` (HOST:PORT); resolves once listening. */
export function startAgentHttp(listen: string, options: AgentHttpOptions): Promise<AgentHttp> {
  const { host, port } = parseListen(listen);
  const server = createServer(
    { requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000, maxHeaderSize: 16 * 1024 },
    (req, res) => {
      handle(req, res, options).catch((e) => {
        if (!res.headersSent) send(res, 500, `${(e as Error).message}\n`);
        else res.destroy();
      });
    },
  );
  // A scraper and a probe or two; more open connections than this is someone else.
  server.maxConnections = 64;
  server.setTimeout(15_000, (socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = server.address() as AddressInfo;
      resolve({
        address: formatListen({ host: bound.address, port: bound.port }),
        port: bound.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
