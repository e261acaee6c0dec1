// The fleet at a glance (the dashboard's first page): how many nodes, how many seen lately, the
// K3s version spread, the open findings by severity (each node's own findings, plus each
// advisory matched against a node's inventory once per node), and drift per day. A few grouped
// queries whatever the fleet's size: vulnerabilities are counted per distinct inventory and
// multiplied by the nodes on it, never per node (advisory-summary.ts).
import type { Severity } from '../../model/inventory.ts';
import { SEVERITIES } from '../../model/severity.ts';
import type { Queryable } from '../db/database.ts';
import { advisoryCounts } from './advisory-summary.ts';
import { type DriftDay, driftByDay } from './drift.ts';
import { k3sVersionSpread, type VersionCount } from './versions.ts';

/** The days of drift the overview shows. */
export const OVERVIEW_DRIFT_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface FleetOverview {
  readonly generatedAt: string;
  readonly nodes: {
    readonly total: number;
    /** Sent a report or an event in the last 24 hours. */
    readonly seenLastDay: number;
    /** Reported once, silent for more than 24 hours. */
    readonly stale: number;
    /** A token was made, no report came yet. */
    readonly neverReported: number;
  };
  readonly clusters: number;
  /** Distinct inventories the nodes run now. */
  readonly inventories: number;
  readonly k3sVersions: VersionCount[];
  /** Open findings: nodes' own findings plus (node, advisory) pairs, by severity. */
  readonly findingsBySeverity: Record<Severity, number>;
  /** Distinct advisories affecting at least one node, by severity. */
  readonly advisoriesBySeverity: Record<Severity, number>;
  /** Drift events per day over the last OVERVIEW_DRIFT_DAYS days (days without any left out). */
  readonly drift: DriftDay[];
}

const zeroes = (): Record<Severity, number> =>
  Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;

function add(into: Record<Severity, number>, severity: string | null, n: number): void {
  const s = (SEVERITIES as readonly string[]).includes(severity ?? '') ? (severity as Severity) : 'unknown';
  into[s] += n;
}

export async function fleetOverview(db: Queryable, now: Date = new Date()): Promise<FleetOverview> {
  const dayAgo = new Date(now.getTime() - DAY_MS).toISOString();
  const since = new Date(now.getTime() - (OVERVIEW_DRIFT_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
  // Independent reads, at once: on PostgreSQL each takes its own pooled connection, so the page
  // costs the slowest of them, not their sum (SQLite runs them in turn either way).
  const [[counts], findings, advisories, k3sVersions, drift] = await Promise.all([
    db.all<{ total: number; seen: number; stale: number; never: number; clusters: number; inventories: number }>(
      `SELECT COUNT(*) AS total,
         SUM(CASE WHEN last_seen_at >= ? THEN 1 ELSE 0 END) AS seen,
         SUM(CASE WHEN last_report_id IS NOT NULL AND (last_seen_at IS NULL OR last_seen_at < ?) THEN 1 ELSE 0 END) AS stale,
         SUM(CASE WHEN last_report_id IS NULL THEN 1 ELSE 0 END) AS never,
         COUNT(DISTINCT cluster) AS clusters,
         COUNT(DISTINCT inventory_digest) AS inventories
       FROM nodes`,
      [dayAgo, dayAgo],
    ),
    db.all<{ severity: string; n: number }>('SELECT severity, COUNT(*) AS n FROM node_findings GROUP BY severity'),
    advisoryCounts(db),
    k3sVersionSpread(db),
    driftByDay(db, { since: `${since}T00:00:00.000Z` }),
  ]);
  const findingsBySeverity = zeroes();
  for (const r of findings) add(findingsBySeverity, r.severity, Number(r.n));
  for (const s of SEVERITIES) findingsBySeverity[s] += advisories.pairsBySeverity[s];
  return {
    generatedAt: now.toISOString(),
    nodes: {
      total: Number(counts?.total ?? 0),
      seenLastDay: Number(counts?.seen ?? 0),
      stale: Number(counts?.stale ?? 0),
      neverReported: Number(counts?.never ?? 0),
    },
    clusters: Number(counts?.clusters ?? 0),
    inventories: Number(counts?.inventories ?? 0),
    k3sVersions,
    findingsBySeverity,
    advisoriesBySeverity: advisories.advisoriesBySeverity,
    drift: drift.byDay,
  };
}
