// Vulnerabilities across the fleet, from `inventory_findings` (the matcher's findings per
// distinct inventory, kept by the re-match): which advisories hit current nodes, and for one
// advisory (by id or alias) the nodes it affects, where in their binaries, the fixed version and
// the reachability. Node counts come from nodes counted per inventory (one grouped scan of
// nodes), so a fleet of 10,000 nodes on 5 inventories costs 5 rows per advisory, not 10,000.
import { SEVERITIES } from '../../model/severity.ts';
import type { Queryable, SqlValue } from '../db/database.ts';
import { type Page, type PageRequest, pageOf, placeholders, stringArray } from './page.ts';

/** Nodes per current inventory. */
export const NODES_PER_INVENTORY = `(SELECT inventory_digest, COUNT(*) AS n FROM nodes
  WHERE inventory_digest IS NOT NULL GROUP BY inventory_digest)`;

export interface VulnerabilitySummary {
  readonly id: string;
  readonly aliases: string[];
  readonly severity: string;
  readonly summary: string | null;
  /** The components (modules, packages) it was matched in. */
  readonly components: string[];
  /** The first fixed versions, one per component and range (empty: no fix known). */
  readonly fixed: string[];
  /** Current nodes affected. */
  readonly nodes: number;
  readonly firstMatchedAt: string | null;
}

export interface VulnerabilityFilter extends PageRequest {
  readonly severity?: string;
}

interface FindingRow {
  [column: string]: SqlValue;
  vuln_id: string;
  aliases: string | null;
  severity: string | null;
  summary: string | null;
  component: string | null;
  fixed: string | null;
  inventory_digest: string;
  first_matched_at: string | null;
  nodes: number;
}

function severityRank(s: string): number {
  const i = (SEVERITIES as readonly string[]).indexOf(s);
  return i < 0 ? SEVERITIES.length : i;
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** Advisories affecting at least one current node: most severe first, then most nodes. */
export async function listVulnerabilities(
  db: Queryable,
  filter: VulnerabilityFilter = {},
): Promise<Page<VulnerabilitySummary>> {
  const { limit, offset } = pageOf(filter);
  const rows = await db.all<FindingRow>(
    `SELECT f.vuln_id, f.aliases, f.severity, f.summary, f.component, f.fixed, f.inventory_digest,
       f.first_matched_at, c.n AS nodes
     FROM inventory_findings f JOIN ${NODES_PER_INVENTORY} c ON c.inventory_digest = f.inventory_digest
     ${filter.severity !== undefined ? 'WHERE f.severity = ?' : ''}`,
    filter.severity !== undefined ? [filter.severity] : [],
  );
  const byId = new Map<string, { rows: FindingRow[]; inventories: Map<string, number> }>();
  for (const r of rows) {
    const entry = byId.get(r.vuln_id) ?? { rows: [], inventories: new Map<string, number>() };
    entry.rows.push(r);
    entry.inventories.set(r.inventory_digest, Number(r.nodes));
    byId.set(r.vuln_id, entry);
  }
  const all: VulnerabilitySummary[] = [...byId].map(([id, { rows: rs, inventories }]) => {
    const first = rs[0] as FindingRow;
    const matched = rs.map((r) => r.first_matched_at).filter((t): t is string => t !== null);
    return {
      id,
      aliases: sorted(rs.flatMap((r) => stringArray(r.aliases))),
      severity: first.severity ?? 'unknown',
      summary: first.summary,
      components: sorted(rs.map((r) => r.component).filter((c): c is string => c !== null)),
      fixed: sorted(rs.map((r) => r.fixed).filter((f): f is string => f !== null)),
      nodes: [...inventories.values()].reduce((a, b) => a + b, 0),
      firstMatchedAt: matched.length > 0 ? (matched.sort()[0] as string) : null,
    };
  });
  all.sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      b.nodes - a.nodes ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return { total: all.length, limit, offset, items: all.slice(offset, offset + limit) };
}

/** Where an advisory sits in an inventory (a row of inventory_findings), and what fixes it. */
export interface AdvisoryPlace {
  readonly component: string | null;
  readonly version: string | null;
  readonly location: string | null;
  readonly artifact: string | null;
  readonly fixed: string | null;
  readonly reachability: string | null;
}

/** The columns of an inventory_findings row that make an AdvisoryPlace (a type: rows need its index signature). */
export type PlaceRow = {
  readonly component: string | null;
  readonly version: string | null;
  readonly location: string | null;
  readonly artifact_digest: string | null;
  readonly fixed: string | null;
  readonly reachability: string | null;
};

export function advisoryPlace(r: PlaceRow): AdvisoryPlace {
  return {
    component: r.component,
    version: r.version,
    location: r.location,
    artifact: r.artifact_digest,
    fixed: r.fixed,
    reachability: r.reachability,
  };
}

export interface AffectedComponent extends AdvisoryPlace {
  /** Current nodes with this component at this place. */
  readonly nodes: number;
}

export interface AffectedNode extends AdvisoryPlace {
  readonly node: string;
  readonly cluster: string | null;
  readonly k3sVersion: string | null;
  readonly id: string;
}

export interface VulnerabilityDetail extends Page<AffectedNode> {
  /** The id asked for, as stored when it is an advisory's own id. */
  readonly id: string;
  /** Every advisory record found under that id or alias (a CVE can be the alias of a GO- and a GHSA- record). */
  readonly ids: string[];
  readonly aliases: string[];
  readonly severity: string;
  readonly summary: string | null;
  /** The versions that fix it (what to upgrade to), per component. */
  readonly fixed: string[];
  /** Where it is, with the nodes counted per place: the advisory page's table. */
  readonly components: AffectedComponent[];
}

/** The advisories stored under `id` as their own id or as an alias (ids compared ignoring case). */
async function advisoryIds(db: Queryable, id: string): Promise<string[]> {
  const wanted = id.toUpperCase();
  // The alias list is JSON text: LIKE narrows, the parsed list decides.
  const pattern = `%"${wanted.replace(/[\\%_]/g, (c) => `\\${c}`)}"%`;
  const rows = await db.all<{ vuln_id: string; aliases: string | null }>(
    `SELECT DISTINCT vuln_id, aliases FROM inventory_findings
     WHERE UPPER(vuln_id) = ? OR UPPER(aliases) LIKE ? ESCAPE '\\'`,
    [wanted, pattern],
  );
  return sorted(
    rows
      .filter(
        (r) => r.vuln_id.toUpperCase() === wanted || stringArray(r.aliases).some((a) => a.toUpperCase() === wanted),
      )
      .map((r) => r.vuln_id),
  );
}

/** One advisory by id or alias: the nodes it affects (a page), where, fixed versions; undefined when no inventory has it. */
export async function vulnerabilityDetail(
  db: Queryable,
  id: string,
  page: PageRequest = {},
): Promise<VulnerabilityDetail | undefined> {
  const { limit, offset } = pageOf(page);
  const ids = await advisoryIds(db, id);
  if (ids.length === 0) return undefined;
  const rows = await db.all<FindingRow & PlaceRow>(
    `SELECT f.vuln_id, f.aliases, f.severity, f.summary, f.component, f.version, f.location, f.artifact_digest,
       f.fixed, f.reachability, f.inventory_digest, f.first_matched_at, COALESCE(c.n, 0) AS nodes
     FROM inventory_findings f LEFT JOIN ${NODES_PER_INVENTORY} c ON c.inventory_digest = f.inventory_digest
     WHERE f.vuln_id IN (${placeholders(ids.length)})`,
    ids,
  );
  const places = new Map<string, AffectedComponent>();
  for (const r of rows) {
    const key = JSON.stringify([r.component, r.version, r.location, r.artifact_digest, r.fixed, r.reachability]);
    const seen = places.get(key);
    places.set(key, { ...advisoryPlace(r), nodes: (seen?.nodes ?? 0) + Number(r.nodes) });
  }
  // One row per (node, finding row of its inventory): counted from the nodes per inventory.
  const total = rows.reduce((sum, r) => sum + Number(r.nodes), 0);
  // Nodes first, in name order, only those on an affected inventory (CROSS JOIN fixes SQLite's
  // join order): a page reads about as many nodes as it shows, each probing its inventory's findings.
  const inventories = [...new Set(rows.map((r) => r.inventory_digest))];
  const affected = await db.all<
    PlaceRow & {
      node: string;
      cluster: string | null;
      k3s_version: string | null;
      vuln_id: string;
    }
  >(
    `SELECT n.name AS node, n.cluster, n.k3s_version, f.vuln_id, f.component, f.version, f.location,
       f.artifact_digest, f.fixed, f.reachability
     FROM nodes n CROSS JOIN inventory_findings f
     WHERE n.inventory_digest IN (${placeholders(inventories.length)})
       AND f.inventory_digest = n.inventory_digest AND f.vuln_id IN (${placeholders(ids.length)})
     ORDER BY n.name, f.vuln_id, f.component, f.location LIMIT ? OFFSET ?`,
    [...inventories, ...ids, limit, offset],
  );
  const own = ids.find((i) => i.toUpperCase() === id.toUpperCase());
  const first = rows.find((r) => r.vuln_id === (own ?? ids[0])) ?? (rows[0] as FindingRow);
  return {
    id: own ?? id,
    ids,
    aliases: sorted(rows.flatMap((r) => [...stringArray(r.aliases), r.vuln_id]).filter((a) => a !== (own ?? id))),
    severity: first.severity ?? 'unknown',
    summary: first.summary,
    fixed: sorted(rows.map((r) => r.fixed).filter((f): f is string => f !== null)),
    components: [...places.values()].sort(
      (a, b) => b.nodes - a.nodes || String(a.location).localeCompare(String(b.location)),
    ),
    total,
    limit,
    offset,
    items: affected.map((a) => ({
      node: a.node,
      cluster: a.cluster,
      k3sVersion: a.k3s_version,
      id: a.vuln_id,
      ...advisoryPlace(a),
    })),
  };
}
