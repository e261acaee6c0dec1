// The fleet server's query functions (src/server/queries/) at fleet size (issue 14 item 7:
// "which nodes run runc < 1.1.12" and the overview, target p95 under 100 ms at 10,000 nodes),
// on SQLite and on PostgreSQL. A fleet is built through the real ingest path (Store.ingestReport,
// one transaction per report, as POST /api/v1/reports does after validation): 10,000 nodes in
// 40 clusters on 5 inventories (shared 40/25/15/10/10 %), each K3s binary with 20 Go binaries of
// 150 modules and runc in one of them; 60 advisories per inventory as the monitor stores them
// (inventory_findings) and 3 events per node over 14 days (inserted in one transaction). Then
// each query runs --runs times (after one warm-up) and two routes are asked over HTTP with a user
// token. PostgreSQL is private to the run (initdb in a temp dir, stopped by PID).
// Run: node bench/server-queries.ts [--nodes N] [--runs N] [--db sqlite|postgres|both].
// Results: ~/.cache/k3sguard-bench/server-queries-results.json.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ReportGoBinary } from '../src/model/report-components.ts';
import { createUser, createUserToken } from '../src/server/auth/users.ts';
import type { Database, DatabaseUrl } from '../src/server/db/database.ts';
import { startServer } from '../src/server/http.ts';
import { openDatabase } from '../src/server/open.ts';
import * as queries from '../src/server/queries/index.ts';
import { type ReportDocument, Store } from '../src/server/store.ts';
import { type PrivatePostgres, startPostgres } from '../test/server/postgres.ts';
import { BENCH_CACHE } from './corpus.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const NODES = Number(arg('--nodes', '10000'));
const RUNS = Number(arg('--runs', '50'));
const KINDS = arg('--db', 'both') === 'both' ? ['sqlite', 'postgres'] : [arg('--db', 'both')];
const TARGET_P95_MS = 100;
const DAY = 86_400_000;

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const RELEASES = ['v1.31.4+k3s1', 'v1.31.3+k3s1', 'v1.30.8+k3s1', 'v1.30.2+k3s1', 'v1.29.15+k3s2'];
const RUNC = ['v1.1.14', 'v1.1.12', 'v1.1.11', 'v1.1.10', 'v1.1.9'];
const SHARE = [40, 25, 15, 10, 10];

function inventoryOf(i: number): { digest: string; inventory: ReportDocument['inventory'] } {
  const binaries: ReportGoBinary[] = [];
  for (let b = 0; b < 20; b++) {
    const modules: Array<[string, string]> = [];
    for (let m = 0; m < 150; m++) modules.push([`github.com/org${m}/module${m}`, `v1.${m % 7}.${(m + i) % 5}`]);
    if (b === 1) modules.push(['github.com/opencontainers/runc', RUNC[i] as string]);
    binaries.push({
      path: b === 0 ? '' : `bin/tool${b}`,
      go: 'go1.22.5',
      goos: 'linux',
      goarch: 'amd64',
      main: [`github.com/k3s-io/tool${b}`, 'v1.0.0'],
      modules,
    });
  }
  const digest = `sha256:${sha(`k3s ${i}`)}`;
  return {
    digest,
    inventory: {
      [digest]: {
        kind: 'k3s-binary',
        names: ['/usr/local/bin/k3s'],
        k3sVersion: RELEASES[i] as string,
        components: { binaries },
      },
      [`sha256:${sha('containerd-shim')}`]: {
        kind: 'executable',
        names: ['/var/lib/rancher/k3s/data/current/bin/containerd-shim-runc-v2'],
      },
    },
  };
}

function reportOf(n: number, inventory: ReturnType<typeof inventoryOf>, now: number): ReportDocument {
  const release = inventory.inventory[inventory.digest]?.k3sVersion as string;
  return {
    node: {
      hostname: `node-${n}`,
      machineId: sha(`m${n}`).slice(0, 32),
      k3s: { version: release, role: 'agent', binary: { path: '/usr/local/bin/k3s', digest: inventory.digest } },
    },
    check: { finishedAt: new Date(now - (n % 300) * 1000).toISOString() },
    inventory: inventory.inventory,
    findings: [
      {
        key: sha(`f${n}`),
        firstSeen: new Date(now - DAY).toISOString(),
        lastSeen: new Date(now).toISOString(),
        finding: { id: 'K3SG-NODE-BINARY-UNLOCKED', severity: 'high', component: 'k3s' },
      },
    ],
  };
}

async function buildFleet(db: Database, store: Store): Promise<number> {
  const started = performance.now();
  const now = Date.now();
  const inventories = [0, 1, 2, 3, 4].map(inventoryOf);
  const names = Array.from({ length: NODES }, (_, n) => `node-${String(n).padStart(5, '0')}`);
  await db.transaction(async (tx) => {
    for (const [n, name] of names.entries()) {
      await tx.run('INSERT INTO nodes (name, cluster, created_at) VALUES (?, ?, ?)', [
        name,
        `cluster-${n % 40}`,
        new Date(now).toISOString(),
      ]);
    }
  });
  const ids = await db.all<{ id: number; name: string }>('SELECT id, name FROM nodes ORDER BY name');
  for (const [n, row] of ids.entries()) {
    let i = 0;
    for (let p = (n * 100) / NODES, acc = 0; i < SHARE.length; i++) {
      acc += SHARE[i] as number;
      if (p < acc) break;
    }
    const inventory = inventories[Math.min(i, 4)] as ReturnType<typeof inventoryOf>;
    await store.ingestReport(
      { tokenId: 'bench', nodeId: row.id, node: row.name },
      sha(`r${n}`),
      reportOf(n, inventory, now),
      sha(`b${n}`),
    );
  }
  const stored = await db.all<{ digest: string }>('SELECT digest FROM inventories');
  await db.transaction(async (tx) => {
    for (const { digest } of stored) {
      for (let j = 0; j < 60; j++) {
        await tx.run(
          `INSERT INTO inventory_findings (inventory_digest, vuln_id, aliases, severity, summary, component, version,
             location, artifact_digest, fixed, reachability, first_matched_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            digest,
            `GO-2024-${1000 + j}`,
            JSON.stringify([`CVE-2024-${5000 + j}`]),
            ['critical', 'high', 'medium', 'low'][j % 4] as string,
            'an advisory',
            `github.com/org${j}/module${j}`,
            'v1.0.0',
            `bin/tool${j % 20}`,
            null,
            `v1.${j}.9`,
            'reachable',
            new Date(now).toISOString(),
            '{}',
          ],
        );
      }
      // As the monitor writes them: with their match_runs row (the overview reads findings again when it grows).
      await tx.run(
        `INSERT INTO match_runs (inventory_digest, db_version, matched_at, findings, new_findings, worker)
         VALUES (?, 'bench', ?, 60, 60, 'bench')`,
        [digest, new Date(now).toISOString()],
      );
    }
    for (const [n, row] of ids.entries()) {
      for (let e = 0; e < 3; e++) {
        await tx.run(
          `INSERT INTO events (node_id, id, type, status, key, rule_id, severity, time, received_at, body) VALUES (?, ?, 'finding', ?, ?, ?, ?, ?, ?, ?)`,
          [
            row.id,
            sha(`e${n}-${e}`),
            e === 2 ? 'resolved' : 'new',
            sha(`f${n}`),
            'K3SG-NODE-BINARY-UNLOCKED',
            'high',
            new Date(now - ((n * 7 + e * 13) % (14 * 24)) * 3_600_000).toISOString(),
            new Date(now).toISOString(),
            JSON.stringify({ finding: { title: 't', message: 'm' } }),
          ],
        );
      }
    }
  });
  return performance.now() - started;
}

interface Figure {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

async function measure(fn: () => Promise<unknown>): Promise<Figure> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    Number((times[Math.min(times.length - 1, Math.floor(times.length * q))] as number).toFixed(1));
  return { p50: at(0.5), p95: at(0.95), max: at(1) };
}

const results: Record<string, unknown> = { nodes: NODES, runs: RUNS, targetP95Ms: TARGET_P95_MS };
const work = mkdtempSync(join(tmpdir(), 'k3sguard-bench-queries-'));
let postgres: PrivatePostgres | undefined;
try {
  for (const kind of KINDS) {
    let url: DatabaseUrl;
    if (kind === 'sqlite') url = { kind: 'sqlite', path: join(work, 'fleet.sqlite') };
    else {
      const started = await startPostgres();
      if ('skip' in started) {
        results[kind] = { skipped: started.skip };
        continue;
      }
      postgres = started;
      url = { kind: 'postgres', url: await started.createDatabase() };
    }
    const { db } = await openDatabase(url);
    const store = new Store(db);
    const buildMs = await buildFleet(db, store);
    // What a database that has served for a while knows of its tables.
    await db.run(kind === 'sqlite' ? 'ANALYZE' : 'VACUUM ANALYZE');
    const since = new Date(Date.now() - 7 * DAY).toISOString();
    const figures: Record<string, Figure> = {};
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['fleetOverview', () => queries.fleetOverview(db)],
      ['listNodes (first page)', () => queries.listNodes(db, {})],
      ['listNodes (cluster, hasFindings)', () => queries.listNodes(db, { cluster: 'cluster-7', hasFindings: true })],
      ['listNodes (offset 9000)', () => queries.listNodes(db, { offset: Math.max(0, NODES - 1000) })],
      ['nodeDetail (3,000 components)', () => queries.nodeDetail(db, 'node-04242')],
      [
        'searchComponents runc < 1.1.12 (first page)',
        () => queries.searchComponents(db, { name: 'github.com/opencontainers/runc', below: '1.1.12' }),
      ],
      [
        'searchComponents runc < 1.1.12 (10,000 rows)',
        () => queries.searchComponents(db, { name: 'github.com/opencontainers/runc', below: '1.1.12', limit: 10_000 }),
      ],
      ['listVulnerabilities', () => queries.listVulnerabilities(db)],
      ['vulnerabilityDetail (by alias)', () => queries.vulnerabilityDetail(db, 'CVE-2024-5007')],
      ['k3sVersionSpread', () => queries.k3sVersionSpread(db)],
      ['driftEvents (7 days)', () => queries.driftEvents(db, { since })],
    ];
    for (const [name, fn] of cases) figures[name] = await measure(fn);
    const server = await startServer({ store, host: '127.0.0.1', port: 0 });
    await createUser(db, 'bench', 'viewer', 'bench password');
    const headers = { authorization: `Bearer ${(await createUserToken(db, 'bench'))?.token}` };
    const http = (path: string) => async () => {
      const res = await fetch(`${server.url}${path}`, { headers });
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      await res.text();
    };
    figures['HTTP GET /api/v1/components?name=runc&below=1.1.12'] = await measure(
      http('/api/v1/components?name=github.com/opencontainers/runc&below=1.1.12'),
    );
    figures['HTTP GET /api/v1/overview'] = await measure(http('/api/v1/overview'));
    figures['HTTP GET /api/v1/nodes?format=csv&limit=10000'] = await measure(
      http('/api/v1/nodes?format=csv&limit=10000'),
    );
    await server.close();
    await db.close();
    results[kind] = { buildSeconds: Math.round(buildMs / 1000), figures };
    process.stdout.write(`\n${kind}: ${NODES} nodes built in ${Math.round(buildMs / 1000)} s\n`);
    for (const [name, f] of Object.entries(figures)) {
      process.stdout.write(
        `  ${name.padEnd(56)} p50 ${String(f.p50).padStart(6)} ms  p95 ${String(f.p95).padStart(6)} ms  max ${String(f.max).padStart(6)} ms\n`,
      );
    }
  }
} finally {
  await postgres?.stop();
  rmSync(work, { recursive: true, force: true });
}
mkdirSync(BENCH_CACHE, { recursive: true });
writeFileSync(join(BENCH_CACHE, 'server-queries-results.json'), `${JSON.stringify(results, null, 2)}\n`);
