// "Which nodes run <component> below <version>", and where inside their binaries: the query
// behind `/api/v1/components?name=github.com/opencontainers/runc&below=1.1.12`. The few distinct
// versions of the component in the whole fleet come from the (name, version) index; they are
// compared in code (Go semver does not sort as text); only the matching ones are joined through
// the inventories to the nodes, a page at a time.
import { compareGoVersions } from '../../versions/gosemver.ts';
import type { Queryable, SqlValue } from '../db/database.ts';
import { type Page, type PageRequest, pageOf, placeholders } from './page.ts';

export interface ComponentQuery extends PageRequest {
  /** The exact name: a Go module path (`github.com/opencontainers/runc`, `stdlib`) or a package name. */
  readonly name: string;
  /** Only versions below this one (Go semver); versions that do not parse are left out. */
  readonly below?: string;
}

export interface ComponentHit {
  readonly node: string;
  readonly cluster: string | null;
  readonly k3sVersion: string | null;
  readonly version: string;
  /** The artifact (binary or image digest) the component is in, and where inside it. */
  readonly artifact: string;
  readonly location: string;
}

export interface ComponentVersion {
  readonly version: string;
  /** Current nodes with the component at this version. */
  readonly nodes: number;
  /** Whether it is below `below` (always true without `below`). */
  readonly matches: boolean;
}

export interface ComponentSearch extends Page<ComponentHit> {
  readonly name: string;
  readonly below: string | null;
  /** Every version of the component in the fleet, newest first. */
  readonly versions: ComponentVersion[];
  /** When no component has that exact name: names that contain the text (at most 20). */
  readonly suggestions: string[];
}

const SUGGESTIONS = 20;

function below(version: string, limit: string | undefined): boolean {
  if (limit === undefined) return true;
  const order = compareGoVersions(version, limit);
  return order !== undefined && order < 0;
}

export async function searchComponents(db: Queryable, query: ComponentQuery): Promise<ComponentSearch> {
  const { limit, offset } = pageOf(query);
  // Per inventory: its hits of each version and its node count (nodes counted per inventory,
  // a handful of rows, never joined node by node); versions and the total follow from these.
  const perInventory = await db.all<{ version: string; inventory_digest: string; hits: number; nodes: number }>(
    `SELECT x.version, x.inventory_digest, x.hits, COALESCE(c.n, 0) AS nodes FROM (
       SELECT co.version, ia.inventory_digest, COUNT(*) AS hits
       FROM components co JOIN inventory_artifacts ia ON ia.artifact_digest = co.artifact_digest
       WHERE co.name = ?
       GROUP BY co.version, ia.inventory_digest
     ) x LEFT JOIN (SELECT inventory_digest, COUNT(*) AS n FROM nodes GROUP BY inventory_digest) c
       ON c.inventory_digest = x.inventory_digest`,
    [query.name],
  );
  const byVersion = new Map<string, { nodes: number; rows: number }>();
  for (const r of perInventory) {
    const v = byVersion.get(r.version) ?? { nodes: 0, rows: 0 };
    v.nodes += Number(r.nodes);
    v.rows += Number(r.nodes) * Number(r.hits);
    byVersion.set(r.version, v);
  }
  const versions = [...byVersion]
    .map(([version, v]) => ({ version, nodes: v.nodes, matches: below(version, query.below) }))
    .sort((a, b) => compareGoVersions(b.version, a.version) ?? (a.version < b.version ? 1 : -1));
  const wanted = versions.filter((v) => v.matches).map((v) => v.version);
  let suggestions: string[] = [];
  if (perInventory.length === 0) {
    const pattern = `%${query.name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const names = await db.all<{ name: string }>(
      `SELECT DISTINCT name FROM components WHERE LOWER(name) LIKE ? ESCAPE '\\' ORDER BY name LIMIT ${SUGGESTIONS}`,
      [pattern],
    );
    suggestions = names.map((n) => n.name);
  }
  const base = { name: query.name, below: query.below ?? null, versions, suggestions, limit, offset };
  if (wanted.length === 0) return { ...base, total: 0, items: [] };
  // Nodes first, in name order, only those on an inventory with a hit (CROSS JOIN fixes
  // SQLite's join order; PostgreSQL plans it freely): each probes its inventory's few artifacts,
  // so a page of 100 reads about 100 nodes instead of sorting every hit in the fleet.
  const inventories = [
    ...new Set(perInventory.filter((r) => wanted.includes(r.version)).map((r) => r.inventory_digest)),
  ];
  const from = `FROM nodes n
    CROSS JOIN inventory_artifacts ia
    CROSS JOIN components c
    WHERE n.inventory_digest IN (${placeholders(inventories.length)})
      AND ia.inventory_digest = n.inventory_digest AND c.artifact_digest = ia.artifact_digest
      AND c.name = ? AND c.version IN (${placeholders(wanted.length)})`;
  const params: SqlValue[] = [...inventories, query.name, ...wanted];
  const total = wanted.reduce((sum, v) => sum + (byVersion.get(v)?.rows ?? 0), 0);
  const rows = await db.all<{
    node: string;
    cluster: string | null;
    k3s_version: string | null;
    version: string;
    artifact: string;
    location: string;
  }>(
    `SELECT n.name AS node, n.cluster, n.k3s_version, c.version, c.artifact_digest AS artifact, c.location ${from}
     ORDER BY n.name, c.location, c.artifact_digest, c.version LIMIT ? OFFSET ?`,
    [...params, limit, offset],
  );
  return {
    ...base,
    total,
    items: rows.map((r) => ({
      node: r.node,
      cluster: r.cluster,
      k3sVersion: r.k3s_version,
      version: r.version,
      artifact: r.artifact,
      location: r.location,
    })),
  };
}

/** Every node whose current inventory holds `name` below `below` (Go semver), in one list by node. */
export async function nodesWithComponentBelow(
  db: Queryable,
  name: string,
  limit: string,
): Promise<Array<{ node: string; version: string; artifact: string; location: string }>> {
  const hits: ComponentHit[] = [];
  for (let offset = 0; ; ) {
    const page = await searchComponents(db, { name, below: limit, offset, limit: Number.MAX_SAFE_INTEGER });
    hits.push(...page.items);
    offset += page.items.length;
    if (page.items.length === 0 || offset >= page.total) break;
  }
  return hits.map((h) => ({ node: h.node, version: h.version, artifact: h.artifact, location: h.location }));
}
