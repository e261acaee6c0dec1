// What the vulnerability-monitoring tests share: vulnerability databases built by the real
// `k3sguard db import` from the real Go vulndb of ../shared/data (one without the runc advisory
// the K3s-shaped fixture is hit by, so adding it is "a db update brings a new advisory"), and a
// real HTTP receiver of notifications on loopback.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { Condition } from '../agent/condition.ts';
import { k3sguard } from '../cli/run.ts';
import { GOVULNDB, noSharedData } from '../vulndb/fixtures.ts';

/** runc's CVE-2024-21626: the inner k3s of the fixture builds github.com/opencontainers/runc below its fix. */
export const ADDED_ADVISORY = 'GO-2024-2491';

const work = mkdtempSync(join(tmpdir(), 'k3sguard-monitor-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

let dirs: { without: string; full: string } | { skip: string } | undefined;

/** The Go vulndb records as folders: all of them, and all but ADDED_ADVISORY. */
export function recordDirs(): { without: string; full: string } | { skip: string } {
  if (dirs) return dirs;
  if (noSharedData) {
    dirs = { skip: noSharedData };
    return dirs;
  }
  const without = join(work, 'govulndb-without');
  cpSync(GOVULNDB, without, { recursive: true, filter: (src) => !src.endsWith(`${ADDED_ADVISORY}.json`) });
  if (existsSync(join(without, `${ADDED_ADVISORY}.json`))) throw new Error('filter failed');
  dirs = { without, full: GOVULNDB };
  return dirs;
}

/** `k3sguard db import --db FILE DIR`, the real command: the database file is replaced whole. */
export function importDb(file: string, dir: string): void {
  const r = k3sguard(['db', 'import', '--db', file, dir]);
  if (r.code !== 0) throw new Error(`db import exited ${r.code}: ${r.stderr}`);
}

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** What the receiver answered (0: it never answered). */
  readonly status: number;
}

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Resolves once `match` accepts the requests so far (bounded). */
  until(match: (r: readonly Received[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1; `answer(n)` gives the status of the n-th request (0-based),
 * or 'hang' to never answer it (the connection is dropped at close).
 */
export async function startReceiver(answer: (n: number) => number | 'hang'): Promise<Receiver> {
  const received: Received[] = [];
  const changed = new Condition();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const a = answer(received.length);
      received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status: a === 'hang' ? 0 : a,
      });
      changed.notify();
      if (a === 'hang') return;
      res.writeHead(a, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    until: (match, what, timeoutMs = 120_000) => changed.until(() => match(received), what, timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
