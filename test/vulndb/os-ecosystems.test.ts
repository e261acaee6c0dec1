// The database with Debian, Ubuntu and Alpine records: `db import` of the real records (as OSV's
// per-ecosystem all.zip lays them out), lookups by release ecosystem, and `db update` fetching
// several ecosystems' exports from a local server in one all-or-nothing import.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { isInputError } from '../../src/model/errors.ts';
import { matchRecords } from '../../src/scan/match.ts';
import { openVulnDb } from '../../src/vulndb/db.ts';
import { importOsv } from '../../src/vulndb/import.ts';
import { OSV_GO_ALL_ZIP, osvEcosystemZip, updateDb } from '../../src/vulndb/update.ts';
import { storedZip } from '../fixtures/zipwriter.ts';
import { RECORD_TEXTS } from '../scan/os-records.ts';
import { tempDir } from './fixtures.ts';

const zipOf = (ids: string[]): Buffer =>
  storedZip(ids.map((id) => ({ name: `${id}.json`, data: Buffer.from((RECORD_TEXTS[id] as { text: string }).text) })));

test('per-ecosystem export URLs', () => {
  assert.equal(OSV_GO_ALL_ZIP, 'https://osv-vulnerabilities.storage.googleapis.com/Go/all.zip');
  assert.equal(osvEcosystemZip('Debian'), 'https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip');
  assert.equal(osvEcosystemZip('Alpine', 'http://mirror/osv/'), 'http://mirror/osv/Alpine/all.zip');
});

test('db import takes Debian, Ubuntu and Alpine records; a scan finds them by release ecosystem', async () => {
  const dir = tempDir();
  const zip = join(dir, 'all.zip');
  writeFileSync(zip, zipOf(Object.keys(RECORD_TEXTS)));
  const db = join(dir, 'vulndb.sqlite');
  const r = await importOsv(db, [zip]);
  assert.equal(r.records, Object.keys(RECORD_TEXTS).length);
  assert.equal(r.skipped, 0);
  const handle = openVulnDb(db);
  try {
    assert.deepEqual(
      handle.recordsFor('Alpine:v3.20', 'musl').map((x) => x.id),
      ['ALPINE-CVE-2025-26519'],
    );
    assert.deepEqual(handle.recordsFor('Alpine:v3.15', 'musl'), []);
    assert.deepEqual(
      handle.recordsFor('Ubuntu:22.04:LTS', 'coreutils').map((x) => x.id),
      ['USN-8697-1'],
    );
    const status = handle.status();
    assert.equal(status.ecosystems['Debian:9'], 3);
    assert.equal(status.ecosystems['Alpine:v3.24'], 1);
    const findings = matchRecords(
      {
        type: 'os-package',
        ref: 'musl',
        name: 'musl',
        version: '1.2.5-r0',
        manager: 'apk',
        arch: 'x86_64',
        source: { name: 'musl', version: '1.2.5-r0' },
        distro: { id: 'alpine', versionId: '3.20.3' },
        db: '/lib/apk/db/installed',
        location: ['musl'],
      },
      (eco, name) => handle.recordsFor(eco, name),
    );
    assert.deepEqual(
      findings.map((f) => [f.id, f.vulnerability?.fixed]),
      [['ALPINE-CVE-2025-26519', '1.2.5-r1']],
    );
  } finally {
    handle.close();
  }
});

test('db update of several ecosystems: all downloaded, then one import; one failure leaves the old database', async () => {
  const exports: Record<string, Buffer> = {
    '/Debian/all.zip': zipOf(['DLA-3008-1', 'DLA-3022-1', 'DLA-3051-1', 'DSA-1819-1']),
    '/Alpine/all.zip': zipOf(['ALPINE-CVE-2025-26519']),
  };
  const server = createServer((req, res) => {
    const body = exports[req.url ?? ''];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const dir = tempDir();
    const db = join(dir, 'vulndb.sqlite');
    const r = await updateDb(db, { ecosystems: ['Debian', 'Alpine'], exportBase: base });
    assert.equal(r.records, 5);
    assert.equal(r.sources.length, 2);
    assert.equal(r.source, `${base}/Debian/all.zip, ${base}/Alpine/all.zip`);
    assert.equal(
      r.downloadedBytes,
      (exports['/Debian/all.zip'] as Buffer).length + (exports['/Alpine/all.zip'] as Buffer).length,
    );
    // Ubuntu is not served: the whole update fails and the five records stay, alone.
    await assert.rejects(
      updateDb(db, { ecosystems: ['Alpine', 'Ubuntu'], exportBase: base }),
      (e: unknown) => isInputError(e) && e.code === 'DOWNLOAD_FAILED',
    );
    const handle = openVulnDb(db);
    try {
      assert.equal(handle.status().records, 5);
      assert.equal(handle.status().imports.length, 2, 'the first update only');
    } finally {
      handle.close();
    }
    await assert.rejects(
      updateDb(db, { ecosystems: ['Debain'], exportBase: base }),
      (e: unknown) => isInputError(e) && e.code === 'USAGE' && /Debian/.test(e.message),
    );
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
