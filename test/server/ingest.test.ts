// The fleet server's storage and ingest, the same suite on SQLite and on PostgreSQL: migrations,
// a real node report ingested, idempotence, one stored inventory for many nodes, tokens, every
// kind of bad request refused with nothing stored, the rate limit, events, health.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LIMITS } from '../../src/model/limits.ts';
import type { Database } from '../../src/server/db/database.ts';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../../src/server/db/migrations.ts';
import { type RunningServer, startServer } from '../../src/server/http.ts';
import { openDatabase } from '../../src/server/open.ts';
import { nodesWithComponentBelow } from '../../src/server/queries/components.ts';
import { Store } from '../../src/server/store.ts';
import { asNode, count, freshDatabase, idOf, KINDS, post, postgresSkip, type Report, realReport } from './fixtures.ts';

const STORED_TABLES = ['reports', 'inventories', 'artifacts', 'inventory_artifacts', 'node_findings', 'events'];

/** The report with the first Go binary of its K3s binary's component summary changed by `change`. */
function withComponents(r: Report, change: (b: Record<string, unknown>) => Record<string, unknown>): Report {
  const copy = structuredClone(r);
  const entry = Object.values(copy.inventory).find((e) => (e as { kind: string }).kind === 'k3s-binary') as {
    components: { binaries: Record<string, unknown>[] };
  };
  entry.components.binaries[0] = change(entry.components.binaries[0] as Record<string, unknown>);
  return copy;
}

for (const kind of KINDS) {
  const skip = kind === 'postgres' ? postgresSkip() : undefined;
  describe(`ingest on ${kind}`, { skip: skip ?? false }, () => {
    let db: Database;
    let store: Store;
    let server: RunningServer;
    let report: Report | undefined;
    let reportSkip = '';

    before(async () => {
      const fresh = await freshDatabase(kind);
      const opened = await openDatabase(fresh.url);
      assert.deepEqual(
        opened.applied,
        MIGRATIONS.map((m) => m.version),
      );
      db = opened.db;
      store = new Store(db);
      server = await startServer({ store, host: '127.0.0.1', port: 0, rateLimitPerMinute: 10_000 });
      const r = await realReport();
      if ('skip' in r) reportSkip = r.skip;
      else report = r.report;
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    /** Nothing stored by a refused request: the counts of every table that ingest writes. */
    const snapshot = async () =>
      Object.fromEntries(await Promise.all(STORED_TABLES.map(async (t) => [t, await count(db, t)] as const)));

    const needReport = (t: { skip: (m: string) => void }): Report | undefined => {
      if (!report) t.skip(reportSkip);
      return report;
    };

    test('migrations ran once; running them again is a no-op', async () => {
      assert.deepEqual(await migrate(db), []);
      assert.equal(await count(db, 'schema_migrations'), SCHEMA_VERSION);
    });

    test('health: /healthz and /readyz answer while the database does', async () => {
      for (const path of ['/healthz', '/readyz']) {
        const res = await fetch(`${server.url}${path}`);
        assert.equal(res.status, 200, path);
      }
    });

    test('a real report is stored: node, inventory once, findings; re-sent it is acknowledged again and stored once', async (t) => {
      const r = needReport(t);
      if (!r) return;
      const { token } = await store.createToken('node-real', 'lab');
      const body = JSON.stringify(r);
      const id = idOf('report-real');
      const first = await post(server.url, '/api/v1/reports', { token, id, body });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body.id, id);
      assert.equal(first.body.node, 'node-real');
      assert.match(String(first.body.inventory), /^sha256:[0-9a-f]{64}$/);
      const before = await snapshot();
      const again = await post(server.url, '/api/v1/reports', { token, id, body });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first.body);
      assert.deepEqual(await snapshot(), before, 'nothing duplicated');
      assert.equal(await count(db, 'reports', `WHERE id = '${id}'`), 1);
      const [node] = await db.all(
        'SELECT hostname, k3s_version, role, cluster, inventory_digest, last_report_id, findings FROM nodes WHERE name = ?',
        ['node-real'],
      );
      assert.deepEqual(node, {
        hostname: r.node.hostname,
        k3s_version: r.node.k3s.version ?? null,
        role: 'server',
        cluster: 'lab',
        inventory_digest: first.body.inventory,
        last_report_id: id,
        findings: r.findings.length,
      });
      assert.ok(r.findings.length > 0);
      const findings = await db.all<{ rule_id: string }>(
        'SELECT rule_id FROM node_findings WHERE node_id = (SELECT id FROM nodes WHERE name = ?) ORDER BY rule_id',
        ['node-real'],
      );
      assert.deepEqual(
        findings.map((f) => f.rule_id),
        (r.findings as Array<{ finding: { id: string } }>).map((f) => f.finding.id).sort(),
      );
      // The K3s binary is an artifact of the inventory; its release and what the report says it
      // is made of are components to query by version (monitor.test.ts has the details).
      const components = await db.all<{ name: string; version: string; location: string }>(
        `SELECT c.name, c.version, c.location FROM components c
         JOIN inventory_artifacts ia ON ia.artifact_digest = c.artifact_digest
         WHERE ia.inventory_digest = ?`,
        [String(first.body.inventory)],
      );
      assert.ok(
        components.some(
          (c) => c.name === 'github.com/k3s-io/k3s' && c.version === r.node.k3s.version && c.location === '',
        ),
      );
      assert.ok(components.some((c) => c.name === 'stdlib' && c.location === 'bin/runc'));
      // A different body under an id already used is refused, and changes nothing.
      const other = await post(server.url, '/api/v1/reports', { token, id, body: JSON.stringify(asNode(r, 99)) });
      assert.equal(other.status, 409);
      assert.equal(other.body.error, 'ID_CONFLICT');
      assert.deepEqual(await snapshot(), before);
    });

    test('the same report sent five times at once is stored once: one 201, the others 200 with the same answer', async (t) => {
      const r = needReport(t);
      if (!r) return;
      const { token } = await store.createToken('node-race');
      const body = JSON.stringify(asNode(r, 300));
      const id = idOf('race');
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => post(server.url, '/api/v1/reports', { token, id, body })),
      );
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 201]);
      for (const a of answers) assert.deepEqual(a.body, answers[0]?.body);
      assert.equal(await count(db, 'reports', `WHERE id = '${id}'`), 1);
    });

    test('100 nodes on one release store their inventory once', async (t) => {
      const r = needReport(t);
      if (!r) return;
      const inventoriesBefore = await count(db, 'inventories');
      const artifactsBefore = await count(db, 'artifacts');
      const digests = new Set<string>();
      for (let n = 0; n < 100; n++) {
        const { token } = await store.createToken(`fleet-${n}`);
        const res = await post(server.url, '/api/v1/reports', {
          token,
          id: idOf(`fleet-${n}`),
          body: JSON.stringify(asNode(r, n)),
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        digests.add(String(res.body.inventory));
      }
      assert.equal(digests.size, 1);
      // The real report's inventory is the same one, so nothing new at all if it came first.
      assert.ok((await count(db, 'inventories')) - inventoriesBefore <= 1);
      assert.ok((await count(db, 'artifacts')) - artifactsBefore <= Object.keys(r.inventory).length);
      assert.equal((await count(db, 'nodes', `WHERE inventory_digest = '${[...digests][0]}'`)) >= 100, true);
      // An inventory that differs (another binary) is a second one.
      const changed = asNode(r, 1000);
      changed.inventory = {
        ...changed.inventory,
        [`sha256:${'ab'.repeat(32)}`]: { kind: 'executable', names: ['/x'] },
      };
      const { token } = await store.createToken('fleet-odd');
      const res = await post(server.url, '/api/v1/reports', {
        token,
        id: idOf('fleet-odd'),
        body: JSON.stringify(changed),
      });
      assert.equal(res.status, 201);
      assert.notEqual(res.body.inventory, [...digests][0]);
    });

    test('which nodes run K3s below a version: from the component index, through the inventories', async (t) => {
      const r = needReport(t);
      if (!r) return;
      const release = (n: number, version: string) => {
        const copy = asNode(r, 600 + n);
        const digest = `sha256:${idOf(`k3s ${version}`)}`;
        const inventory: Record<string, unknown> = {};
        for (const [d, entry] of Object.entries(copy.inventory)) {
          const e = entry as { kind: string };
          if (e.kind === 'k3s-binary') inventory[digest] = { ...e, k3sVersion: version };
          else inventory[d] = e;
        }
        copy.inventory = inventory;
        copy.node.k3s = { ...copy.node.k3s, version, binary: { path: '/usr/local/bin/k3s', digest } };
        return copy;
      };
      const fleet = [
        ['ver-a', 'v1.30.2+k3s1'],
        ['ver-b', 'v1.30.2+k3s1'],
        ['ver-c', 'v1.31.1+k3s1'],
        ['ver-d', 'v1.29.15+k3s2'],
      ] as const;
      for (const [i, [name, version]] of fleet.entries()) {
        const { token } = await store.createToken(name);
        const res = await post(server.url, '/api/v1/reports', {
          token,
          id: idOf(`ver-${name}`),
          body: JSON.stringify(release(i, version)),
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
      }
      const hits = (await nodesWithComponentBelow(db, 'github.com/k3s-io/k3s', 'v1.31.0')).filter((h) =>
        h.node.startsWith('ver-'),
      );
      assert.deepEqual(
        hits.map((h) => [h.node, h.version]),
        [
          ['ver-a', 'v1.30.2+k3s1'],
          ['ver-b', 'v1.30.2+k3s1'],
          ['ver-d', 'v1.29.15+k3s2'],
        ],
      );
      assert.equal(hits[0]?.artifact, hits[1]?.artifact, 'one artifact for the release');
      assert.equal(await count(db, 'artifacts', `WHERE k3s_version = 'v1.30.2+k3s1'`), 1);
    });

    test('an older report arriving after a newer one is stored but does not roll the node back', async (t) => {
      const r = needReport(t);
      if (!r) return;
      const { token } = await store.createToken('node-late');
      const newer = asNode(r, 7, '2026-12-03T12:00:00.000Z');
      const older = asNode(r, 7, '2026-12-03T11:00:00.000Z');
      older.findings = [];
      assert.equal(
        (await post(server.url, '/api/v1/reports', { token, id: idOf('late-new'), body: JSON.stringify(newer) }))
          .status,
        201,
      );
      assert.equal(
        (await post(server.url, '/api/v1/reports', { token, id: idOf('late-old'), body: JSON.stringify(older) }))
          .status,
        201,
      );
      const [node] = await db.all('SELECT last_report_id, findings FROM nodes WHERE name = ?', ['node-late']);
      assert.deepEqual(node, { last_report_id: idOf('late-new'), findings: r.findings.length });
    });

    test('tokens: missing, malformed, unknown and revoked get 401 before the body is read; the secret is not stored', async (t) => {
      const r = needReport(t);
      if (!r) return;
      const body = JSON.stringify(r);
      const { id: tokenId, token } = await store.createToken('node-auth');
      const stored = await db.all<{ hash: string }>('SELECT hash FROM tokens WHERE id = ?', [tokenId]);
      assert.equal(stored.length, 1);
      assert.ok(!token.includes(String(stored[0]?.hash)), 'only the hash is kept');
      assert.equal(await count(db, 'tokens', `WHERE hash LIKE '%${token.slice(-20)}%'`), 0);
      const before = await snapshot();
      const forged = `${token.slice(0, -4)}AAAA`;
      const unknown = `k3sg_${'0'.repeat(16)}_${token.slice(-43)}`;
      for (const bad of [undefined, 'not-a-token', forged, unknown]) {
        const res = await post(server.url, '/api/v1/reports', { token: bad, id: idOf('auth'), body });
        assert.equal(res.status, 401, String(bad));
        assert.equal(res.body.error, 'UNAUTHORIZED');
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      }
      // Refused before the body is read: an oversized body with a bad token is a 401, not a 413.
      const early = await post(server.url, '/api/v1/reports', {
        token: forged,
        id: idOf('auth'),
        body: `{"pad":"${'x'.repeat(LIMITS.serverBodyBytes)}"}`,
      });
      assert.equal(early.status, 401);
      assert.equal(await store.revokeTokens({ id: tokenId }), 1);
      const revoked = await post(server.url, '/api/v1/reports', { token, id: idOf('auth'), body });
      assert.equal(revoked.status, 401);
      assert.deepEqual(await snapshot(), before);
      const listed = (await store.listTokens()).find((x) => x.id === tokenId);
      assert.equal(listed?.node, 'node-auth');
      assert.ok(listed?.revokedAt);
    });

    test('bad bodies get a 4xx naming the problem, and nothing is stored', async (t) => {
      const r = needReport(t);
      if (!r) return;
      const { token } = await store.createToken('node-bad');
      const before = await snapshot();
      const { node: _node, ...noNode } = r;
      const cases: Array<{
        what: string;
        status: number;
        error: string;
        message: RegExp;
        body: string;
        id?: string;
        contentType?: string;
      }> = [
        {
          what: 'not JSON',
          status: 400,
          error: 'BAD_JSON',
          message: /not JSON/,
          body: '{"schema": "k3sguard/report@1",',
        },
        {
          what: 'nested too deep',
          status: 400,
          error: 'BAD_JSON',
          message: new RegExp(`nested more than ${LIMITS.jsonDepth} levels`),
          body: `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`,
        },
        { what: 'empty', status: 400, error: 'BAD_JSON', message: /not JSON/, body: '' },
        {
          what: 'a missing property',
          status: 400,
          error: 'SCHEMA_INVALID',
          message: /the document: must have required property 'node'/,
          body: JSON.stringify(noNode),
        },
        {
          what: 'an unknown property',
          status: 400,
          error: 'SCHEMA_INVALID',
          message: /additional properties \("extra"\)/,
          body: JSON.stringify({ ...r, extra: 1 }),
        },
        {
          what: 'a wrong type deep inside',
          status: 400,
          error: 'SCHEMA_INVALID',
          message: /\/check\/durationMs: must be integer/,
          body: JSON.stringify({ ...r, check: { ...r.check, durationMs: 'slow' } }),
        },
        {
          what: 'another schema',
          status: 400,
          error: 'SCHEMA_INVALID',
          message: /\/schema: must be equal to constant/,
          body: JSON.stringify({ ...r, schema: 'k3sguard/report@2' }),
        },
        {
          what: 'a module that is neither [path, version] nor [path, version, path, version]',
          status: 400,
          error: 'SCHEMA_INVALID',
          message: /\/components\/binaries\/0\/modules\/0: must NOT have more than 2 items/,
          body: JSON.stringify(
            withComponents(r, (b) => ({ ...b, modules: [['a.example/m', 'v1.0.0', 'b.example/m']] })),
          ),
        },
        {
          what: 'more modules than reportComponents in all',
          status: 400,
          error: 'SCHEMA_INVALID',
          message: new RegExp(`/components: \\d+ modules, more than reportComponents \\(${LIMITS.reportComponents}\\)`),
          body: JSON.stringify(
            withComponents(r, (b) => ({
              ...b,
              modules: Array.from({ length: LIMITS.reportComponents }, (_, i) => [`m.example/${i}`, 'v1.0.0']),
            })),
          ),
        },
        { what: 'not an object', status: 400, error: 'SCHEMA_INVALID', message: /must be object/, body: '[1,2]' },
        {
          what: 'no message id',
          status: 400,
          error: 'BAD_MESSAGE_ID',
          message: /X-K3sguard-Event-Id/,
          body: JSON.stringify(r),
          id: '',
        },
        {
          what: 'not JSON content',
          status: 415,
          error: 'UNSUPPORTED_MEDIA_TYPE',
          message: /./,
          body: 'hello',
          contentType: 'text/plain',
        },
        {
          what: 'oversized',
          status: 413,
          error: 'TOO_LARGE',
          message: new RegExp(`larger than ${LIMITS.serverBodyBytes} bytes`),
          body: `{"pad":"${'x'.repeat(LIMITS.serverBodyBytes)}"}`,
        },
      ];
      for (const c of cases) {
        const res = await post(server.url, '/api/v1/reports', {
          token,
          id: c.id === '' ? undefined : idOf(`bad-${c.what}`),
          body: c.body,
          ...(c.contentType ? { contentType: c.contentType } : {}),
        });
        assert.equal(res.status, c.status, `${c.what}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error, c.error, c.what);
        assert.match(String(res.body.message), c.message, c.what);
      }
      assert.deepEqual(await snapshot(), before);
    });

    test('per-token rate limit: past it 429 with Retry-After, other tokens unaffected', async (t) => {
      const r = needReport(t);
      if (!r) return;
      const limited = await startServer({ store, host: '127.0.0.1', port: 0, rateLimitPerMinute: 3 });
      t.after(() => limited.close());
      const a = await store.createToken('node-rate-a');
      const b = await store.createToken('node-rate-b');
      const body = JSON.stringify(asNode(r, 500));
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await post(limited.url, '/api/v1/reports', { token: a.token, id: idOf('rate'), body })).status);
      }
      assert.deepEqual(statuses, [201, 200, 200, 429]);
      const refused = await post(limited.url, '/api/v1/reports', { token: a.token, id: idOf('rate'), body });
      assert.equal(refused.body.error, 'RATE_LIMITED');
      assert.match(String(refused.headers.get('retry-after')), /^[1-9][0-9]*$/);
      const other = await post(limited.url, '/api/v1/reports', {
        token: b.token,
        id: idOf('rate-b'),
        body: JSON.stringify(asNode(r, 501)),
      });
      assert.equal(other.status, 201);
    });

    test('events: stored once per node and id, checked against the schema and the header', async () => {
      const { token } = await store.createToken('node-events');
      const event = {
        schema: 'k3sguard/event@1',
        id: idOf('event-1'),
        type: 'finding',
        status: 'new',
        time: '2026-12-03T17:20:01.512Z',
        node: { hostname: 'node-events' },
        key: idOf('key-1'),
        firstSeen: '2026-12-03T17:20:01.512Z',
        lastSeen: '2026-12-03T17:20:01.512Z',
        finding: {
          id: 'K3SG-NODE-BINARY-UNLOCKED',
          severity: 'critical',
          title: 't',
          message: 'm',
          location: ['/usr/local/bin/k3s'],
        },
      };
      const body = JSON.stringify(event);
      const first = await post(server.url, '/api/v1/events', { token, id: event.id, body });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const again = await post(server.url, '/api/v1/events', { token, id: event.id, body });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first.body);
      assert.equal(await count(db, 'events', `WHERE id = '${event.id}'`), 1);
      const status = {
        schema: 'k3sguard/event@1',
        id: idOf('event-2'),
        type: 'status',
        component: 'containerd',
        ok: false,
        message: 'CONTAINERD_UNAVAILABLE: x',
        time: event.time,
        node: event.node,
      };
      assert.equal(
        (await post(server.url, '/api/v1/events', { token, id: status.id, body: JSON.stringify(status) })).status,
        201,
      );
      const mismatch = await post(server.url, '/api/v1/events', { token, id: idOf('other'), body });
      assert.equal(mismatch.status, 400);
      assert.equal(mismatch.body.error, 'BAD_MESSAGE_ID');
      const bad = await post(server.url, '/api/v1/events', {
        token,
        id: event.id,
        body: JSON.stringify({ ...event, status: 'maybe' }),
      });
      assert.equal(bad.status, 400);
      assert.match(String(bad.body.message), /\/status: must be equal to one of the allowed values/);
      assert.equal(await count(db, 'events', "WHERE node_id = (SELECT id FROM nodes WHERE name = 'node-events')"), 2);
    });

    test('unknown routes are a JSON 404', async () => {
      const res = await fetch(`${server.url}/api/v1/nothing`);
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: string }).error, 'NOT_FOUND');
    });
  });
}
