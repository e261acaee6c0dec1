// The small fleet of the query API tests, sent through the real ingest API with node tokens:
// a-1 and a-2 (cluster lab) on the fixture's release, a-2 without findings of its own; b-1 and
// d-1 (edge) on older releases, d-1 without findings; c-1 (edge) with a token and no report.
// Events: a finding new then resolved on a-1, containerd down then up on a-2. Findings per
// inventory as the re-match stores them: GO-2099-0001 (aliases CVE-2099-1111, GHSA-...) on a-1's
// inventory (a-1, a-2) and b-1's, GO-2099-0002 on a-1's. Every ingest answer is checked against
// the OpenAPI document.
import assert from 'node:assert/strict';
import type { Database } from '../../src/server/db/database.ts';
import type { Store } from '../../src/server/store.ts';
import { asNode, idOf, post, type Report } from './fixtures.ts';
import { openApiChecker } from './openapi-check.ts';

export const DAY = 24 * 60 * 60 * 1000;

/** The report as a node on another K3s release sends it: the binary's digest and version changed. */
export function onRelease(report: Report, n: number, version: string): Report {
  const copy = asNode(report, n);
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
}

/** An answer of the ingest API (the fixtures' `post`), checked against the document too. */
export function ingestAnswer(path: string, res: { status: number; headers: Headers; body: unknown }): void {
  const contentType = res.headers.get('content-type') ?? '';
  openApiChecker().check('POST', path, {
    status: res.status,
    headers: res.headers,
    contentType,
    body: res.body,
    text: JSON.stringify(res.body),
  });
}

export async function buildQueryFleet(
  base: string,
  store: Store,
  db: Database,
  report: Report,
  now: Date,
): Promise<{ inventories: Record<string, string>; nodeToken: string }> {
  const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
  const release = report.node.k3s.version as string;
  const inventories: Record<string, string> = {};
  let nodeToken = '';
  const k3sDigest =
    Object.entries(report.inventory).find(([, e]) => (e as { kind: string }).kind === 'k3s-binary')?.[0] ?? '';
  const fleet: Array<[string, string, Report]> = [
    ['a-1', 'lab', asNode(report, 1)],
    ['a-2', 'lab', { ...asNode(report, 2), findings: [] }],
    ['b-1', 'edge', onRelease(report, 3, 'v1.30.2+k3s1')],
    ['d-1', 'edge', { ...onRelease(report, 4, 'v1.29.15+k3s2'), findings: [] }],
  ];
  assert.equal(release, 'v1.31.4+k3s1', 'the fixture release this test expects');
  for (const [name, cluster, body] of fleet) {
    const { token } = await store.createToken(name, cluster);
    if (name === 'a-2') nodeToken = token;
    const res = await post(base, '/api/v1/reports', {
      token,
      id: idOf(`q-${name}`),
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ingestAnswer('/api/v1/reports', res);
    inventories[name] = String(res.body.inventory);
    // Events as the agent sends them: a finding new then resolved on a-1, containerd down then up on a-2.
    const hostname = body.node.hostname;
    const events =
      name === 'a-1'
        ? (
            [
              ['new', at(-2 * DAY)],
              ['resolved', at(-1 * DAY)],
            ] as const
          ).map(([status, time]) => {
            const f = report.findings[0] as {
              key: string;
              firstSeen: string;
              lastSeen: string;
              finding: unknown;
            };
            return {
              schema: 'k3sguard/event@1',
              type: 'finding',
              status,
              time,
              node: { hostname },
              key: f.key,
              firstSeen: f.firstSeen,
              lastSeen: f.lastSeen,
              finding: f.finding,
            };
          })
        : name === 'a-2'
          ? (
              [
                [false, at(-1 * DAY)],
                [true, at(-1000)],
              ] as const
            ).map(([ok, time]) => ({
              schema: 'k3sguard/event@1',
              type: 'status',
              component: 'containerd',
              ok,
              message: ok ? 'containerd answers again' : 'containerd does not answer',
              time,
              node: { hostname },
            }))
          : [];
    for (const e of events) {
      const id = idOf(`${name} ${e.time}`);
      const sent = await post(base, '/api/v1/events', { token, id, body: JSON.stringify({ ...e, id }) });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      ingestAnswer('/api/v1/events', sent);
    }
  }
  await store.createToken('c-1', 'edge'); // a token, never a report
  // Findings per inventory, as the re-match stores them (i14-monitor's table).
  const finding = async (
    inventory: string,
    vuln: string,
    aliases: string[],
    severity: string,
    component: string,
    version: string,
    location: string,
    fixed: string | null,
    reachability: string,
  ) => {
    // As the monitor writes them: the findings and their match_runs row (the overview's cue to read them again).
    await db.run(
      `INSERT INTO match_runs (inventory_digest, db_version, matched_at, findings, new_findings, worker)
       VALUES (?, 'test', ?, 1, 1, 'query-fleet')`,
      [inventory, at(-3 * DAY)],
    );
    await db.run(
      `INSERT INTO inventory_findings (inventory_digest, vuln_id, aliases, severity, summary, component, version,
         location, artifact_digest, fixed, reachability, first_matched_at, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        inventory,
        vuln,
        JSON.stringify(aliases),
        severity,
        `${vuln} in ${component}`,
        component,
        version,
        location,
        k3sDigest,
        fixed,
        reachability,
        at(-3 * DAY),
        '{}',
      ],
    );
  };
  await finding(
    inventories['a-1'] as string,
    'GO-2099-0001',
    ['CVE-2099-1111', 'GHSA-aaaa-bbbb-cccc'],
    'high',
    'github.com/sirupsen/logrus',
    'v1.9.3',
    'bin/k3s',
    'v1.9.4',
    'reachable',
  );
  await finding(
    inventories['a-1'] as string,
    'GO-2099-0002',
    [],
    'medium',
    'github.com/urfave/cli',
    'v1.22.15',
    '',
    null,
    'not-analyzed',
  );
  await finding(
    inventories['b-1'] as string,
    'GO-2099-0001',
    ['CVE-2099-1111', 'GHSA-aaaa-bbbb-cccc'],
    'high',
    'github.com/sirupsen/logrus',
    'v1.9.3',
    'bin/k3s',
    'v1.9.4',
    'reachable',
  );
  return { inventories, nodeToken };
}
