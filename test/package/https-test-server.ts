// An HTTPS server on 127.0.0.1 whose certificate (made by openssl for this run, for the IP
// 127.0.0.1) no CA bundle trusts: a client that completes the handshake has been told to trust
// exactly this certificate. It answers every request 404, so the client's error says which
// happened: a certificate error, or `HTTP 404` after a handshake that succeeded.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { loopbackCertificate } from '../fixtures/loopback-cert.ts';

export interface TestHttpsServer {
  url: string;
  /** The server's self-signed certificate (PEM): a CA file that trusts it. */
  certFile: string;
  close(): Promise<void>;
}

export async function httpsTestServer(dir: string): Promise<TestHttpsServer> {
  const { cert: certFile, key: keyFile } = loopbackCertificate(dir, {
    cert: 'server.crt',
    key: 'server.key',
    subject: 'k3sguard test server',
  });
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
