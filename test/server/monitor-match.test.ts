// The server matches what `scan` matches: the component summary a real agent put in its report,
// rebuilt on the server side, gives the same vulnerability findings (ids, modules, versions,
// fixes, binaries) as scan's matcher over the inventory `inspect` builds from the binary itself,
// with the real Go vulndb. And the summary's `components` rows hold every module of it.
// rematchAll (the load bench's entry) on both databases.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildInventory } from '../../src/inventory/build.ts';
import { componentsFromSummary, summarizeComponents } from '../../src/inventory/report-components.ts';
import type { ReportComponents } from '../../src/model/report-components.ts';
import { matchRecords } from '../../src/scan/match.ts';
import { componentRows } from '../../src/server/artifact-components.ts';
import { matchInventory } from '../../src/server/monitor/match-inventory.ts';
import { rematchAll } from '../../src/server/monitor/match-queue.ts';
import { openDatabase } from '../../src/server/open.ts';
import { type ReportDocument, Store } from '../../src/server/store.ts';
import { openVulnDb } from '../../src/vulndb/db.ts';
import { tempDir } from '../cli/run.ts';
import { k3sShaped } from '../fixtures/k3s-shaped.ts';
import { asNode, freshDatabase, idOf, KINDS, postgresSkip, type Report, realReport } from './fixtures.ts';
import { ADDED_ADVISORY, importDb, recordDirs } from './monitor-fixtures.ts';

test('the summary in a real report matches as the binary does in scan', async (t) => {
  const dirs = recordDirs();
  if ('skip' in dirs) return t.skip(dirs.skip);
  const k3s = await k3sShaped('good');
  if ('skip' in k3s) return t.skip(k3s.skip);
  const made = await realReport();
  if ('skip' in made) return t.skip(made.skip);
  const entry = Object.entries(made.report.inventory).find(([, e]) => (e as { kind: string }).kind === 'k3s-binary');
  assert.ok(entry, 'the report has its k3s binary');
  const [digest, k3sEntry] = entry as [string, { names: string[]; bundle?: string; components?: ReportComponents }];
  const summary = k3sEntry.components;
  assert.ok(summary, 'the k3s-binary entry carries its components');
  assert.deepEqual(
    summary.binaries.map((b) => b.path),
    ['', 'bin/aux/lefthook', 'bin/containerd-shim-runc-v2', 'bin/k3s', 'bin/runc'],
  );

  const file = join(tempDir(t), 'vulndb.sqlite');
  importDb(file, dirs.full);
  const vulndb = openVulnDb(file);
  t.after(() => vulndb.close());

  const inventory = await buildInventory(k3s.path);
  // What the agent would summarize from the same inventory is what it sent.
  assert.deepEqual(summarizeComponents(inventory.root), summary);
  // Bounded: at most `limit` modules in all (one per binary for its stdlib), then `truncated`.
  const size = (c: ReportComponents) =>
    c.binaries.reduce((n, b) => n + 1 + (b.main ? 1 : 0) + (b.modules?.length ?? 0), 0);
  assert.equal(summary.truncated, undefined);
  for (const limit of [1, 2, 7, size(summary) - 1]) {
    const cut = summarizeComponents(inventory.root, limit);
    assert.equal(cut.truncated, true, `limit ${limit}`);
    assert.ok(size(cut) <= limit && size(cut) >= limit - 1, `limit ${limit}: ${size(cut)}`);
  }
  assert.deepEqual(summarizeComponents(inventory.root, size(summary)), summary);
  const scanned = matchRecords(
    inventory.root,
    (e, n) => vulndb.recordsFor(e, n),
    (ids) => vulndb.recordsOfVulnerability(ids),
  );
  const served = matchInventory(
    [{ digest, names: k3sEntry.names, ...(k3sEntry.bundle ? { bundle: k3sEntry.bundle } : {}), components: summary }],
    vulndb,
  );
  // The scan's location names the bundle; the server's says which binary: `k3s > bin/k3s`.
  const where = (location: readonly string[]) =>
    ['k3s', ...location.slice(1).filter((l) => !l.startsWith('bundle:'))].join(' > ');
  const key = (id: string, module: string, version: string, location: string, fixed?: string, severity?: string) =>
    `${id} ${module}@${version} in ${location} fixed ${fixed ?? '-'} ${severity}`;
  const fromScan = scanned
    .map((f) =>
      key(
        f.id,
        f.vulnerability?.module ?? '',
        f.vulnerability?.version ?? '',
        where(f.location),
        f.vulnerability?.fixed,
        f.severity,
      ),
    )
    .sort();
  const fromServer = served
    .map((f) => key(f.vulnId, f.component, f.version, f.location, f.fixed ?? undefined, f.severity))
    .sort();
  assert.ok(fromScan.length > 100, `the old Go of the fixture has many stdlib findings (${fromScan.length})`);
  assert.deepEqual(fromServer, fromScan);
  assert.ok(
    served.some(
      (f) =>
        f.vulnId === 'GO-2024-2491' &&
        f.component === 'github.com/opencontainers/runc' &&
        f.location === 'k3s > bin/k3s',
    ),
  );

  // The components rows: modules as built, forks' upstreams, stdlib per binary, the K3s release.
  const rows = componentRows(summary);
  const has = (name: string, location: string) => rows.some((r) => r.name === name && r.location === location);
  assert.ok(has('github.com/opencontainers/runc', 'bin/k3s'));
  assert.ok(has('stdlib', 'bin/runc'));
  assert.ok(has('stdlib', ''));
  assert.ok(has('k8s.io/kubernetes', 'bin/k3s'), 'the upstream of the kubernetes fork');
  assert.ok(has('github.com/k3s-io/kubernetes', 'bin/k3s'), 'the fork as built');
  assert.ok(rows.some((r) => r.name === 'github.com/k3s-io/k3s' && r.location === '' && r.version === k3s.version));
  // Rebuilding keeps every module of the summary.
  const tree = componentsFromSummary(summary, 'k3s', k3sEntry.bundle);
  assert.equal(tree.location.join(), 'k3s');
});

for (const kind of KINDS) {
  test(`${kind}: rematchAll; an inventory matched before its binary's components were known is matched again when they arrive; no notification for an inventory no node runs`, {
    skip: kind === 'postgres' ? (postgresSkip() ?? false) : false,
  }, async (t) => {
    const dirs = recordDirs();
    if ('skip' in dirs) return t.skip(dirs.skip);
    const made = await realReport();
    if ('skip' in made) return t.skip(made.skip);
    const file = join(tempDir(t), 'vulndb.sqlite');
    importDb(file, dirs.without);
    const older = openVulnDb(file);
    t.after(() => older.close());
    const fresh = await freshDatabase(kind);
    const { db } = await openDatabase(fresh.url);
    t.after(() => db.close());
    const store = new Store(db);
    const ingest = async (node: string, report: Report) => {
      const caller = await store.authenticate((await store.createToken(node)).token);
      assert.ok(caller);
      const text = JSON.stringify(report);
      const r = await store.ingestReport(
        caller,
        idOf(`${node}${text}`),
        report as unknown as ReportDocument,
        idOf(text),
      );
      assert.equal(r.kind, 'stored');
    };
    // An agent that sends no summary (an older one): the inventory matches nothing.
    const bare = structuredClone(made.report);
    for (const entry of Object.values(bare.inventory) as Array<{ components?: unknown }>) delete entry.components;
    await ingest('old-agent', bare);
    const first = await rematchAll(db, older);
    assert.deepEqual([first.inventories, first.matched, first.findings], [1, 1, 0]);
    // A node that sends it: its inventory, and the one that holds the same binary, are matched.
    await ingest('new-agent', asNode(made.report, 2));
    const second = await rematchAll(db, older);
    assert.deepEqual([second.inventories, second.matched], [2, 2]);
    assert.ok(second.findings > 200, `${second.findings} findings`);
    const perInventory = await db.all<{ n: number }>(
      'SELECT COUNT(*) AS n FROM inventory_findings GROUP BY inventory_digest ORDER BY inventory_digest',
    );
    assert.equal(perInventory.length, 2);
    assert.equal(Number(perInventory[0]?.n), Number(perInventory[1]?.n));
    assert.equal(second.newFindings, second.findings, 'every finding is new to both');
    // Matched with this database: nothing to do.
    assert.equal((await rematchAll(db, older)).matched, 0);

    // The old agent is upgraded: both nodes run the second inventory, none the first.
    const later = new Date(Date.parse(made.report.check.finishedAt) + 60_000).toISOString();
    await ingest('old-agent', asNode(made.report, 3, later));
    importDb(file, dirs.full);
    const vulndb = openVulnDb(file);
    t.after(() => vulndb.close());
    const third = await rematchAll(db, vulndb, { notify: true });
    assert.deepEqual(
      [third.matched, third.newFindings, third.notifications],
      [2, 2, 1],
      'the new advisory on both inventories, announced for the one nodes run',
    );
    const [note] = await db.all<{ body: string }>('SELECT body FROM notifications');
    const body = JSON.parse(note?.body as string);
    assert.equal(body.advisory.id, ADDED_ADVISORY);
    assert.deepEqual(
      body.nodes.map((n: { name: string }) => n.name),
      ['new-agent', 'old-agent'],
    );
    const forced = await rematchAll(db, vulndb, { force: true });
    assert.deepEqual([forced.matched, forced.newFindings, forced.findings], [2, 0, third.findings]);
    t.diagnostic(`rematchAll of 2 inventories (${forced.findings} findings) on ${kind}: ${forced.ms} ms`);

    // The database changes what it says of an advisory (a later import of the record wins): the
    // rows follow it, as the same findings (not new ones), first matched when they were.
    const firstSeen = await db.all(
      'SELECT first_matched_at FROM inventory_findings WHERE vuln_id = ? ORDER BY inventory_digest',
      [ADDED_ADVISORY],
    );
    assert.equal(firstSeen.length, 2);
    const changed = join(tempDir(t), 'changed');
    mkdirSync(changed);
    const record = JSON.parse(readFileSync(join(dirs.full, `${ADDED_ADVISORY}.json`), 'utf8'));
    record.summary = 'Changed summary of the runc advisory';
    writeFileSync(join(changed, `${ADDED_ADVISORY}.json`), JSON.stringify(record));
    importDb(file, changed);
    const updated = openVulnDb(file);
    t.after(() => updated.close());
    const fourth = await rematchAll(db, updated);
    assert.deepEqual([fourth.matched, fourth.newFindings, fourth.findings], [2, 0, third.findings]);
    const rows = await db.all<{ summary: string; first_matched_at: string }>(
      'SELECT summary, first_matched_at FROM inventory_findings WHERE vuln_id = ? ORDER BY inventory_digest',
      [ADDED_ADVISORY],
    );
    assert.deepEqual(
      rows.map((r) => r.summary),
      [record.summary, record.summary],
    );
    assert.deepEqual(
      rows.map((r) => ({ first_matched_at: r.first_matched_at })),
      firstSeen,
    );
  });
}
