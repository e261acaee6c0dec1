// The advisory half of the fleet overview: distinct advisories affecting at least one node, and
// (node, advisory) pairs, by severity. Reading every row of inventory_findings for each page
// costs too much once the fleet holds hundreds of distinct inventories, yet those rows change
// only when a match runs, and every match writes its `match_runs` row in the same transaction
// as its findings (monitor/match-queue.ts). So the rows are read again only when match_runs
// changed, kept compactly per inventory (advisory numbers, not strings), and combined on each
// request with the nodes per inventory, which change with every report and are cheap to count.
// Each server process keeps its own copy; with several replicas each notices a match run by
// another the same way, through the database.
import type { Severity } from '../../model/inventory.ts';
import { SEVERITIES } from '../../model/severity.ts';
import type { Queryable } from '../db/database.ts';

export interface AdvisoryCounts {
  readonly advisoriesBySeverity: Record<Severity, number>;
  /** (node, advisory) pairs: an advisory on an inventory counts once per node running it. */
  readonly pairsBySeverity: Record<Severity, number>;
}

interface Loaded {
  /** `COUNT(*)` and `MAX(id)` of match_runs when the rows were read. */
  readonly key: string;
  /** Per inventory: advisory numbers, each followed by its severity's index in SEVERITIES. */
  readonly byInventory: ReadonlyMap<string, Int32Array>;
  readonly advisories: number;
}

const loadedPerDatabase = new WeakMap<Queryable, Promise<Loaded>>();

const severityIndex = (severity: string): number => {
  const i = (SEVERITIES as readonly string[]).indexOf(severity);
  return i >= 0 ? i : (SEVERITIES as readonly string[]).indexOf('unknown');
};

async function load(db: Queryable, key: string): Promise<Loaded> {
  const rows = await db.all<{ inventory_digest: string; vuln_id: string; severity: string }>(
    'SELECT DISTINCT inventory_digest, vuln_id, severity FROM inventory_findings',
  );
  const numbers = new Map<string, number>();
  const lists = new Map<string, number[]>();
  for (const r of rows) {
    let n = numbers.get(`${r.vuln_id}\0${r.severity}`);
    if (n === undefined) {
      n = numbers.size;
      numbers.set(`${r.vuln_id}\0${r.severity}`, n);
    }
    const list = lists.get(r.inventory_digest) ?? [];
    if (list.length === 0) lists.set(r.inventory_digest, list);
    list.push(n, severityIndex(r.severity));
  }
  const byInventory = new Map<string, Int32Array>();
  for (const [digest, list] of lists) byInventory.set(digest, Int32Array.from(list));
  return { key, byInventory, advisories: numbers.size };
}

async function current(db: Queryable): Promise<Loaded> {
  const [runs] = await db.all<{ n: number; last: number | null }>(
    'SELECT COUNT(*) AS n, MAX(id) AS last FROM match_runs',
  );
  const key = `${Number(runs?.n ?? 0)}:${Number(runs?.last ?? 0)}`;
  const cached = loadedPerDatabase.get(db);
  if (cached) {
    const loaded = await cached.catch(() => undefined);
    if (loaded?.key === key) return loaded;
  }
  const loading = load(db, key);
  loadedPerDatabase.set(db, loading);
  return loading;
}

const zeroes = (): Record<Severity, number> =>
  Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;

/** The advisories affecting the fleet now: the stored matches, weighed by the nodes on each inventory. */
export async function advisoryCounts(db: Queryable): Promise<AdvisoryCounts> {
  const [loaded, nodes] = await Promise.all([
    current(db),
    db.all<{ inventory_digest: string; n: number }>(
      'SELECT inventory_digest, COUNT(*) AS n FROM nodes WHERE inventory_digest IS NOT NULL GROUP BY inventory_digest',
    ),
  ]);
  const advisoriesBySeverity = zeroes();
  const pairsBySeverity = zeroes();
  const seen = new Uint8Array(loaded.advisories);
  for (const { inventory_digest, n } of nodes) {
    const list = loaded.byInventory.get(inventory_digest);
    if (!list) continue;
    for (let i = 0; i < list.length; i += 2) {
      const severity = SEVERITIES[list[i + 1] as number] as Severity;
      pairsBySeverity[severity] += Number(n);
      const advisory = list[i] as number;
      if (seen[advisory] === 0) {
        seen[advisory] = 1;
        advisoriesBySeverity[severity] += 1;
      }
    }
  }
  return { advisoriesBySeverity, pairsBySeverity };
}
