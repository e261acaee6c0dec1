// Drift over time: what agents reported as it happened (their events: a finding new or resolved,
// containerd down or up again), between two times, for the fleet or one node; the events a page
// at a time, newest first, and counted per day for a chart. Times are ISO-8601 UTC text, which
// compares as time on both databases (events_time and events_node_time index them).
import type { Queryable, SqlValue } from '../db/database.ts';
import { type Page, type PageRequest, pageOf } from './page.ts';

export interface DriftQuery extends PageRequest {
  /** From this time (ISO-8601, inclusive). */
  readonly since: string;
  /** Up to this time (exclusive); default: no end. */
  readonly until?: string;
  /** One node's events only. */
  readonly node?: string;
}

export type DriftStatus = 'new' | 'resolved' | 'down' | 'up';

export interface DriftEvent {
  readonly node: string;
  readonly id: string;
  readonly type: 'finding' | 'status';
  /** A finding `new` or `resolved`; containerd `down` or `up` again. */
  readonly status: DriftStatus;
  readonly time: string;
  /** The finding's key on its node (finding events). */
  readonly key: string | null;
  readonly ruleId: string | null;
  readonly severity: string | null;
  readonly title: string | null;
  /** The finding's component, or `containerd` for a status event. */
  readonly component: string | null;
  readonly message: string | null;
}

export interface DriftDay {
  /** `YYYY-MM-DD` (UTC). */
  readonly day: string;
  readonly new: number;
  readonly resolved: number;
  readonly down: number;
  readonly up: number;
}

export interface DriftResult extends Page<DriftEvent> {
  readonly since: string;
  readonly until: string | null;
  /** Every day from `since` with events, in order (days without events are left out). */
  readonly byDay: DriftDay[];
}

export interface EventRow {
  [column: string]: SqlValue;
  node: string;
  id: string;
  type: string;
  status: string | null;
  key: string | null;
  rule_id: string | null;
  severity: string | null;
  time: string;
  body: string;
}

export const EVENT_COLUMNS = 'n.name AS node, e.id, e.type, e.status, e.key, e.rule_id, e.severity, e.time, e.body';

function parsed(body: string): Record<string, unknown> {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {}; // stored only after validation; an unreadable one shows its columns only
  }
}

function statusUp(body: string): boolean {
  return parsed(body).ok === true;
}

/** Stored events are schema-valid `k3sguard/event@1` documents; the few fields shown come from the body. */
export function driftEvent(r: EventRow): DriftEvent {
  const body = parsed(r.body);
  const finding = (body.finding ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const isStatus = r.type === 'status';
  return {
    node: r.node,
    id: r.id,
    type: isStatus ? 'status' : 'finding',
    status: isStatus ? (body.ok === true ? 'up' : 'down') : r.status === 'resolved' ? 'resolved' : 'new',
    time: r.time,
    key: r.key,
    ruleId: r.rule_id,
    severity: r.severity,
    title: isStatus ? null : text(finding.title),
    component: isStatus ? text(body.component) : text(finding.component),
    message: isStatus ? text(body.message) : text(finding.message),
  };
}

/** The WHERE clause and parameters of a drift query over `events e`. */
function driftWhere(query: DriftQuery): { where: string; params: SqlValue[] } {
  const where = ["e.type IN ('finding', 'status')", 'e.time >= ?'];
  const params: SqlValue[] = [query.since];
  if (query.until !== undefined) {
    where.push('e.time < ?');
    params.push(query.until);
  }
  if (query.node !== undefined) {
    where.push('e.node_id = (SELECT id FROM nodes WHERE name = ?)');
    params.push(query.node);
  }
  return { where: where.join(' AND '), params };
}

/** Events counted per day (and their total), without reading the events themselves. */
export async function driftByDay(db: Queryable, query: DriftQuery): Promise<{ total: number; byDay: DriftDay[] }> {
  const { where, params } = driftWhere(query);
  // Findings counted per day by the database from the (time, type, status) index; status events
  // (containerd down or up: rare) read one by one, since whether it came back is in the body only.
  const [days, statuses] = await Promise.all([
    db.all<{ day: string; status: string | null; n: number }>(
      `SELECT SUBSTR(e.time, 1, 10) AS day, e.status, COUNT(*) AS n
       FROM events e WHERE ${where} AND e.type = 'finding' GROUP BY SUBSTR(e.time, 1, 10), e.status`,
      params,
    ),
    db.all<{ day: string; body: string }>(
      `SELECT SUBSTR(e.time, 1, 10) AS day, e.body FROM events e WHERE ${where} AND e.type = 'status'`,
      params,
    ),
  ]);
  const byDay = new Map<string, { day: string; new: number; resolved: number; down: number; up: number }>();
  const day = (d: string) => {
    const entry = byDay.get(d) ?? { day: d, new: 0, resolved: 0, down: 0, up: 0 };
    byDay.set(d, entry);
    return entry;
  };
  let total = statuses.length;
  for (const d of days) {
    total += Number(d.n);
    day(d.day)[d.status === 'resolved' ? 'resolved' : 'new'] += Number(d.n);
  }
  for (const s of statuses) day(s.day)[statusUp(s.body) ? 'up' : 'down'] += 1;
  return { total, byDay: [...byDay.values()].sort((a, b) => (a.day < b.day ? -1 : 1)) };
}

export async function driftEvents(db: Queryable, query: DriftQuery): Promise<DriftResult> {
  const { limit, offset } = pageOf(query);
  const { where, params } = driftWhere(query);
  const [counted, rows] = await Promise.all([
    driftByDay(db, query),
    // Nodes are joined for the page's rows only.
    db.all<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events e JOIN nodes n ON n.id = e.node_id WHERE ${where}
       ORDER BY e.time DESC, e.node_id, e.id LIMIT ? OFFSET ?`,
      [...params, limit, offset],
    ),
  ]);
  return {
    since: query.since,
    until: query.until ?? null,
    total: counted.total,
    limit,
    offset,
    items: rows.map(driftEvent),
    byDay: counted.byDay,
  };
}
