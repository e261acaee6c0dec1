// Migrations: a fresh database gets the whole schema once; replicas that start together on one
// PostgreSQL run each migration once (the advisory lock), and a later start changes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/server/db/migrations.ts';
import { openDatabase } from '../../src/server/open.ts';
import { count, freshDatabase, KINDS, postgresSkip } from './fixtures.ts';

const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);

test('every migration is numbered in order from 1, and the schema version is the last', () => {
  assert.deepEqual(
    MIGRATIONS.map((m) => m.version),
    MIGRATIONS.map((_, i) => i + 1),
  );
  assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
});

for (const kind of KINDS) {
  test(`${kind}: a second start is a no-op`, {
    skip: kind === 'postgres' ? (postgresSkip() ?? false) : false,
  }, async () => {
    const fresh = await freshDatabase(kind);
    const first = await openDatabase(fresh.url);
    assert.deepEqual(first.applied, ALL_VERSIONS);
    const ledger = 'SELECT version, applied_at FROM schema_migrations ORDER BY version';
    const applied = await first.db.all(ledger);
    await first.db.close();
    const second = await openDatabase(fresh.url);
    assert.deepEqual(second.applied, []);
    assert.deepEqual(await second.db.all(ledger), applied);
    await second.db.close();
  });
}

test('postgres: four replicas starting together migrate once', { skip: postgresSkip() ?? false }, async () => {
  const fresh = await freshDatabase('postgres');
  const opened = await Promise.all(Array.from({ length: 4 }, () => openDatabase(fresh.url)));
  try {
    // Each migration by one of them (not necessarily all by the same one).
    assert.deepEqual(
      opened.flatMap((o) => o.applied).sort((a, b) => a - b),
      ALL_VERSIONS,
    );
    const db = opened[0]?.db;
    assert.ok(db);
    assert.equal(await count(db, 'schema_migrations'), SCHEMA_VERSION);
  } finally {
    await Promise.all(opened.map((o) => o.db.close()));
  }
});
