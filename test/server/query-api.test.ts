// The query API on SQLite and on PostgreSQL: a small fleet ingested through the real ingest API
// (reports and events with node tokens), findings per inventory as the re-match stores them,
// then every route asked over HTTP with a user token and every answer checked against the
// OpenAPI document (apiGet): filters, paging, one node, components below a version,
// advisories by id and alias, the K3s version spread, drift, the overview, CSV, and malformed
// parameters refused with a message naming them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openApiDocument } from '../../src/server/api/openapi.ts';
import { createUser, createUserToken } from '../../src/server/auth/users.ts';
import type { Database } from '../../src/server/db/database.ts';
import { type RunningServer, startServer } from '../../src/server/http.ts';
import { openDatabase } from '../../src/server/open.ts';
import { Store } from '../../src/server/store.ts';
import { asNode, freshDatabase, idOf, KINDS, post, postgresSkip, type Report, realReport } from './fixtures.ts';
import { type ApiAnswer, apiGet, openApiChecker } from './openapi-check.ts';
import { buildQueryFleet, DAY, ingestAnswer } from './query-fleet.ts';

for (const kind of KINDS) {
  const skip = kind === 'postgres' ? postgresSkip() : undefined;
  describe(`query API on ${kind}`, { skip: skip ?? false }, () => {
    let db: Database;
    let store: Store;
    let server: RunningServer;
    let report: Report | undefined;
    let reportSkip = '';
    let viewer: Record<string, string>;
    let admin: Record<string, string>;
    let nodeToken = '';
    let inventories: Record<string, string> = {};
    const now = new Date();
    const at = (ms: number) => new Date(now.getTime() + ms).toISOString();

    const get = (path: string, headers: Record<string, string> = viewer) => apiGet(server.url, path, headers);
    const json = <T>(a: ApiAnswer) => {
      assert.equal(a.status, 200, a.text);
      return a.body as T;
    };

    before(async () => {
      const fresh = await freshDatabase(kind);
      db = (await openDatabase(fresh.url)).db;
      store = new Store(db);
      server = await startServer({ store, host: '127.0.0.1', port: 0, rateLimitPerMinute: 10_000 });
      await createUser(db, 'vera', 'viewer', 'viewer password 1');
      await createUser(db, 'ada', 'admin', 'admin password 1');
      viewer = { authorization: `Bearer ${(await createUserToken(db, 'vera'))?.token}` };
      admin = { authorization: `Bearer ${(await createUserToken(db, 'ada'))?.token}` };
      const r = await realReport();
      if ('skip' in r) {
        reportSkip = r.skip;
        return;
      }
      report = r.report;
      ({ inventories, nodeToken } = await buildQueryFleet(server.url, store, db, report, now));
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    const needReport = (t: { skip: (m: string) => void }) => {
      if (!report) t.skip(reportSkip);
      return report !== undefined;
    };

    test('the document is served at /api/v1/openapi.json, without login', async () => {
      const doc = await get('/api/v1/openapi.json', {});
      assert.equal(doc.status, 200);
      assert.deepEqual(doc.body, JSON.parse(JSON.stringify(openApiDocument())));
    });

    test('no credentials, a bad token: 401; a node token: 403; a viewer reads, only an admin lists users', async (t) => {
      if (!needReport(t)) return;
      const none = await get('/api/v1/nodes', {});
      assert.equal(none.status, 401);
      assert.equal((none.body as { error: string }).error, 'UNAUTHORIZED');
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      for (const bad of [`Bearer k3su_0000000000000000_${'A'.repeat(43)}`, 'Bearer nonsense', 'Basic dmVyYTp4']) {
        assert.equal((await get('/api/v1/nodes', { authorization: bad })).status, 401, bad);
      }
      const node = await get('/api/v1/nodes', { authorization: `Bearer ${nodeToken}` });
      assert.equal(node.status, 403);
      assert.match((node.body as { message: string }).message, /node token/);
      for (const path of ['/api/v1/overview', '/api/v1/nodes/a-1', '/api/v1/vulnerabilities', '/api/v1/drift']) {
        assert.equal((await get(path, { authorization: `Bearer ${nodeToken}` })).status, 403, path);
      }
      const users = await get('/api/v1/users', viewer);
      assert.equal(users.status, 403);
      assert.match((users.body as { message: string }).message, /needs the admin role; vera is a viewer/);
      const listed = json<{ items: Array<{ name: string; role: string; tokens: number }> }>(
        await get('/api/v1/users', admin),
      );
      assert.deepEqual(
        listed.items.map((u) => [u.name, u.role, u.tokens]),
        [
          ['ada', 'admin', 1],
          ['vera', 'viewer', 1],
        ],
      );
    });

    test('nodes: every filter, paging, CSV', async (t) => {
      if (!needReport(t)) return;
      const names = async (query: string) => {
        const page = json<{ total: number; items: Array<{ name: string }> }>(await get(`/api/v1/nodes${query}`));
        return page.items.map((n) => n.name);
      };
      assert.deepEqual(await names(''), ['a-1', 'a-2', 'b-1', 'c-1', 'd-1']);
      assert.deepEqual(await names('?cluster=lab'), ['a-1', 'a-2']);
      assert.deepEqual(await names('?k3sVersion=v1.30.2%2Bk3s1'), ['b-1']);
      assert.deepEqual(await names('?hasFindings=true'), ['a-1', 'a-2', 'b-1']);
      assert.deepEqual(await names('?hasFindings=false'), ['c-1', 'd-1']);
      assert.deepEqual(await names(`?seenSince=${encodeURIComponent(at(-3_600_000))}`), ['a-1', 'a-2', 'b-1', 'd-1']);
      assert.deepEqual(await names(`?seenBefore=${encodeURIComponent(at(-3_600_000))}`), ['c-1']);
      assert.deepEqual(await names(`?seenSince=${at(DAY).slice(0, 10)}`), []);
      assert.deepEqual(await names('?cluster=edge&hasFindings=true'), ['b-1']);
      const page = json<{ total: number; limit: number; offset: number; items: Array<{ name: string }> }>(
        await get('/api/v1/nodes?limit=2&offset=1'),
      );
      assert.deepEqual([page.total, page.limit, page.offset, page.items.map((n) => n.name)], [5, 2, 1, ['a-2', 'b-1']]);
      const a1 = json<{ items: Array<Record<string, unknown>> }>(await get('/api/v1/nodes?cluster=lab')).items[0];
      assert.equal(a1?.k3sVersion, 'v1.31.4+k3s1');
      assert.equal(a1?.findings, 1);
      assert.equal(a1?.vulnerabilities, 2);
      assert.equal(a1?.inventory, inventories['a-1']);
      const csv = await get('/api/v1/nodes?format=csv');
      assert.equal(csv.status, 200);
      assert.match(csv.contentType, /^text\/csv/);
      assert.equal(csv.headers.get('x-total-count'), '5');
      const lines = csv.text.trimEnd().split('\r\n');
      assert.equal(
        lines[0],
        'name,cluster,hostname,k3sVersion,role,inventory,lastCheckAt,lastSeenAt,findings,vulnerabilities',
      );
      assert.equal(lines.length, 6);
      assert.match(lines[1] as string, /^a-1,lab,node-1,v1\.31\.4\+k3s1,server,sha256:[0-9a-f]{64},.*,1,2$/);
      assert.match(lines[4] as string, /^c-1,edge,,,,,,,0,0$/);
      const accept = await get('/api/v1/nodes?cluster=lab', { ...viewer, accept: 'text/csv' });
      assert.match(accept.contentType, /^text\/csv/);
      assert.equal(accept.text.trimEnd().split('\r\n').length, 3);
      assert.match(
        (await get('/api/v1/nodes?format=json', { ...viewer, accept: 'text/csv' })).contentType,
        /^application\/json/,
      );
    });

    test('one node: inventory tree, findings, vulnerabilities, events, reports; an unknown node is a 404', async (t) => {
      if (!needReport(t)) return;
      const detail = json<{
        node: { name: string; cluster: string; machineId: string };
        inventory: {
          digest: string;
          artifacts: Array<{ kind: string; names: string[]; components: Array<{ name: string; location: string }> }>;
        };
        findings: Array<{ id: string; severity: string; title: string }>;
        vulnerabilities: Array<{ id: string; fixed: string | null; reachability: string }>;
        events: Array<{ type: string; status: string }>;
        reports: Array<{ id: string }>;
      }>(await get('/api/v1/nodes/a-1'));
      assert.equal(detail.node.name, 'a-1');
      assert.equal(detail.inventory.digest, inventories['a-1']);
      const k3s = detail.inventory.artifacts[0];
      assert.equal(k3s?.kind, 'k3s-binary');
      assert.deepEqual(k3s?.names, ['/usr/local/bin/k3s']);
      assert.ok(k3s?.components.some((c) => c.name === 'github.com/sirupsen/logrus'));
      assert.equal(detail.inventory.artifacts.length, Object.keys((report as Report).inventory).length);
      assert.deepEqual(
        detail.findings.map((f) => f.id),
        (report as Report).findings.map((f) => (f as { finding: { id: string } }).finding.id),
      );
      assert.deepEqual(
        detail.vulnerabilities.map((v) => [v.id, v.fixed, v.reachability]),
        [
          ['GO-2099-0001', 'v1.9.4', 'reachable'],
          ['GO-2099-0002', null, 'not-analyzed'],
        ],
      );
      assert.deepEqual(
        detail.events.map((e) => [e.type, e.status]),
        [
          ['finding', 'resolved'],
          ['finding', 'new'],
        ],
      );
      assert.deepEqual(
        detail.reports.map((r) => r.id),
        [idOf('q-a-1')],
      );
      const never = json<{ inventory: null; reports: unknown[] }>(await get('/api/v1/nodes/c-1'));
      assert.equal(never.inventory, null);
      assert.deepEqual(never.reports, []);
      const long = `n${'x'.repeat(252)}`; // the longest node name token create takes
      await store.createToken(long);
      assert.equal(json<{ node: { name: string } }>(await get(`/api/v1/nodes/${long}`)).node.name, long);
      await db.run('DELETE FROM tokens WHERE node_id = (SELECT id FROM nodes WHERE name = ?)', [long]);
      await db.run('DELETE FROM nodes WHERE name = ?', [long]);
      const missing = await get('/api/v1/nodes/nobody');
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { error: 'NOT_FOUND', message: 'no node "nobody"' });
    });

    test('components: the nodes below a version and where; suggestions for a partial name; CSV', async (t) => {
      if (!needReport(t)) return;
      const search = json<{
        total: number;
        versions: Array<{ version: string; nodes: number; matches: boolean }>;
        items: Array<{ node: string; version: string; location: string; artifact: string }>;
      }>(await get('/api/v1/components?name=github.com/k3s-io/k3s&below=v1.31.0'));
      assert.deepEqual(
        search.items.map((h) => [h.node, h.version]),
        [
          ['b-1', 'v1.30.2+k3s1'],
          ['d-1', 'v1.29.15+k3s2'],
        ],
      );
      assert.equal(search.total, 2);
      assert.deepEqual(
        search.versions.map((v) => [v.version, v.matches]),
        [
          ['v1.31.4+k3s1', false],
          ['v1.30.2+k3s1', true],
          ['v1.29.15+k3s2', true],
        ],
      );
      assert.equal(
        search.versions[0]?.nodes,
        4,
        'the binary of a-1 and a-2; the module inside bin/k3s of b-1 and d-1 (copies of the same report)',
      );
      const logrus = json<{ total: number; items: Array<{ node: string; location: string }> }>(
        await get('/api/v1/components?name=github.com/sirupsen/logrus&below=1.10.0&limit=2&offset=2'),
      );
      assert.equal(logrus.total, 8, 'four nodes, each with it in the binary and in bin/k3s of the bundle');
      assert.deepEqual(
        logrus.items.map((h) => [h.node, h.location]),
        [
          ['a-2', ''],
          ['a-2', 'bin/k3s'],
        ],
      );
      const none = json<{ total: number; suggestions: string[] }>(await get('/api/v1/components?name=logrus'));
      assert.equal(none.total, 0);
      assert.deepEqual(none.suggestions, ['github.com/sirupsen/logrus']);
      const csv = await get('/api/v1/components?name=github.com/k3s-io/k3s&below=v1.31.0&format=csv');
      assert.deepEqual(csv.text.trimEnd().split('\r\n').slice(0, 2), [
        'node,cluster,k3sVersion,version,artifact,location',
        `b-1,edge,v1.30.2+k3s1,v1.30.2+k3s1,sha256:${idOf('k3s v1.30.2+k3s1')},`,
      ]);
    });

    test('vulnerabilities: the list, one advisory by id or alias (any case), its nodes, fixed version, reachability; CSV', async (t) => {
      if (!needReport(t)) return;
      const list = json<{
        items: Array<{ id: string; severity: string; nodes: number; fixed: string[]; aliases: string[] }>;
      }>(await get('/api/v1/vulnerabilities'));
      assert.deepEqual(
        list.items.map((v) => [v.id, v.severity, v.nodes, v.fixed]),
        [
          ['GO-2099-0001', 'high', 3, ['v1.9.4']],
          ['GO-2099-0002', 'medium', 2, []],
        ],
      );
      assert.deepEqual(list.items[0]?.aliases, ['CVE-2099-1111', 'GHSA-aaaa-bbbb-cccc']);
      const medium = json<{ items: Array<{ id: string }> }>(await get('/api/v1/vulnerabilities?severity=medium'));
      assert.deepEqual(
        medium.items.map((v) => v.id),
        ['GO-2099-0002'],
      );
      for (const id of ['GO-2099-0001', 'cve-2099-1111', 'GHSA-aaaa-bbbb-cccc']) {
        const detail = json<{
          id: string;
          ids: string[];
          fixed: string[];
          total: number;
          components: Array<{ component: string; location: string; nodes: number; reachability: string }>;
          items: Array<{ node: string; fixed: string; reachability: string; location: string }>;
        }>(await get(`/api/v1/vulnerabilities/${id}`));
        assert.deepEqual(detail.ids, ['GO-2099-0001'], id);
        assert.deepEqual(detail.fixed, ['v1.9.4']);
        assert.equal(detail.total, 3);
        assert.deepEqual(
          detail.items.map((i) => [i.node, i.location, i.fixed, i.reachability]),
          [
            ['a-1', 'bin/k3s', 'v1.9.4', 'reachable'],
            ['a-2', 'bin/k3s', 'v1.9.4', 'reachable'],
            ['b-1', 'bin/k3s', 'v1.9.4', 'reachable'],
          ],
        );
        assert.deepEqual(
          detail.components.map((c) => [c.component, c.location, c.nodes]),
          [['github.com/sirupsen/logrus', 'bin/k3s', 3]],
        );
      }
      const missing = await get('/api/v1/vulnerabilities/CVE-1999-0001');
      assert.equal(missing.status, 404);
      const csv = await get('/api/v1/vulnerabilities/CVE-2099-1111?format=csv&limit=2');
      assert.equal(csv.headers.get('x-total-count'), '3');
      assert.equal(csv.text.trimEnd().split('\r\n').length, 3);
      const all = await get('/api/v1/vulnerabilities', { ...viewer, accept: 'text/csv' });
      assert.equal(all.text.split('\r\n')[0], 'id,aliases,severity,summary,components,fixed,nodes,firstMatchedAt');
      assert.match(all.text.split('\r\n')[1] as string, /^GO-2099-0001,CVE-2099-1111 GHSA-aaaa-bbbb-cccc,high,/);
    });

    test('the K3s version spread, newest first, nodes without a report last; CSV', async (t) => {
      if (!needReport(t)) return;
      const spread = json<{ items: Array<{ version: string | null; nodes: number; clusters: number }> }>(
        await get('/api/v1/k3s-versions'),
      );
      assert.deepEqual(spread.items, [
        { version: 'v1.31.4+k3s1', nodes: 2, clusters: 1 },
        { version: 'v1.30.2+k3s1', nodes: 1, clusters: 1 },
        { version: 'v1.29.15+k3s2', nodes: 1, clusters: 1 },
        { version: null, nodes: 1, clusters: 1 },
      ]);
      const csv = await get('/api/v1/k3s-versions?format=csv');
      assert.equal(
        csv.text,
        'version,nodes,clusters\r\nv1.31.4+k3s1,2,1\r\nv1.30.2+k3s1,1,1\r\nv1.29.15+k3s2,1,1\r\n,1,1\r\n',
      );
    });

    test('drift: events between two times, per node, per day; CSV', async (t) => {
      if (!needReport(t)) return;
      const since = encodeURIComponent(at(-3 * DAY));
      const drift = json<{
        total: number;
        items: Array<{ node: string; type: string; status: string; component: string | null; title: string | null }>;
        byDay: Array<{ day: string; new: number; resolved: number; down: number; up: number }>;
      }>(await get(`/api/v1/drift?since=${since}`));
      assert.equal(drift.total, 4);
      assert.deepEqual(
        drift.items.map((e) => [e.node, e.type, e.status]),
        [
          ['a-2', 'status', 'up'],
          ['a-1', 'finding', 'resolved'],
          ['a-2', 'status', 'down'],
          ['a-1', 'finding', 'new'],
        ],
      );
      assert.equal(drift.items[0]?.component, 'containerd');
      assert.ok(drift.items[1]?.title);
      const sum = (k: 'new' | 'resolved' | 'down' | 'up') => drift.byDay.reduce((a, d) => a + d[k], 0);
      assert.deepEqual([sum('new'), sum('resolved'), sum('down'), sum('up')], [1, 1, 1, 1]);
      assert.deepEqual(
        drift.byDay.map((d) => d.day),
        [...new Set([at(-2 * DAY), at(-1 * DAY), at(-1000)].map((t) => t.slice(0, 10)))].sort(),
      );
      const one = json<{ total: number }>(await get(`/api/v1/drift?since=${since}&node=a-2`));
      assert.equal(one.total, 2);
      const window = json<{ total: number }>(
        await get(`/api/v1/drift?since=${since}&until=${encodeURIComponent(at(-36 * 3_600_000))}`),
      );
      assert.equal(window.total, 1, 'only the finding of two days ago');
      const defaults = json<{ since: string; total: number }>(await get('/api/v1/drift'));
      assert.equal(defaults.total, 4, 'the last 7 days by default');
      const csv = await get(`/api/v1/drift?since=${since}&format=csv`);
      assert.equal(csv.text.split('\r\n')[0], 'time,node,type,status,ruleId,severity,title,component,message,key,id');
      assert.equal(csv.text.trimEnd().split('\r\n').length, 5);
    });

    test('the overview: nodes, versions, open findings by severity, drift by day', async (t) => {
      if (!needReport(t)) return;
      const o = json<{
        nodes: { total: number; seenLastDay: number; stale: number; neverReported: number };
        clusters: number;
        inventories: number;
        k3sVersions: unknown[];
        findingsBySeverity: Record<string, number>;
        advisoriesBySeverity: Record<string, number>;
        drift: unknown[];
      }>(await get('/api/v1/overview'));
      assert.deepEqual(o.nodes, { total: 5, seenLastDay: 4, stale: 0, neverReported: 1 });
      assert.equal(o.clusters, 2);
      assert.equal(o.inventories, 3);
      assert.equal(o.k3sVersions.length, 4);
      const ownHigh = (report as Report).findings.filter(
        (f) => (f as { finding: { severity: string } }).finding.severity === 'high',
      ).length;
      // Own findings of a-1 and b-1, plus GO-2099-0001 on a-1, a-2 and b-1.
      assert.equal(o.findingsBySeverity.high, 2 * ownHigh + 3);
      assert.equal(o.findingsBySeverity.medium, 2);
      assert.deepEqual(o.advisoriesBySeverity, { critical: 0, high: 1, medium: 1, low: 0, unknown: 0, info: 0 });
      assert.ok(o.drift.length >= 2);
    });

    test('the ingest answers are in the document too: stored, again, refused', async (t) => {
      if (!needReport(t)) return;
      const { token } = await store.createToken('z-ingest');
      const body = JSON.stringify(asNode(report as Report, 77));
      const first = await post(server.url, '/api/v1/reports', { token, id: idOf('z'), body });
      const again = await post(server.url, '/api/v1/reports', { token, id: idOf('z'), body });
      const bad = await post(server.url, '/api/v1/reports', { token, id: idOf('z2'), body: '{"schema":1}' });
      const anonymous = await post(server.url, '/api/v1/reports', { id: idOf('z3'), body });
      assert.deepEqual([first.status, again.status, bad.status, anonymous.status], [201, 200, 400, 401]);
      for (const res of [first, again, bad, anonymous]) ingestAnswer('/api/v1/reports', res);
    });

    test('malformed parameters: 400 naming the parameter and what it expects', async () => {
      const cases: Array<[string, RegExp]> = [
        ['/api/v1/nodes?limit=0', /^\?limit=0: expected a whole number from 1 to 10000$/],
        ['/api/v1/nodes?limit=10001', /^\?limit=10001: expected a whole number from 1 to 10000$/],
        ['/api/v1/nodes?limit=ten', /^\?limit=ten: expected a whole number/],
        ['/api/v1/nodes?offset=-1', /^\?offset=-1: expected a whole number from 0$/],
        ['/api/v1/nodes?hasFindings=yes', /^\?hasFindings=yes: expected true or false$/],
        ['/api/v1/nodes?seenSince=yesterday', /^\?seenSince=yesterday: expected an ISO-8601 date-time/],
        ['/api/v1/nodes?seenSince=2026-02-30', /^\?seenSince=2026-02-30: expected an ISO-8601/],
        ['/api/v1/nodes?cluster=', /^\?cluster=: expected at least 1 character$/],
        ['/api/v1/nodes?cluster=a&cluster=b', /^\?cluster: given more than once$/],
        ['/api/v1/nodes?clustr=lab', /^unknown query parameter "clustr": this route takes cluster, k3sVersion, /],
        ['/api/v1/nodes?format=xml', /^\?format=xml: expected one of json, csv$/],
        ['/api/v1/components', /^\?name is required: the exact component name/],
        ['/api/v1/components?name=x&below=latest', /^\?below=latest: expected a Go version such as v1\.1\.12/],
        [
          '/api/v1/vulnerabilities?severity=severe',
          /^\?severity=severe: expected one of critical, high, medium, low, unknown, info$/,
        ],
        ['/api/v1/drift?since=2026-12-03&until=2026-12-02', /^\?until: must be after \?since$/],
        ['/api/v1/overview?x=1', /^unknown query parameter "x": this route takes none$/],
      ];
      for (const [path, message] of cases) {
        const res = await get(path);
        assert.equal(res.status, 400, path);
        const body = res.body as { error: string; message: string };
        assert.equal(body.error, 'BAD_QUERY', path);
        assert.match(body.message, message, path);
      }
    });

    test('every read operation of the document was exercised, as JSON and as CSV where declared', () => {
      const doc = openApiDocument();
      const seen = openApiChecker().seen;
      for (const [path, item] of Object.entries(doc.paths)) {
        const op = (item as { get?: { responses: Record<string, { content?: Record<string, unknown> }> } }).get;
        if (!op) continue;
        for (const media of Object.keys(op.responses['200']?.content ?? {})) {
          assert.ok(seen.has(`GET ${path} 200 ${media}`), `GET ${path} 200 ${media} was never asked`);
        }
      }
    });
  });
}
