// `kill -9` of the server during a burst of ingests, on SQLite and on PostgreSQL: every report
// the server acknowledged is there after a restart, nothing is half-written (each stored report
// has its inventory, each node its latest report and exactly that report's findings), and the
// reports nobody heard back about, sent again, are stored once. The burst is bounded in count
// and time; the server runs as a real `k3sguard server` process, stopped by its PID.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openDatabase } from '../../src/server/open.ts';
import { Store } from '../../src/server/store.ts';
import { asNode, count, freshDatabase, idOf, KINDS, post, postgresSkip, realReport } from './fixtures.ts';
import { startServerProcess } from './server-process.ts';

const STREAMS = 4;
const PER_STREAM = 60;
const KILL_AFTER_ACKS = 40;

for (const kind of KINDS) {
  const skip = kind === 'postgres' ? postgresSkip() : undefined;
  describe(`crash on ${kind}`, { skip: skip ?? false }, () => {
    test('kill -9 during a burst: every acknowledged report survives, nothing half-written, a re-send stores each once', async (t) => {
      const made = await realReport();
      if ('skip' in made) return t.skip(made.skip);
      const fresh = await freshDatabase(kind);
      const tokens: string[] = [];
      {
        const { db } = await openDatabase(fresh.url);
        const store = new Store(db);
        for (let s = 0; s < STREAMS; s++) tokens.push((await store.createToken(`crash-${s}`)).token);
        await db.close();
      }
      const message = (s: number, i: number) => {
        const r = asNode(made.report, s, new Date(Date.UTC(2026, 11, 3, 12, 0, i)).toISOString());
        // Every other check finds nothing: the node's findings change with each report.
        if (i % 2 === 1) r.findings = [];
        return { id: idOf(`crash-${s}-${i}`), body: JSON.stringify(r) };
      };

      const server = await startServerProcess(['--db', fresh.text, '--rate-limit', '100000']);
      const acked = new Set<string>();
      let killed: Promise<void> | undefined;
      const stream = async (s: number) => {
        for (let i = 0; i < PER_STREAM; i++) {
          const { id, body } = message(s, i);
          try {
            const res = await post(server.url, '/api/v1/reports', { token: tokens[s], id, body });
            if (res.status !== 201 && res.status !== 200)
              throw new Error(`HTTP ${res.status} ${JSON.stringify(res.body)}`);
            acked.add(id);
          } catch (e) {
            if (killed) return; // the server is gone: this one was never acknowledged
            throw e;
          }
          if (acked.size >= KILL_AFTER_ACKS && !killed) killed = server.kill9();
        }
      };
      await Promise.all(Array.from({ length: STREAMS }, (_, s) => stream(s)));
      assert.ok(killed, 'the server was killed during the burst');
      await killed;
      assert.ok(acked.size >= KILL_AFTER_ACKS && acked.size < STREAMS * PER_STREAM, `${acked.size} acknowledged`);

      // Restarted on the same database: no migration to run, every acknowledged report there.
      const again = await startServerProcess(['--db', fresh.text, '--rate-limit', '100000']);
      t.after(() => again.stop());
      assert.doesNotMatch(again.stderr(), /schema migrated/);
      const { db } = await openDatabase(fresh.url);
      t.after(() => db.close());
      const stored = new Set((await db.all<{ id: string }>('SELECT id FROM reports')).map((r) => r.id));
      t.diagnostic(`${acked.size} acknowledged before kill -9, ${stored.size} stored`);
      for (const id of acked) assert.ok(stored.has(id), `acknowledged report ${id} is stored`);
      assert.equal(
        await count(db, 'reports', 'WHERE inventory_digest NOT IN (SELECT digest FROM inventories)'),
        0,
        'every report has its inventory',
      );
      assert.equal(await count(db, 'inventories'), 1, 'one inventory for all of them');
      const nodes = await db.all<{ id: number; last_report_id: string | null; findings: number }>(
        "SELECT id, last_report_id, findings FROM nodes WHERE name LIKE 'crash-%'",
      );
      for (const n of nodes) {
        if (n.last_report_id === null) continue;
        assert.ok(stored.has(n.last_report_id), 'a node points at a stored report');
        const [latest] = await db.all<{ findings: number }>('SELECT findings FROM reports WHERE id = ?', [
          n.last_report_id,
        ]);
        assert.equal(n.findings, latest?.findings);
        assert.equal(
          await count(db, 'node_findings', `WHERE node_id = ${n.id}`),
          n.findings,
          'its findings are those of that report',
        );
        assert.equal(
          await count(db, 'node_findings', `WHERE node_id = ${n.id} AND report_id <> '${n.last_report_id}'`),
          0,
        );
      }
      if (kind === 'sqlite') {
        assert.deepEqual(await db.all('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
        assert.deepEqual(await db.all('PRAGMA foreign_key_check'), []);
      }

      // The agent sends again what it heard nothing back about: stored once, acknowledged ones 200.
      for (let s = 0; s < STREAMS; s++) {
        for (let i = 0; i < PER_STREAM; i++) {
          const { id, body } = message(s, i);
          const res = await post(again.url, '/api/v1/reports', { token: tokens[s], id, body });
          if (acked.has(id) || stored.has(id)) assert.equal(res.status, 200, `re-sent ${id}`);
          else assert.equal(res.status, 201, `first arrival of ${id}`);
        }
      }
      assert.equal(await count(db, 'reports'), STREAMS * PER_STREAM);
    });
  });
}
