// The fleet server under a fleet's load (issue 14 item 7), on SQLite and on PostgreSQL in the same
// run: a real `k3sguard server` process on loopback (test/server/server-process.ts) with
// vulnerability monitoring on (`--vuln-db`, the real Go vulndb), its database a file in a temp
// dir or a private PostgreSQL (initdb in a temp dir, test/server/postgres.ts).
// - 10,000 node tokens, created through the Store in this process before the server starts (the
//   CLI would be 10,000 processes); a viewer user and its API token through the real CLI.
// - The reports: one real `k3sguard agent --once` report varied per node
//   (bench/server-load/fleet.ts: 95% of nodes on 5 shared inventories, 5% on their own).
// - "Every node reports every 5 minutes", sped up: round 0 as fast as N keep-alive connections
//   are answered (throughput), then the next round paced at a multiple of real time (latency at
//   a steady rate). Each phase is bounded in count and time. What a durable commit costs on
//   this disk at the time is measured too (bench/server-load/disk.ts): it bounds ingest.
// - Then the fleet questions at that size (bench/server-load/queries.ts), the full re-match after
//   a `db update` (a new database renamed over --vuln-db, as `db update` does: timed until the
//   server has matched every inventory with it), and the server's RSS throughout.
// Run: npm run bench:server [-- --quick] [--nodes N] [--rounds R] [--concurrency N] [--speedup S]
//      [--phase-seconds S] [--db sqlite|postgres]
// Results: ~/.cache/k3sguard-bench/server-load-results.json (-quick.json for --quick).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Database, DatabaseUrl } from '../src/server/db/database.ts';
import { openDatabase } from '../src/server/open.ts';
import { Store } from '../src/server/store.ts';
import { k3sguard } from '../test/cli/run.ts';
import { agentReport } from '../test/server/agent-report.ts';
import { type PrivatePostgres, startPostgres } from '../test/server/postgres.ts';
import { type ServerProcess, startServerProcess } from '../test/server/server-process.ts';
import { BENCH_CACHE } from './corpus.ts';
import { syncLatencyMs } from './server-load/disk.ts';
import { type Fleet, fleetOf, REPORT_INTERVAL_MS } from './server-load/fleet.ts';
import { type LoadResult, runLoad } from './server-load/load.ts';
import { measureQueries } from './server-load/queries.ts';
import { type RssSampler, sampleRss } from './server-load/rss.ts';
import { type DbResult, TARGETS, table } from './server-load/table.ts';
import { ADDED_ADVISORY, prepareVulnDbs, replaceVulnDb, type VulnDbs, waitMatched } from './server-load/vulndb.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const QUICK = argv.includes('--quick');
const NODES = option('--nodes', QUICK ? 1000 : 10_000);
const ROUNDS = option('--rounds', 2);
const CONCURRENCY = option('--concurrency', 16);
const SPEEDUP = option('--speedup', QUICK ? 30 : 10);
/** Each load phase stops starting requests after this long, whatever is left (the paced one sooner). */
const PHASE_BUDGET_MS = option('--phase-seconds', QUICK ? 60 : 150) * 1000;
const PACED_BUDGET_MS = Math.min(PHASE_BUDGET_MS, 90_000);
/** Bound of each wait for the server's matching. */
const MATCH_BUDGET_MS = 180_000;
const QUERY_RUNS = QUICK ? 10 : 30;
const dbArg = argv.indexOf('--db');
const KINDS = (dbArg >= 0 ? [argv[dbArg + 1]] : ['sqlite', 'postgres']) as Array<'sqlite' | 'postgres'>;

const work = mkdtempSync(join(tmpdir(), 'k3sguard-bench-server-'));
const log = (line: string) => process.stderr.write(`${line}\n`);
// A reader that goes away (`| head`) must not end this process before it stops what it started.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

/** What a signal must stop before this process exits: the server process, PostgreSQL. */
const running = new Set<() => Promise<unknown>>();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    void Promise.allSettled([...running].map((stop) => stop())).finally(() => {
      rmSync(work, { recursive: true, force: true });
      process.exit(130);
    });
  });
}
const seconds = (ms: number) => Math.round(ms / 100) / 10;

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
  return { tokens, seconds: seconds(performance.now() - t0) };
}

/** A viewer account and its API token, through the real CLI: what the dashboard and API are read with. */
function viewerToken(dbText: string): string {
  const password = join(work, 'viewer.password');
  writeFileSync(password, 'bench viewer password, long enough\n', { mode: 0o600 });
  const created = k3sguard(
    ['server', 'user', 'create', '--name', 'bench', '--role', 'viewer'].concat([
      '--password-file',
      password,
      '--db',
      dbText,
    ]),
  );
  if (created.code !== 0) throw new Error(`server user create exited ${created.code}: ${created.stderr}`);
  const token = k3sguard(['server', 'user', 'token', '--name', 'bench', '--db', dbText]);
  if (token.code !== 0) throw new Error(`server user token exited ${token.code}: ${token.stderr}`);
  return token.stdout.trim();
}

async function countOf(db: Database, sql: string, params: string[] = []): Promise<number> {
  const [row] = await db.all<{ n: number }>(sql, params);
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
    deadlineMs: rate === undefined ? PHASE_BUDGET_MS : PACED_BUDGET_MS,
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

async function benchOne(kind: 'sqlite' | 'postgres', fleet: Fleet, vulndbs: VulnDbs, pgUrl: () => Promise<string>) {
  const url: DatabaseUrl =
    kind === 'sqlite'
      ? { kind, path: join(mkdtempSync(join(work, 'db-')), 'fleet.sqlite') }
      : { kind, url: await pgUrl() };
  const dbText = url.kind === 'sqlite' ? `sqlite:${url.path}` : url.url;
  const vulnDb = join(mkdtempSync(join(work, 'vulndb-')), 'vulndb.sqlite');
  const syncMs = syncLatencyMs(dirname(vulnDb));
  log(`[${kind}] disk: 4 KiB write + fdatasync, median ${syncMs} ms`);
  copyFileSync(vulndbs.before.path, vulnDb);
  const { db } = await openDatabase(url);
  let server: ServerProcess | undefined;
  let rss: RssSampler | undefined;
  try {
    log(`[${kind}] ${fleet.nodes} node tokens through the Store`);
    const { tokens, seconds: tokensSeconds } = await createTokens(db, fleet);
    server = await startServerProcess(['--db', dbText, '--vuln-db', vulnDb]);
    running.add(server.stop);
    rss = sampleRss(server.pid);
    const afterStart = rss.read().lastMiB;
    log(
      `[${kind}] server pid ${server.pid} at ${server.url}; round 0: ${fleet.nodes} reports, ${CONCURRENCY} connections`,
    );
    const firstRound = await ingestPhase(server, fleet, tokens, [0]);
    log(
      `[${kind}]   ${firstRound.sent} in ${firstRound.seconds} s (${firstRound.perSecond}/s) ${JSON.stringify(firstRound.statuses)}`,
    );
    const firstMatchSeconds = seconds(await waitMatched(db, vulndbs.before.version, MATCH_BUDGET_MS));
    log(`[${kind}]   every new inventory matched ${firstMatchSeconds} s after the round`);
    const rounds = Array.from({ length: ROUNDS - 1 }, (_, i) => i + 1);
    const targetPerSecond = (fleet.nodes / (REPORT_INTERVAL_MS / 1000)) * SPEEDUP;
    log(`[${kind}] rounds ${rounds.join(',')}: paced at ${SPEEDUP}x real time (${targetPerSecond.toFixed(0)}/s)`);
    const steady = await ingestPhase(server, fleet, tokens, rounds, targetPerSecond);
    log(`[${kind}]   ${steady.sent} in ${steady.seconds} s (${steady.perSecond}/s) ${JSON.stringify(steady.statuses)}`);
    const stored = {
      reports: await countOf(db, 'SELECT COUNT(*) AS n FROM reports'),
      inventories: await countOf(db, 'SELECT COUNT(*) AS n FROM inventories'),
      nodesReporting: await countOf(db, 'SELECT COUNT(*) AS n FROM nodes WHERE last_report_id IS NOT NULL'),
      components: await countOf(db, 'SELECT COUNT(*) AS n FROM components'),
    };
    log(`[${kind}] stored ${JSON.stringify(stored)}; queries`);
    const queries = await measureQueries(db, server.url, viewerToken(dbText), QUERY_RUNS);
    log(`[${kind}] db update: ${ADDED_ADVISORY} added; the server re-matches`);
    const t0 = performance.now();
    replaceVulnDb(vulndbs.after.path, vulnDb);
    const rematchMs = await waitMatched(db, vulndbs.after.version, MATCH_BUDGET_MS);
    const rematch = {
      seconds: seconds(rematchMs),
      inventories: stored.inventories,
      inventoriesWithAdvisory: await countOf(
        db,
        'SELECT COUNT(DISTINCT inventory_digest) AS n FROM inventory_findings WHERE vuln_id = ?',
        [ADDED_ADVISORY],
      ),
    };
    log(`[${kind}]   ${JSON.stringify(rematch)} (${seconds(performance.now() - t0)} s)`);
    const end = rss.read();
    const result: DbResult = {
      kind,
      nodes: fleet.nodes,
      syncMs,
      tokensSeconds,
      firstRound,
      firstMatchSeconds,
      steady: { ...steady, targetPerSecond: Math.round(targetPerSecond) },
      stored,
      queries,
      rematch,
      rssMiB: { peak: end.peakMiB, end: end.lastMiB, afterStart },
    };
    return result;
  } finally {
    rss?.stop();
    if (server) {
      running.delete(server.stop);
      const code = await server.stop();
      if (code !== 0) log(`[${kind}] server exited ${code}: ${server.stderr().slice(-2000)}`);
    }
    await db.close();
  }
}

// ---- main --------------------------------------------------------------------------------

let pg: PrivatePostgres | { skip: string } | undefined;
const results: DbResult[] = [];
let distinct = 0;
try {
  const made = await agentReport(join(work, 'agent'));
  if ('skip' in made) throw new Error(`cannot build the report: ${made.skip}`);
  const vulndbs = prepareVulnDbs(work);
  if ('skip' in vulndbs) throw new Error(`cannot build the vulnerability databases: ${vulndbs.skip}`);
  const fleet = fleetOf(made.report, NODES, new Date(Date.parse(made.report.check.finishedAt) + 60_000));
  distinct = fleet.distinctInventories;
  log(`fleet: ${NODES} nodes, ${distinct} distinct inventories, report ~${fleet.report(0, 0).text.length} bytes`);
  for (const kind of KINDS) {
    results.push(
      await benchOne(kind, fleet, vulndbs, async () => {
        const started = await startPostgres();
        if ('skip' in started) throw new Error(started.skip);
        pg = started;
        running.add(started.stop);
        return started.createDatabase();
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
  distinctInventories: distinct,
  targets: TARGETS,
  results,
};
mkdirSync(BENCH_CACHE, { recursive: true });
const out = join(BENCH_CACHE, `server-load-results${QUICK ? '-quick' : ''}.json`);
writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`${table(results)}\n\nresults: ${out}\n`);
