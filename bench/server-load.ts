// The fleet server under a fleet's load (issue 14 item 7), on SQLite and on PostgreSQL in the same
// run: a real `k3sguard server` process on loopback (test/server/server-process.ts), its database
// a file in a temp dir or a private PostgreSQL (initdb in a temp dir, test/server/postgres.ts).
// 10,000 node tokens are created through the Store (in this process, before the server starts:
// the CLI would be 10,000 processes). The reports are one real `k3sguard agent --once` report
// varied per node (bench/server-load/fleet.ts: 95% of nodes on 5 shared inventories). "Every node
// reports every 5 minutes", sped up: the first round as fast as N keep-alive connections are
// answered (throughput), then the next rounds paced at a multiple of real time (latency at a
// steady rate). Then the fleet queries at that size, and the server's RSS throughout.
// Run: npm run bench:server [-- --quick] [--nodes N] [--rounds R] [--concurrency N] [--speedup S] [--db sqlite|postgres]
// Results: ~/.cache/k3sguard-bench/server-load-results.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodesWithComponentBelow } from '../src/server/component-query.ts';
import type { Database, DatabaseUrl } from '../src/server/db/database.ts';
import { openDatabase } from '../src/server/open.ts';
import { Store } from '../src/server/store.ts';
import { agentReport } from '../test/server/agent-report.ts';
import { startPostgres } from '../test/server/postgres.ts';
import { type ServerProcess, startServerProcess } from '../test/server/server-process.ts';
import { BENCH_CACHE } from './corpus.ts';
import { type Fleet, fleetOf, REPORT_INTERVAL_MS } from './server-load/fleet.ts';
import { type LoadResult, type Percentiles, runLoad, timeRuns } from './server-load/load.ts';
import { type RssSampler, sampleRss } from './server-load/rss.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const QUICK = argv.includes('--quick');
const NODES = option('--nodes', QUICK ? 1000 : 10_000);
const ROUNDS = option('--rounds', QUICK ? 2 : 3);
const CONCURRENCY = option('--concurrency', 16);
const SPEEDUP = option('--speedup', QUICK ? 30 : 10);
/** Each load phase stops starting requests after this long, whatever is left. */
const PHASE_BUDGET_MS = option('--phase-seconds', QUICK ? 60 : 150) * 1000;
const QUERY_RUNS = QUICK ? 20 : 50;
const dbArg = argv.indexOf('--db');
const KINDS = (dbArg >= 0 ? [argv[dbArg + 1]] : ['sqlite', 'postgres']) as Array<'sqlite' | 'postgres'>;

const TARGETS = { queryP95Ms: 100, rematchSeconds: 30, rssMiB: 300 };
const RUNC = { name: 'github.com/opencontainers/runc', below: 'v1.1.12' };
const K3S = { name: 'github.com/k3s-io/k3s', below: 'v1.31.4+k3s1' };

interface QueryFigure {
  hits: number;
  ms: Percentiles;
}

interface DbResult {
  kind: 'sqlite' | 'postgres';
  nodes: number;
  tokensSeconds: number;
  firstRound: LoadResult;
  steady: LoadResult & { targetPerSecond: number };
  stored: { reports: number; inventories: number; nodesReporting: number };
  queries: Record<string, QueryFigure | { notMeasured: string }>;
  rematch: { seconds: number; inventories: number } | { notMeasured: string };
  rssMiB: { peak: number; end: number; afterStart: number };
}

const work = mkdtempSync(join(tmpdir(), 'k3sguard-bench-server-'));
const log = (line: string) => process.stderr.write(`${line}\n`);

async function createTokens(db: Database, fleet: Fleet): Promise<{ tokens: string[]; seconds: number }> {
  const store = new Store(db);
  const tokens: string[] = new Array(fleet.nodes);
  const t0 = performance.now();
  let next = 0;
  // One at a time on SQLite (one writer); a few at once on PostgreSQL, as token scripts would.
  const lanes = db.dialect === 'postgres' ? 8 : 1;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let n = next++; n < fleet.nodes; n = next++) {
        tokens[n] = (await store.createToken(fleet.name(n), `cluster-${n % 40}`)).token;
      }
    }),
  );
  return { tokens, seconds: (performance.now() - t0) / 1000 };
}

async function countOf(db: Database, sql: string): Promise<number> {
  const [row] = await db.all<{ n: number }>(sql);
  return Number(row?.n);
}

function ingestPhase(
  server: ServerProcess,
  fleet: Fleet,
  tokens: string[],
  rounds: number[],
  rate?: number,
): Promise<LoadResult> {
  return runLoad({
    count: rounds.length * fleet.nodes,
    concurrency: CONCURRENCY,
    deadlineMs: PHASE_BUDGET_MS,
    ...(rate !== undefined ? { rate } : {}),
    request: (i) => {
      const round = rounds[Math.floor(i / fleet.nodes)] as number;
      const n = i % fleet.nodes;
      const { id, text } = fleet.report(n, round);
      return {
        url: `${server.url}/api/v1/reports`,
        headers: {
          authorization: `Bearer ${tokens[n]}`,
          'content-type': 'application/json',
          'x-k3sguard-event-id': id,
        },
        body: text,
      };
    },
  });
}

async function queries(db: Database): Promise<DbResult['queries']> {
  const out: DbResult['queries'] = {};
  for (const [label, q] of [
    ['runc below v1.1.12 (nodesWithComponentBelow)', RUNC],
    ['k3s below v1.31.4+k3s1 (nodesWithComponentBelow)', K3S],
  ] as const) {
    const hits = (await nodesWithComponentBelow(db, q.name, q.below)).length;
    out[label] = { hits, ms: await timeRuns(QUERY_RUNS, () => nodesWithComponentBelow(db, q.name, q.below)) };
  }
  // ---- i14-api: GET /api/v1/components?name=&below= -------------------------------------
  out['runc below v1.1.12 (HTTP /api/v1/components)'] = { notMeasured: 'the query API (branch i14-api) is not merged' };
  // ---- i14-dash: the fleet overview page -------------------------------------------------
  out['fleet overview page (HTTP GET /)'] = { notMeasured: 'the dashboard (branch i14-dash) is not merged' };
  return out;
}

async function rematch(_db: Database): Promise<DbResult['rematch']> {
  // ---- i14-monitor: a full re-match of every distinct inventory after `db update` -----------
  return { notMeasured: 'the re-match (branch i14-monitor) is not merged' };
}

async function benchOne(kind: 'sqlite' | 'postgres', fleet: Fleet, pgUrl: () => Promise<string>): Promise<DbResult> {
  const url: DatabaseUrl =
    kind === 'sqlite'
      ? { kind, path: join(mkdtempSync(join(work, 'db-')), 'fleet.sqlite') }
      : { kind, url: await pgUrl() };
  const dbText = url.kind === 'sqlite' ? `sqlite:${url.path}` : url.url;
  const { db } = await openDatabase(url);
  let server: ServerProcess | undefined;
  let rss: RssSampler | undefined;
  try {
    log(`[${kind}] ${fleet.nodes} node tokens through the Store`);
    const { tokens, seconds: tokensSeconds } = await createTokens(db, fleet);
    server = await startServerProcess(['--db', dbText]);
    rss = sampleRss(server.pid);
    const afterStart = rss.read().lastMiB;
    log(
      `[${kind}] server pid ${server.pid} at ${server.url}; round 0: ${fleet.nodes} reports, ${CONCURRENCY} connections`,
    );
    const firstRound = await ingestPhase(server, fleet, tokens, [0]);
    log(
      `[${kind}]   ${firstRound.sent} in ${firstRound.seconds} s (${firstRound.perSecond}/s) ${JSON.stringify(firstRound.statuses)}`,
    );
    const rounds = Array.from({ length: ROUNDS - 1 }, (_, i) => i + 1);
    const targetPerSecond = (fleet.nodes / (REPORT_INTERVAL_MS / 1000)) * SPEEDUP;
    log(`[${kind}] rounds ${rounds.join(',')}: paced at ${SPEEDUP}x real time (${targetPerSecond.toFixed(0)}/s)`);
    const steady = await ingestPhase(server, fleet, tokens, rounds, targetPerSecond);
    log(`[${kind}]   ${steady.sent} in ${steady.seconds} s (${steady.perSecond}/s) ${JSON.stringify(steady.statuses)}`);
    const stored = {
      reports: await countOf(db, 'SELECT COUNT(*) AS n FROM reports'),
      inventories: await countOf(db, 'SELECT COUNT(*) AS n FROM inventories'),
      nodesReporting: await countOf(db, 'SELECT COUNT(*) AS n FROM nodes WHERE last_report_id IS NOT NULL'),
    };
    log(`[${kind}] stored ${JSON.stringify(stored)}; queries`);
    const q = await queries(db);
    const rm = await rematch(db);
    const end = rss.read();
    return {
      kind,
      nodes: fleet.nodes,
      tokensSeconds: Math.round(tokensSeconds * 10) / 10,
      firstRound,
      steady: { ...steady, targetPerSecond: Math.round(targetPerSecond) },
      stored,
      queries: q,
      rematch: rm,
      rssMiB: { peak: end.peakMiB, end: end.lastMiB, afterStart },
    };
  } finally {
    rss?.stop();
    if (server) {
      const code = await server.stop();
      if (code !== 0) log(`[${kind}] server exited ${code}: ${server.stderr().slice(-2000)}`);
    }
    await db.close();
  }
}

// ---- the table ---------------------------------------------------------------------------

function table(results: DbResult[]): string {
  const rows: Array<[string, ...string[]]> = [];
  const by = (k: string) => results.find((r) => r.kind === k);
  const s = by('sqlite');
  const p = by('postgres');
  const ratio = (a?: number, b?: number) => (a && b ? `${(b / a).toFixed(2)}x` : '-');
  const fmt = (v: number | undefined, unit: string) => (v === undefined || Number.isNaN(v) ? '-' : `${v} ${unit}`);
  const add = (label: string, target: string, get: (r: DbResult) => number | undefined, unit: string) =>
    rows.push([label, fmt(s && get(s), unit), fmt(p && get(p), unit), ratio(s && get(s), p && get(p)), target]);
  add('ingest, first round: throughput', '-', (r) => r.firstRound.perSecond, '/s');
  add('ingest, first round: p50', '-', (r) => r.firstRound.latencyMs.p50, 'ms');
  add('ingest, first round: p99', '-', (r) => r.firstRound.latencyMs.p99, 'ms');
  add(
    'ingest, paced rounds: achieved rate',
    `${results[0]?.steady.targetPerSecond}/s`,
    (r) => r.steady.perSecond,
    '/s',
  );
  add('ingest, paced rounds: p50', '-', (r) => r.steady.latencyMs.p50, 'ms');
  add('ingest, paced rounds: p99', '-', (r) => r.steady.latencyMs.p99, 'ms');
  for (const label of Object.keys(results[0]?.queries ?? {})) {
    const q = (r: DbResult) => r.queries[label] as QueryFigure | { notMeasured: string } | undefined;
    const first = results.map(q).find((x) => x && 'notMeasured' in x) as { notMeasured: string } | undefined;
    if (first) {
      rows.push([label, `not measured: ${first.notMeasured}`, '', '', `p95 < ${TARGETS.queryP95Ms} ms`]);
      continue;
    }
    const fig = (r: DbResult) => q(r) as QueryFigure;
    add(`${label}: p50`, '-', (r) => fig(r).ms.p50, 'ms');
    add(
      `${label}: p95 (${results.map((r) => fig(r).hits).join('/')} nodes)`,
      `< ${TARGETS.queryP95Ms} ms`,
      (r) => fig(r).ms.p95,
      'ms',
    );
  }
  const rm = results.find((r) => 'notMeasured' in r.rematch)?.rematch as { notMeasured: string } | undefined;
  if (rm)
    rows.push([
      'full re-match after db update',
      `not measured: ${rm.notMeasured}`,
      '',
      '',
      `< ${TARGETS.rematchSeconds} s`,
    ]);
  else
    add(
      'full re-match after db update',
      `< ${TARGETS.rematchSeconds} s`,
      (r) => (r.rematch as { seconds: number }).seconds,
      's',
    );
  add('server RSS: peak', `< ${TARGETS.rssMiB} MB`, (r) => r.rssMiB.peak, 'MiB');
  add('server RSS: end', `< ${TARGETS.rssMiB} MB`, (r) => r.rssMiB.end, 'MiB');
  const head: [string, ...string[]] = ['', 'SQLite', 'PostgreSQL', 'PG/SQLite', 'target'];
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => (r[i] ?? '').length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] as number))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

// ---- main --------------------------------------------------------------------------------

const made = await agentReport(join(work, 'agent'));
if ('skip' in made) throw new Error(`cannot build the report: ${made.skip}`);
const fleet = fleetOf(made.report, NODES, new Date(Date.parse(made.report.check.finishedAt) + 60_000));
log(
  `fleet: ${NODES} nodes, ${fleet.distinctInventories} distinct inventories, report ~${fleet.report(0, 0).text.length} bytes`,
);
let pg: Awaited<ReturnType<typeof startPostgres>> | undefined;
const results: DbResult[] = [];
try {
  for (const kind of KINDS) {
    results.push(
      await benchOne(kind, fleet, async () => {
        pg = await startPostgres();
        if ('skip' in pg) throw new Error(pg.skip);
        return pg.createDatabase();
      }),
    );
  }
} finally {
  if (pg && !('skip' in pg)) await pg.stop();
  rmSync(work, { recursive: true, force: true });
}
const summary = {
  when: new Date().toISOString(),
  machine: 'shared, 2 cores: other work ran at the same time',
  nodes: NODES,
  rounds: ROUNDS,
  concurrency: CONCURRENCY,
  speedup: SPEEDUP,
  distinctInventories: fleet.distinctInventories,
  targets: TARGETS,
  results,
};
mkdirSync(BENCH_CACHE, { recursive: true });
const out = join(BENCH_CACHE, `server-load-results${QUICK ? '-quick' : ''}.json`);
writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`${table(results)}\n\nresults: ${out}\n`);
