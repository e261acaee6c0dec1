// The node list: filtered by cluster, K3s version, last seen and whether the node has findings
// (its own report's, or vulnerabilities of its inventory), a page at a time, by name. One query
// for the page and one for the total; the vulnerabilities per node come from a count per
// distinct inventory (a handful of rows), joined to the nodes: no query per node.
import type { Queryable, SqlValue } from '../db/database.ts';
import { type Page, type PageRequest, pageOf } from './page.ts';

export interface NodeFilter extends PageRequest {
  readonly cluster?: string;
  readonly k3sVersion?: string;
  /** Seen (a report or an event received) at or after this time (ISO-8601). */
  readonly seenSince?: string;
  /** Not seen since this time (ISO-8601): the stale ones. */
  readonly seenBefore?: string;
  /** true: only nodes with findings or vulnerabilities; false: only those without. */
  readonly hasFindings?: boolean;
}

export interface NodeSummary {
  readonly name: string;
  readonly cluster: string | null;
  readonly hostname: string | null;
  readonly k3sVersion: string | null;
  readonly role: string | null;
  /** `sha256:` digest of its current inventory; null before its first report. */
  readonly inventory: string | null;
  readonly lastCheckAt: string | null;
  readonly lastSeenAt: string | null;
  /** Findings of its newest report (policy, integrity, ...). */
  readonly findings: number;
  /** Distinct advisories matched against its inventory. */
  readonly vulnerabilities: number;
}

export interface NodeRow {
  [column: string]: SqlValue;
  name: string;
  cluster: string | null;
  hostname: string | null;
  k3s_version: string | null;
  role: string | null;
  inventory_digest: string | null;
  last_check_at: string | null;
  last_seen_at: string | null;
  findings: number;
  vulnerabilities: number;
}

/** The columns of NodeRow, from `nodes n` joined to VULNERABILITY_COUNTS `v`. */
export const NODE_COLUMNS = `n.name, n.cluster, n.hostname, n.k3s_version, n.role, n.inventory_digest,
  n.last_check_at, n.last_seen_at, n.findings, COALESCE(v.n, 0) AS vulnerabilities`;

/** Distinct advisories per inventory: as many rows as distinct inventories with findings. */
export const VULNERABILITY_COUNTS = `LEFT JOIN (
  SELECT inventory_digest, COUNT(DISTINCT vuln_id) AS n FROM inventory_findings GROUP BY inventory_digest
) v ON v.inventory_digest = n.inventory_digest`;

export function nodeSummary(r: NodeRow): NodeSummary {
  return {
    name: r.name,
    cluster: r.cluster,
    hostname: r.hostname,
    k3sVersion: r.k3s_version,
    role: r.role,
    inventory: r.inventory_digest,
    lastCheckAt: r.last_check_at,
    lastSeenAt: r.last_seen_at,
    findings: Number(r.findings),
    vulnerabilities: Number(r.vulnerabilities),
  };
}

export async function listNodes(db: Queryable, filter: NodeFilter = {}): Promise<Page<NodeSummary>> {
  const { limit, offset } = pageOf(filter);
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.cluster !== undefined) {
    where.push('n.cluster = ?');
    params.push(filter.cluster);
  }
  if (filter.k3sVersion !== undefined) {
    where.push('n.k3s_version = ?');
    params.push(filter.k3sVersion);
  }
  if (filter.seenSince !== undefined) {
    where.push('n.last_seen_at >= ?');
    params.push(filter.seenSince);
  }
  if (filter.seenBefore !== undefined) {
    where.push('(n.last_seen_at IS NULL OR n.last_seen_at < ?)');
    params.push(filter.seenBefore);
  }
  if (filter.hasFindings !== undefined) {
    where.push(filter.hasFindings ? '(n.findings > 0 OR v.n > 0)' : '(n.findings = 0 AND v.n IS NULL)');
  }
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const [counted] = await db.all<{ total: number }>(
    `SELECT COUNT(*) AS total FROM nodes n ${VULNERABILITY_COUNTS} ${clause}`,
    params,
  );
  const rows = await db.all<NodeRow>(
    `SELECT ${NODE_COLUMNS} FROM nodes n ${VULNERABILITY_COUNTS} ${clause} ORDER BY n.name LIMIT ? OFFSET ?`,
    [...params, limit, offset],
  );
  return { total: Number(counted?.total ?? 0), limit, offset, items: rows.map(nodeSummary) };
}
