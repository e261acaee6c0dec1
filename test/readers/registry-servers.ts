// Small loopback servers for the registry client tests, in-process: one that answers as a test
// scripts it (a hostile registry, a token service), one that forwards to a real registry and
// logs every request it passes on (to see that a cached answer made none), and one that
// accepts connections and never answers. Each records what it was asked and is closed by the
// test (connections included, so nothing lingers).

import { readFileSync } from 'node:fs';
import { createServer as httpServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { createServer as httpsServer } from 'node:https';
import { createServer as netServer, type Socket } from 'node:net';

export interface LoopbackServer {
  /** `127.0.0.1:<port>` */
  host: string;
  /** `METHOD path` of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, server: LoopbackServer) => void;

function listen(server: Server, requests: string[], sockets: Set<Socket>): Promise<LoopbackServer> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({
        host: `127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** An http (or, given a certificate, https) server answering with `handler`. */
export async function startScripted(
  handler: Handler,
  tls?: { certFile: string; keyFile: string },
): Promise<LoopbackServer> {
  const requests: string[] = [];
  let self: LoopbackServer | undefined;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res, self as LoopbackServer);
  };
  const server = tls
    ? httpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, onRequest)
    : httpServer(onRequest);
  self = await listen(server as Server, requests, new Set());
  return self;
}

/** Forwards every request to the registry at `target` (plain http) and logs it. */
export function startCountingProxy(target: string): Promise<LoopbackServer> {
  const [hostname, port] = target.split(':');
  return startScripted((req, res) => {
    const up = request(
      { hostname, port: Number(port), path: req.url, method: req.method, headers: { ...req.headers, host: target } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
}

/** Accepts connections and never says a word. */
export async function startSilent(): Promise<LoopbackServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = netServer((s) => {
    requests.push('connection');
    s.on('error', () => {});
  });
  return listen(server as unknown as Server, requests, sockets);
}
