// The database on the real records: the Go vulndb (4,291 GO-*.json) and the two GitHub
// advisories for K3s. Expected values are computed from the files themselves, independently
// of the database, except the ids the issue names.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { before, test } from 'node:test';
import { isInputError } from '../../src/model/errors.ts';
import { defaultVulnDbPath, openVulnDb, type VulnDb } from '../../src/vulndb/db.ts';
import { importOsv } from '../../src/vulndb/import.ts';
import type { OsvRecord } from '../../src/vulndb/osv.ts';
import { GHSA_K3S, GOVULNDB, noSharedData, tempDir } from './fixtures.ts';

const skip = noSharedData;
let db: VulnDb;
const files: OsvRecord[] = [];

/** For each (ecosystem/name), the ids of the records naming it, straight from the files. */
function expectedIndex(records: OsvRecord[]): Map<string, string[]> {
  const index = new Map<string, Set<string>>();
  for (const r of records)
    for (const a of r.affected ?? []) {
      if (!a.package) continue;
      const key = `${a.package.ecosystem}/${a.package.name}`;
      index.set(key, (index.get(key) ?? new Set()).add(r.id));
    }
  return new Map([...index].map(([k, ids]) => [k, [...ids].sort()]));
}

before(async () => {
  if (skip) return;
  for (const dir of [GOVULNDB, GHSA_K3S])
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')))
      files.push(JSON.parse(readFileSync(join(dir, f), 'utf8')) as OsvRecord);
  const path = join(tempDir(), 'vulndb.sqlite');
  await importOsv(path, [GOVULNDB, GHSA_K3S]);
  db = openVulnDb(path);
});

test('every record is stored; withdrawn ones are kept and flagged', { skip }, () => {
  const status = db.status();
  assert.equal(status.records, files.length);
  assert.equal(status.records, 4291 + 2);
  assert.equal(status.withdrawn, files.filter((r) => r.withdrawn).length);
  assert.equal(status.withdrawn, 17);
  assert.deepEqual(status.ecosystems, { Go: files.length });
  assert.deepEqual(
    status.imports.map((i) => [i.source, i.kind, i.count, i.skipped, i.newestModified]),
    [
      [GHSA_K3S, 'folder', 2, 0, '2025-05-05T21:57:30Z'],
      [GOVULNDB, 'folder', 4291, 0, null], // the Go vulndb dump carries zero dates only
    ],
  );
  const withdrawn = files.find((r) => r.withdrawn);
  assert.ok(withdrawn);
  assert.equal(db.record(withdrawn.id)?.withdrawn, withdrawn.withdrawn);
  const module = withdrawn.affected?.[0]?.package?.name as string;
  assert.ok(db.recordsFor('Go', module).some((r) => r.id === withdrawn.id && r.withdrawn));
});

test('records come back as they were written', { skip }, () => {
  for (const r of files) assert.deepEqual(db.record(r.id), r, r.id);
  assert.equal(db.record('GO-1999-0000'), undefined);
});

test('runc has GO-2024-2491, one vulnerability with CVE-2024-21626 and GHSA-xr7r-f8xq-vfvv', { skip }, () => {
  const runc = db.recordsFor('Go', 'github.com/opencontainers/runc');
  assert.deepEqual(
    runc.map((r) => r.id),
    expectedIndex(files).get('Go/github.com/opencontainers/runc'),
  );
  const rec = runc.find((r) => r.id === 'GO-2024-2491');
  assert.ok(rec);
  assert.deepEqual(rec.affected?.[0]?.ranges?.[0]?.events, [{ introduced: '1.0.0-rc93' }, { fixed: '1.1.12' }]);
  assert.deepEqual(db.aliasesOf('GO-2024-2491'), ['CVE-2024-21626', 'GHSA-xr7r-f8xq-vfvv']);
  // From any of its ids, the others.
  assert.deepEqual(db.aliasesOf('CVE-2024-21626'), ['GHSA-xr7r-f8xq-vfvv', 'GO-2024-2491']);
  assert.deepEqual(db.aliasesOf('GO-1999-0000'), []);
});

test('stdlib and toolchain are pseudo-modules with their own records', { skip }, () => {
  const index = expectedIndex(files);
  const stdlib = db.recordsFor('Go', 'stdlib');
  assert.deepEqual(
    stdlib.map((r) => r.id),
    index.get('Go/stdlib'),
  );
  assert.equal(stdlib.length, 167);
  assert.equal(db.recordsFor('Go', 'toolchain').length, 32);
  assert.ok(stdlib.every((r) => r.affected?.some((a) => a.package?.name === 'stdlib')));
});

test('K3s: the Go vulndb records and the GitHub advisories, merged by alias', { skip }, () => {
  const k3s = db.recordsFor('Go', 'github.com/k3s-io/k3s');
  const ids = k3s.map((r) => r.id);
  for (const id of ['GO-2025-3646', 'GO-2026-5973', 'GHSA-864f-7xjm-2jp2', 'GHSA-m4hf-6vgr-75r2'])
    assert.ok(ids.includes(id), id);
  assert.deepEqual(ids, expectedIndex(files).get('Go/github.com/k3s-io/k3s'));
  assert.deepEqual(db.aliasesOf('GO-2025-3646'), ['CVE-2025-46599', 'GHSA-864f-7xjm-2jp2']);
  assert.deepEqual(db.aliasesOf('GHSA-864f-7xjm-2jp2'), ['CVE-2025-46599', 'GO-2025-3646']);
  // The records of one vulnerability by any of its ids (what rates a GO- record: scan/match.ts).
  for (const id of ['GO-2025-3646', 'CVE-2025-46599'])
    assert.deepEqual(
      db.recordsOfVulnerability([id]).map((r) => r.id),
      ['GHSA-864f-7xjm-2jp2', 'GO-2025-3646'],
    );
  const ghsa = k3s.find((r) => r.id === 'GHSA-m4hf-6vgr-75r2');
  assert.equal(ghsa?.severity?.[0]?.type, 'CVSS_V3');
  assert.equal(ghsa?.affected?.length, 5); // one entry per release line
});

test('allPackageNames and recordsForMany agree with recordsFor and with the files', { skip }, () => {
  const index = expectedIndex(files);
  const names = db.allPackageNames('Go');
  assert.deepEqual([...names].sort(), [...index.keys()].map((k) => k.slice('Go/'.length)).sort());
  const many = db.recordsForMany('Go', [...names, 'example.com/not-vulnerable']);
  assert.equal(many.size, names.size);
  assert.equal(many.has('example.com/not-vulnerable'), false);
  for (const name of names) {
    assert.deepEqual(
      many.get(name)?.map((r) => r.id),
      index.get(`Go/${name}`),
      name,
    );
    assert.deepEqual(
      db.recordsFor('Go', name).map((r) => r.id),
      index.get(`Go/${name}`),
    );
  }
  // A record naming two modules is one object in both lists.
  const twoNames = files.find((r) => new Set(r.affected?.map((a) => a.package?.name)).size > 1);
  const [first, second] = [...new Set(twoNames?.affected?.map((a) => a.package?.name as string))];
  assert.ok(twoNames && first && second, 'the Go vulndb has records naming two modules');
  const fromFirst = many.get(first)?.find((r) => r.id === twoNames.id);
  assert.ok(fromFirst);
  assert.equal(
    fromFirst,
    many.get(second)?.find((r) => r.id === twoNames.id),
  );
  assert.equal(db.recordsForMany('npm', names).size, 0);
  assert.equal(db.recordsForMany('Go', []).size, 0);
});

test('status: age from the last import, a warning past 7 days', { skip }, () => {
  const fresh = db.status();
  assert.equal(fresh.stale, false);
  assert.deepEqual(fresh.warnings, []);
  assert.equal(fresh.newestModified, '2025-05-05T21:57:30Z');
  const imported = Date.parse(fresh.lastImportAt as string);
  assert.equal(db.status(new Date(imported + 6.9 * 86_400_000)).stale, false);
  const old = db.status(new Date(imported + 8 * 86_400_000));
  assert.equal(old.ageDays, 8);
  assert.equal(old.stale, true);
  assert.match(old.warnings.join('\n'), /imported 8 days ago.*k3sguard db update/);
});

test('no database: NO_DB, and the message says how to get one', () => {
  const path = join(tempDir(), 'none.sqlite');
  assert.throws(
    () => openVulnDb(path),
    (e: unknown) =>
      isInputError(e) &&
      e.code === 'NO_DB' &&
      e.file === path &&
      e.message.includes(`k3sguard db update --db ${path}`) &&
      e.message.includes(`k3sguard db import --db ${path} PATH`),
  );
});

test('a file that is not our database: DB_INVALID', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'text.sqlite'), 'hello, not a database at all, but long enough to have a header'.repeat(20));
  const other = new DatabaseSync(join(dir, 'other.sqlite'));
  other.exec('CREATE TABLE t (x)');
  other.close();
  for (const f of ['text.sqlite', 'other.sqlite'])
    assert.throws(
      () => openVulnDb(join(dir, f)),
      (e: unknown) => isInputError(e) && e.code === 'DB_INVALID',
    );
});

test('the default path is in the user cache dir', () => {
  assert.equal(defaultVulnDbPath({ XDG_CACHE_HOME: '/xdg' }), '/xdg/k3sguard/vulndb.sqlite');
  assert.match(defaultVulnDbPath({}), /\/\.cache\/k3sguard\/vulndb\.sqlite$/);
});
