// An HTTPS server on 127.0.0.1 whose certificate (made by openssl for this run, for the IP
// 127.0.0.1) no CA bundle trusts: a client that completes the handshake has been told to trust
// exactly this certificate. It answers every request 404, so the client's error says which
// happened: a certificate error, or `HTTP 404` after a handshake that succeeded.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface TestHttpsServer {
  url: string;
  /** The server's self-signed certificate (PEM): a CA file that trusts it. */
  certFile: string;
  close(): Promise<void>;
}

export async function httpsTestServer(dir: string): Promise<TestHttpsServer> {
  const keyFile = join(dir, 'server.key');
  const certFile = join(dir, 'server.crt');
  // openssl's own defaults make it a CA certificate too, so a CA file of it alone trusts it.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=k3sguard test server',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  const server = createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (_req, res) => {
    res.statusCode = 404;
    res.end('not here\n');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    certFile,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
