// The overview's advisory counts are read from inventory_findings again only when match_runs
// changed (src/server/queries/advisory-summary.ts): they must follow every match run, and follow
// the nodes per inventory on every call, on both databases, with two Database objects (two
// replicas) on one PostgreSQL each seeing the other's match.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Database } from '../../src/server/db/database.ts';
import { openDatabase } from '../../src/server/open.ts';
import { fleetOverview } from '../../src/server/queries/index.ts';
import { freshDatabase, KINDS, postgresSkip } from './fixtures.ts';

const AT = '2026-12-01T00:00:00.000Z';

async function inventory(db: Database, digest: string): Promise<void> {
  await db.run('INSERT INTO inventories (digest, body, k3s_version, created_at) VALUES (?, ?, ?, ?)', [
    digest,
    '{}',
    'v1.31.4+k3s1',
    AT,
  ]);
}

async function node(db: Database, name: string, digest: string | null): Promise<void> {
  await db.run('INSERT INTO nodes (name, created_at, inventory_digest, last_report_id) VALUES (?, ?, ?, ?)', [
    name,
    AT,
    digest,
    digest ? `r-${name}` : null,
  ]);
}

/** A match as the monitor stores it: its findings and its match_runs row, in one transaction. */
async function matched(db: Database, digest: string, findings: Array<[string, string]>): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [vuln, severity] of findings) {
      await tx.run(
        `INSERT INTO inventory_findings (inventory_digest, vuln_id, aliases, severity, summary, component, version,
           location, artifact_digest, fixed, reachability, first_matched_at, body)
         VALUES (?, ?, '[]', ?, 's', 'github.com/opencontainers/runc', 'v1.1.0', 'bin/runc', 'sha256:a', NULL, 'unknown', ?, '{}')`,
        [digest, vuln, severity, AT],
      );
    }
    await tx.run(
      `INSERT INTO match_runs (inventory_digest, db_version, matched_at, findings, new_findings, worker)
       VALUES (?, 'v', ?, ?, ?, 'test')`,
      [digest, AT, findings.length, findings.length],
    );
  });
}

const counts = async (db: Database) => {
  const o = await fleetOverview(db, new Date(AT));
  return {
    advisories: { high: o.advisoriesBySeverity.high, medium: o.advisoriesBySeverity.medium },
    findings: { high: o.findingsBySeverity.high, medium: o.findingsBySeverity.medium },
  };
};

for (const kind of KINDS) {
  test(`${kind}: the overview's advisories follow each match run and the nodes on each inventory`, {
    skip: kind === 'postgres' ? (postgresSkip() ?? false) : false,
  }, async () => {
    const fresh = await freshDatabase(kind);
    const { db } = await openDatabase(fresh.url);
    // A second process on the same database: a replica, or the monitor of another server.
    const other = kind === 'postgres' ? (await openDatabase(fresh.url)).db : db;
    try {
      await inventory(db, 'inv-a');
      await inventory(db, 'inv-b');
      await node(db, 'n1', 'inv-a');
      await node(db, 'n2', 'inv-a');
      await node(db, 'n3', null);
      assert.deepEqual(await counts(db), { advisories: { high: 0, medium: 0 }, findings: { high: 0, medium: 0 } });

      await matched(other, 'inv-a', [
        ['GO-1', 'high'],
        ['GO-2', 'medium'],
      ]);
      assert.deepEqual(await counts(db), { advisories: { high: 1, medium: 1 }, findings: { high: 2, medium: 2 } });

      // A node moves onto inv-b, matched with one advisory inv-a has and one of its own: the
      // pairs follow at once, without a new match run.
      await matched(other, 'inv-b', [
        ['GO-1', 'high'],
        ['GO-3', 'high'],
      ]);
      await db.run("UPDATE nodes SET inventory_digest = 'inv-b' WHERE name = 'n2'");
      assert.deepEqual(await counts(db), { advisories: { high: 2, medium: 1 }, findings: { high: 3, medium: 1 } });

      // No node left on inv-a: its advisories stop counting.
      await db.run("UPDATE nodes SET inventory_digest = 'inv-b' WHERE name = 'n1'");
      assert.deepEqual(await counts(db), { advisories: { high: 2, medium: 0 }, findings: { high: 4, medium: 0 } });

      // A re-match that drops GO-3 from inv-b.
      await other.transaction(async (tx) => {
        await tx.run("DELETE FROM inventory_findings WHERE inventory_digest = 'inv-b' AND vuln_id = 'GO-3'");
        await tx.run(
          `INSERT INTO match_runs (inventory_digest, db_version, matched_at, findings, new_findings, worker)
           VALUES ('inv-b', 'w', ?, 1, 0, 'test')`,
          [AT],
        );
      });
      assert.deepEqual(await counts(db), { advisories: { high: 1, medium: 0 }, findings: { high: 2, medium: 0 } });
    } finally {
      if (other !== db) await other.close();
      await db.close();
    }
  });
}
