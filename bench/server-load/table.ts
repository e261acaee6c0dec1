// The table bench/server-load.ts prints: each figure on SQLite and on PostgreSQL, their ratio and
// the target; a part that could not be measured says why.
import type { LoadResult } from './load.ts';
import type { QueryFigure } from './queries.ts';

export const TARGETS = { queryP95Ms: 100, rematchSeconds: 30, rssMiB: 300 };

export interface DbResult {
  readonly kind: 'sqlite' | 'postgres';
  readonly nodes: number;
  /** 4 KiB write + fdatasync on the disk the database is on, median ms, measured before the run. */
  readonly syncMs: number;
  readonly tokensSeconds: number;
  readonly firstRound: LoadResult;
  readonly steady: LoadResult & { readonly targetPerSecond: number };
  /** After the first round: until every new inventory was matched by the server's monitor. */
  readonly firstMatchSeconds: number;
  readonly stored: Record<string, number>;
  readonly queries: Record<string, QueryFigure> | { readonly notMeasured: string };
  readonly rematch:
    | { readonly seconds: number; readonly inventories: number; readonly inventoriesWithAdvisory: number }
    | { readonly notMeasured: string };
  readonly rssMiB: { readonly peak: number; readonly end: number; readonly afterStart: number };
}

type Row = [string, string, string, string, string];

export function table(results: DbResult[]): string {
  const rows: Row[] = [];
  const s = results.find((r) => r.kind === 'sqlite');
  const p = results.find((r) => r.kind === 'postgres');
  const ratio = (a?: number, b?: number) => (a && b ? `${(b / a).toFixed(2)}x` : '-');
  const fmt = (v: number | undefined, unit: string) => (v === undefined || Number.isNaN(v) ? '-' : `${v} ${unit}`);
  const add = (label: string, target: string, get: (r: DbResult) => number | undefined, unit: string) =>
    rows.push([label, fmt(s && get(s), unit), fmt(p && get(p), unit), ratio(s && get(s), p && get(p)), target]);
  const text = (label: string, get: (r: DbResult) => string) =>
    rows.push([label, s ? get(s) : '-', p ? get(p) : '-', '', '']);
  const notMeasured = (label: string, why: string, target: string) =>
    rows.push([label, `not measured: ${why}`, '', '', target]);

  add('disk: 4 KiB write + fdatasync (context)', '-', (r) => r.syncMs, 'ms');
  const acked = (l: LoadResult) => `${l.statuses['201'] ?? 0} of ${l.planned}`;
  text('ingest, first round: 201 answers', (r) => acked(r.firstRound));
  add('ingest, first round: throughput', '-', (r) => r.firstRound.perSecond, '/s');
  add('ingest, first round: p50', '-', (r) => r.firstRound.latencyMs.p50, 'ms');
  add('ingest, first round: p99', '-', (r) => r.firstRound.latencyMs.p99, 'ms');
  add('first match of the new inventories', '-', (r) => r.firstMatchSeconds, 's');
  const paced = results[0]?.steady.targetPerSecond;
  text('ingest, paced round: 201 answers', (r) => acked(r.steady));
  add('ingest, paced round: achieved rate', `${paced}/s`, (r) => r.steady.perSecond, '/s');
  add('ingest, paced round: p50', '-', (r) => r.steady.latencyMs.p50, 'ms');
  add('ingest, paced round: p99', '-', (r) => r.steady.latencyMs.p99, 'ms');
  const first = results[0];
  if (first && 'notMeasured' in first.queries) {
    notMeasured('fleet queries', first.queries.notMeasured as string, `p95 < ${TARGETS.queryP95Ms} ms`);
  } else if (first) {
    for (const label of Object.keys(first.queries)) {
      const q = (r: DbResult) => (r.queries as Record<string, QueryFigure>)[label];
      const answers = [...new Set(results.map((r) => q(r)?.answer))].join(' / ');
      add(`${label}: p50`, '-', (r) => q(r)?.ms.p50, 'ms');
      add(`${label}: p95 (${answers})`, `< ${TARGETS.queryP95Ms} ms`, (r) => q(r)?.ms.p95, 'ms');
    }
  }
  const rematch = results.find((r) => 'notMeasured' in r.rematch)?.rematch as { notMeasured: string } | undefined;
  if (rematch) notMeasured('full re-match after db update', rematch.notMeasured, `< ${TARGETS.rematchSeconds} s`);
  else {
    const rm = (r: DbResult) => r.rematch as { seconds: number; inventories: number; inventoriesWithAdvisory: number };
    const what = `${first ? rm(first).inventories : '?'} inventories`;
    add(`full re-match after db update (${what})`, `< ${TARGETS.rematchSeconds} s`, (r) => rm(r).seconds, 's');
  }
  add('server RSS: peak', `< ${TARGETS.rssMiB} MB`, (r) => r.rssMiB.peak, 'MiB');
  add('server RSS: end', `< ${TARGETS.rssMiB} MB`, (r) => r.rssMiB.end, 'MiB');
  const head: Row = ['', 'SQLite', 'PostgreSQL', 'PG/SQLite', 'target'];
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
