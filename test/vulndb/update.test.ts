// updateDb against a local HTTP server (node:http on 127.0.0.1) serving the govulndb folder
// zipped by Info-ZIP, and against servers that fail: 404, a connection dropped midway (with
// and without Content-Length), a stall, an HTML page. Each failure leaves the old database.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isInputError } from '../../src/model/errors.ts';
import { openVulnDb } from '../../src/vulndb/db.ts';
import { importOsv } from '../../src/vulndb/import.ts';
import { type UpdateProgress, updateDb } from '../../src/vulndb/update.ts';
import { GHSA_K3S, govulndbZip, noSharedData, noZipTool, tempDir } from './fixtures.ts';

const skip = noSharedData ?? noZipTool;
let zipBytes: Buffer;
let base = '';
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const half = zipBytes.subarray(0, zipBytes.length >> 1);
  switch (req.url) {
    case '/Go/all.zip':
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zipBytes.length });
      res.end(zipBytes);
      return;
    case '/drop':
      res.writeHead(200, { 'content-length': zipBytes.length });
      res.write(half, () => res.destroy());
      return;
    case '/drop-chunked':
      res.writeHead(200, { 'content-type': 'application/zip' }); // no length: chunked
      res.write(half, () => res.destroy());
      return;
    case '/stall':
      res.writeHead(200, { 'content-length': zipBytes.length });
      res.write(half); // then nothing, until the client gives up
      return;
    case '/html':
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Please log in to the proxy</body></html>');
      return;
    default:
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
  }
});

before(async () => {
  if (skip) return;
  zipBytes = readFileSync(govulndbZip());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** A database holding the two K3s advisories: what a failed update must leave. */
async function oldDb(): Promise<{ dir: string; path: string; bytes: Buffer }> {
  const dir = tempDir();
  const path = join(dir, 'vulndb.sqlite');
  await importOsv(path, [GHSA_K3S]);
  return { dir, path, bytes: readFileSync(path) };
}

test('downloads the Go export with progress, imports it, records the URL', { skip }, async () => {
  const { dir, path } = await oldDb();
  const progress: UpdateProgress[] = [];
  const result = await updateDb(path, { source: `${base}/Go/all.zip`, progress: (p) => progress.push(p) });
  assert.equal(result.downloadedBytes, zipBytes.length);
  assert.equal(result.records, 4291 + 2);
  const downloads = progress.filter((p) => p.phase === 'download');
  assert.ok(downloads.length > 0);
  assert.deepEqual(downloads.at(-1), { phase: 'download', bytes: zipBytes.length, total: zipBytes.length });
  assert.ok(progress.some((p) => p.phase === 'copy') && progress.at(-1)?.phase === 'commit');
  const db = openVulnDb(path);
  const status = db.status();
  assert.deepEqual(
    status.imports.map((i) => [i.source, i.kind, i.count]),
    [
      [`${base}/Go/all.zip`, 'zip', 4291],
      [GHSA_K3S, 'folder', 2],
    ],
  );
  assert.ok(db.recordsFor('Go', 'github.com/opencontainers/runc').some((r) => r.id === 'GO-2024-2491'));
  db.close();
  assert.deepEqual(readdirSync(dir), ['vulndb.sqlite']);
});

for (const [what, url, why] of [
  ['a 404', '/Go/missing.zip', /HTTP 404 Not Found/],
  ['a connection dropped midway', '/drop', /interrupted after \d+ of \d+ bytes|closed after \d+ of \d+ bytes/],
  ['a chunked download dropped midway', '/drop-chunked', /interrupted after \d+ bytes/],
  ['a stalled download', '/stall', /stalled for 300 ms/],
  ['an HTML page instead of the zip', '/html', /not a zip archive/],
] as const) {
  test(`${what}: DOWNLOAD_FAILED, the previous database still there, no temp file`, { skip }, async () => {
    const { dir, path, bytes } = await oldDb();
    await assert.rejects(updateDb(path, { source: `${base}${url}`, idleTimeoutMs: 300 }), (e: unknown) => {
      assert.ok(isInputError(e));
      assert.equal(e.code, 'DOWNLOAD_FAILED');
      assert.equal(e.file, `${base}${url}`);
      assert.match(e.message, why);
      assert.match(e.message, /the previous database is still in use/);
      return true;
    });
    assert.deepEqual(readFileSync(path), bytes);
    assert.deepEqual(readdirSync(dir), ['vulndb.sqlite']);
    const db = openVulnDb(path);
    assert.equal(db.status().records, 2);
    db.close();
  });
}

test('nobody listening: DOWNLOAD_FAILED naming the cause', { skip }, async () => {
  const { path, bytes } = await oldDb();
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  await assert.rejects(
    updateDb(path, { source: `http://127.0.0.1:${port}/Go/all.zip` }),
    (e: unknown) => isInputError(e) && e.code === 'DOWNLOAD_FAILED' && /cannot connect.*ECONNREFUSED/.test(e.message),
  );
  assert.deepEqual(readFileSync(path), bytes);
});

test('a local file or file: URL as the source', { skip }, async () => {
  const { path } = await oldDb();
  const zip = govulndbZip();
  const fromPath = await updateDb(path, { source: zip });
  assert.deepEqual([fromPath.source, fromPath.downloadedBytes, fromPath.records], [zip, undefined, 4293]);
  const fromUrl = await updateDb(path, { source: new URL(`file://${zip}`) });
  assert.deepEqual([fromUrl.replaced, fromUrl.records], [4291, 4293]);
  await assert.rejects(
    updateDb(path, { source: 'ftp://example.com/all.zip' }),
    (e: unknown) => isInputError(e) && e.code === 'USAGE',
  );
});
