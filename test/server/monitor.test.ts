// Continuous vulnerability monitoring end to end, on SQLite and on PostgreSQL, with the real
// parts: real `k3sguard agent` processes deliver reports carrying the K3s binary's components
// to a real `k3sguard server`; the server matches the inventory with a vulnerability database
// made by the real `k3sguard db import` from the real Go vulndb; `db import` run again (another
// process updating the database) adds an advisory, and the re-match sends exactly one signed
// notification, naming the advisory and both nodes, to a real HTTP receiver, retried after the
// receiver failed; a server killed with SIGKILL while sending sends it after its restart.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { webhookSignature } from '../../src/io/webhook-signature.ts';
import type { Database } from '../../src/server/db/database.ts';
import { openDatabase } from '../../src/server/open.ts';
import { Store } from '../../src/server/store.ts';
import { startAgentProcess } from '../agent/agent-process.ts';
import { k3sguard, tempDir } from '../cli/run.ts';
import { count, freshDatabase, idOf, KINDS, nodeTree, post, postgresSkip, realReport } from './fixtures.ts';
import { ADDED_ADVISORY, importDb, type Received, recordDirs, startReceiver } from './monitor-fixtures.ts';
import { startServerProcess } from './server-process.ts';

const SECRET = 'monitor-test-secret';

/** Polls the fleet database until `done` (bounded: two minutes). */
async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await done()) return;
    await sleep(100);
  }
  throw new Error(`not within two minutes: ${what}`);
}

function token(db: string, node: string): string {
  const r = k3sguard(['server', 'token', 'create', '--node', node, '--cluster', 'lab', '--db', db]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

function checkSignature(r: Received): void {
  const ts = Number(r.headers['x-k3sguard-timestamp']);
  assert.ok(Number.isInteger(ts));
  assert.equal(r.headers['x-k3sguard-signature'], webhookSignature(SECRET, ts, r.body));
  assert.match(String(r.headers['x-k3sguard-event-id']), /^[0-9a-f]{64}$/);
}

for (const kind of KINDS) {
  const skip = kind === 'postgres' ? postgresSkip() : undefined;
  describe(`vulnerability monitoring on ${kind}`, { skip: skip ?? false }, () => {
    test('components from real agents are matched; a new advisory is notified once, naming the nodes, after a retry', async (t) => {
      const dirs = recordDirs();
      if ('skip' in dirs) return t.skip(dirs.skip);
      const tree = await nodeTree();
      if ('skip' in tree) return t.skip(tree.skip);
      const fresh = await freshDatabase(kind);
      const dir = tempDir(t);
      const vulnDb = join(dir, 'vulndb.sqlite');
      importDb(vulnDb, dirs.without);
      const secretFile = join(dir, 'notify.secret');
      writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
      // The first delivery is refused: the server must try again.
      const receiver = await startReceiver((n) => (n === 0 ? 503 : 200));
      t.after(() => receiver.close());
      const tokens = ['edge-1', 'edge-2'].map((node) => ({ node, token: token(fresh.text, node) }));
      const server = await startServerProcess(
        ['--db', fresh.text, '--vuln-db', vulnDb].concat([
          '--notify-url',
          receiver.url,
          '--notify-secret-file',
          secretFile,
        ]),
      );
      t.after(() => server.stop());
      const { db } = await openDatabase(fresh.url);
      t.after(() => db.close());

      for (const { node, token: secret } of tokens) {
        const tokenFile = join(dir, `${node}.token`);
        writeFileSync(tokenFile, `${secret}\n`, { mode: 0o600 });
        const agent = startAgentProcess(
          ['--root', tree.root, '--state-dir', join(dir, `state-${node}`), '--proc', join(tree.root, 'proc')]
            .concat(['--containerd-socket', join(dir, 'no-containerd.sock'), '--lock', tree.lock])
            .concat(['--policy', tree.policy, '--interval', '1h', '--listen', ''])
            .concat(['--server', server.url, '--token-file', tokenFile]),
        );
        await until(
          `${node}'s report`,
          async () => (await count(db, 'reports r JOIN nodes n ON n.id = r.node_id', `WHERE n.name = '${node}'`)) >= 1,
        );
        assert.equal(await agent.stop(), 0);
      }
      // Both nodes run the same binary: one inventory, whose components came from the first.
      assert.equal(await count(db, 'inventories'), 1);
      const [artifact] = await db.all<{ digest: string; components_from: string }>(
        "SELECT digest, components_from FROM artifacts WHERE kind = 'k3s-binary'",
      );
      assert.equal(artifact?.components_from, 'edge-1');
      const components = await db.all<{ name: string; location: string }>(
        'SELECT name, location FROM components WHERE artifact_digest = ?',
        [artifact?.digest as string],
      );
      for (const [name, location] of [
        ['github.com/opencontainers/runc', 'bin/k3s'],
        ['stdlib', 'bin/runc'],
        ['stdlib', ''],
        ['github.com/k3s-io/k3s', ''],
      ])
        assert.ok(
          components.some((c) => c.name === name && c.location === location),
          `${name} in ${location || 'the binary'}`,
        );

      await until('the first match', async () => (await count(db, 'match_runs')) === 1);
      const findings = await count(db, 'inventory_findings');
      assert.ok(findings > 100, `the fixture's old Go has many stdlib advisories (${findings})`);
      assert.equal(await count(db, 'inventory_findings', `WHERE vuln_id = '${ADDED_ADVISORY}'`), 0);
      assert.equal(await count(db, 'notifications'), 0, 'a first match announces nothing');

      // Another process updates the database: the server sees it and matches again.
      importDb(vulnDb, dirs.full);
      await receiver.until((r) => r.some((x) => x.status === 200), 'a notification accepted');
      await until(
        'the notification marked sent',
        async () => (await count(db, 'notifications', 'WHERE sent_at IS NOT NULL')) === 1,
      );
      assert.equal(await count(db, 'match_runs'), 2);
      const [second] = await db.all<{ new_findings: number; findings: number }>(
        'SELECT new_findings, findings FROM match_runs ORDER BY id DESC LIMIT 1',
      );
      assert.equal(Number(second?.new_findings), 1);
      assert.equal(Number(second?.findings), findings + 1);
      const [row] = await db.all<{ attempts: number; last_error: string | null }>(
        'SELECT attempts, last_error FROM notifications',
      );
      assert.equal(Number(row?.attempts), 2, 'refused once, then delivered');
      assert.equal(await count(db, 'notifications'), 1);

      assert.deepEqual(
        receiver.received.map((r) => r.status),
        [503, 200],
      );
      const ids = new Set(receiver.received.map((r) => r.headers['x-k3sguard-event-id']));
      assert.equal(ids.size, 1, 'the retry is the same notification');
      for (const r of receiver.received) checkSignature(r);
      const body = JSON.parse(receiver.received[1]?.body as string);
      assert.equal(body.schema, 'k3sguard/notification@1');
      assert.equal(body.advisory.id, ADDED_ADVISORY);
      assert.ok(body.advisory.aliases.includes('CVE-2024-21626'));
      assert.deepEqual(
        body.nodes.map((n: { name: string }) => n.name),
        ['edge-1', 'edge-2'],
      );
      assert.equal(body.nodesTotal, 2);
      assert.deepEqual(
        body.affected.map((a: Record<string, string>) => [a.component, a.location, a.fixed]),
        [['github.com/opencontainers/runc', 'k3s > bin/k3s', '1.1.12']],
      );
      assert.equal(body.inventory.k3sVersion, tree.k3sVersion);
      assert.equal(await server.stop(), 0);
    });

    test('a server killed while sending sends the notification after its restart', async (t) => {
      const dirs = recordDirs();
      if ('skip' in dirs) return t.skip(dirs.skip);
      const made = await realReport();
      if ('skip' in made) return t.skip(made.skip);
      const fresh = await freshDatabase(kind);
      const dir = tempDir(t);
      const vulnDb = join(dir, 'vulndb.sqlite');
      importDb(vulnDb, dirs.without);
      const secretFile = join(dir, 'notify.secret');
      writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
      // The first request is never answered: the server is killed while it waits.
      const receiver = await startReceiver((n) => (n === 0 ? 'hang' : 200));
      t.after(() => receiver.close());
      const secret = token(fresh.text, 'edge-1');
      const args = [
        '--db',
        fresh.text,
        '--vuln-db',
        vulnDb,
        '--notify-url',
        receiver.url,
        '--notify-secret-file',
        secretFile,
      ];
      const first = await startServerProcess(args);
      t.after(() => first.kill9());
      const { db } = await openDatabase(fresh.url);
      t.after(() => db.close());
      const text = JSON.stringify(made.report);
      const sent = await post(first.url, '/api/v1/reports', { token: secret, id: idOf(text), body: text });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      await until('the first match', async () => (await count(db, 'match_runs')) === 1);

      importDb(vulnDb, dirs.full);
      await receiver.until((r) => r.length === 1, 'the first attempt');
      await first.kill9();
      assert.equal(await count(db, 'notifications', 'WHERE sent_at IS NULL'), 1, 'committed, not sent');

      const second = await startServerProcess(args);
      t.after(() => second.stop());
      await receiver.until((r) => r.some((x) => x.status === 200), 'the notification after the restart');
      await until('marked sent', async () => (await count(db, 'notifications', 'WHERE sent_at IS NOT NULL')) === 1);
      const [hung, delivered] = receiver.received;
      assert.equal(hung?.headers['x-k3sguard-event-id'], delivered?.headers['x-k3sguard-event-id']);
      assert.equal(delivered?.body, hung?.body, 'the same notification, not a new one');
      checkSignature(delivered as Received);
      assert.equal(JSON.parse(delivered?.body as string).advisory.id, ADDED_ADVISORY);
      // The restart matched nothing again: the inventory was matched with this database.
      assert.equal(await count(db, 'match_runs'), 2);
      assert.equal(await second.stop(), 0);
    });
  });
}

describe('scheduled db update', () => {
  test('--db-update-every imports the source on schedule; an advisory added to it is notified', async (t) => {
    const dirs = recordDirs();
    if ('skip' in dirs) return t.skip(dirs.skip);
    const made = await realReport();
    if ('skip' in made) return t.skip(made.skip);
    const fresh = await freshDatabase('sqlite');
    const dir = tempDir(t);
    // The source the server updates from: the records without the advisory, for now.
    const source = join(dir, 'source');
    cpSync(dirs.without, source, { recursive: true });
    const vulnDb = join(dir, 'vulndb.sqlite'); // absent: the first update makes it
    const secretFile = join(dir, 'notify.secret');
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const receiver = await startReceiver(() => 200);
    t.after(() => receiver.close());
    const server = await startServerProcess(
      ['--db', fresh.text, '--vuln-db', vulnDb, '--db-update-every', '3s', '--db-update-source', source].concat([
        '--notify-url',
        receiver.url,
        '--notify-secret-file',
        secretFile,
      ]),
    );
    t.after(() => server.stop());
    const { db } = await openDatabase(fresh.url);
    t.after(() => db.close());
    const text = JSON.stringify(made.report);
    const sent = await post(server.url, '/api/v1/reports', {
      token: token(fresh.text, 'edge-1'),
      id: idOf(text),
      body: text,
    });
    assert.equal(sent.status, 201);
    await until('the first match', async () => (await count(db, 'match_runs')) === 1);
    assert.equal(await count(db, 'inventory_findings', `WHERE vuln_id = '${ADDED_ADVISORY}'`), 0);

    copyFileSync(join(dirs.full, `${ADDED_ADVISORY}.json`), join(source, `${ADDED_ADVISORY}.json`));
    await receiver.until((r) => r.length >= 1, 'the notification after the scheduled update');
    const first = receiver.received[0] as Received;
    checkSignature(first);
    const body = JSON.parse(first.body);
    assert.equal(body.advisory.id, ADDED_ADVISORY);
    assert.deepEqual(
      body.nodes.map((n: { name: string }) => n.name),
      ['edge-1'],
    );
    assert.equal(await count(db, 'inventory_findings', `WHERE vuln_id = '${ADDED_ADVISORY}'`), 1);
    // Later updates find the same records: nothing more is matched or sent.
    assert.equal(await server.stop(), 0);
    assert.equal(await count(db, 'match_runs'), 2);
    assert.equal(await count(db, 'notifications'), 1);
  });
});

describe('two server replicas on one PostgreSQL', { skip: postgresSkip() ?? false }, () => {
  test('share the re-match and match each inventory once per database', async (t) => {
    const dirs = recordDirs();
    if ('skip' in dirs) return t.skip(dirs.skip);
    const made = await realReport();
    if ('skip' in made) return t.skip(made.skip);
    const fresh = await freshDatabase('postgres');
    const dir = tempDir(t);
    // No database yet: the replicas wait for it, then both find it at once.
    const vulnDb = join(dir, 'vulndb.sqlite');
    const args = ['--db', fresh.text, '--vuln-db', vulnDb];
    const replicas = [await startServerProcess(args), await startServerProcess(args)];
    for (const r of replicas) t.after(() => r.stop());
    const { db } = await openDatabase(fresh.url);
    t.after(() => db.close());

    // Distinct inventories (the binary under another name each, one node each), sent half to
    // each replica: enough that one replica is still matching when the other finds the new
    // database and queues them all again.
    const inventories = 24;
    const store = new Store(db);
    for (let i = 0; i < inventories; i++) {
      const report = structuredClone(made.report);
      const entry = Object.values(report.inventory).find((e) => (e as { kind: string }).kind === 'k3s-binary') as {
        names: string[];
      };
      entry.names = [...entry.names, `/opt/k3s-${i}/k3s`];
      const text = JSON.stringify(report);
      const replica = replicas[i % 2] as (typeof replicas)[0];
      const answer = await post(replica.url, '/api/v1/reports', {
        token: (await store.createToken(`node-${i}`)).token,
        id: idOf(`${i}${text}`),
        body: text,
      });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
    }
    assert.equal(await count(db, 'inventories'), inventories);
    assert.equal(await count(db, 'match_jobs'), inventories, 'queued at ingest, waiting for a database');

    const settled = async (runs: number) =>
      (await count(db, 'match_runs')) >= runs && (await count(db, 'match_jobs')) === 0;
    importDb(vulnDb, dirs.without);
    await until('every inventory matched', () => settled(inventories));
    importDb(vulnDb, dirs.full);
    await until('every inventory matched again', () => settled(2 * inventories));
    // Stopped (each finishes the step it is in), nothing more can be matched: count.
    for (const r of replicas) assert.equal(await r.stop(), 0);
    await assertOncePerDatabase(db, inventories);
    const workers = await db.all<{ worker: string; n: number }>(
      'SELECT worker, COUNT(*) AS n FROM match_runs GROUP BY worker ORDER BY worker',
    );
    t.diagnostic(`matches per replica: ${workers.map((w) => `${w.worker} ${w.n}`).join(', ')}`);
  });
});

async function assertOncePerDatabase(db: Database, inventories: number): Promise<void> {
  const twice = await db.all(
    'SELECT inventory_digest, db_version, COUNT(*) AS n FROM match_runs GROUP BY inventory_digest, db_version HAVING COUNT(*) > 1',
  );
  assert.deepEqual(twice, [], 'no inventory matched twice with one database');
  assert.equal(await count(db, 'match_runs'), 2 * inventories);
  const versions = await db.all('SELECT DISTINCT db_version FROM match_runs');
  assert.equal(versions.length, 2);
  assert.equal(await count(db, 'inventories', 'WHERE matched_db IS NOT NULL'), inventories);
}
