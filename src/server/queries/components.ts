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
  // Nodes per version, counted per inventory first (a handful) rather than per node.
  const versionRows = await db.all<{ version: string; nodes: number }>(
    `SELECT v.version, COALESCE(SUM(c.n), 0) AS nodes FROM (
       SELECT DISTINCT co.version, ia.inventory_digest
       FROM components co JOIN inventory_artifacts ia ON ia.artifact_digest = co.artifact_digest
       WHERE co.name = ?
     ) v LEFT JOIN (SELECT inventory_digest, COUNT(*) AS n FROM nodes GROUP BY inventory_digest) c
       ON c.inventory_digest = v.inventory_digest
     GROUP BY v.version`,
    [query.name],
  );
  const versions = versionRows
    .map((r) => ({ version: r.version, nodes: Number(r.nodes), matches: below(r.version, query.below) }))
    .sort((a, b) => compareGoVersions(b.version, a.version) ?? (a.version < b.version ? 1 : -1));
  const wanted = versions.filter((v) => v.matches).map((v) => v.version);
  let suggestions: string[] = [];
  if (versionRows.length === 0) {
    const pattern = `%${query.name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const names = await db.all<{ name: string }>(
      `SELECT DISTINCT name FROM components WHERE LOWER(name) LIKE ? ESCAPE '\\' ORDER BY name LIMIT ${SUGGESTIONS}`,
      [pattern],
    );
    suggestions = names.map((n) => n.name);
  }
  const base = { name: query.name, below: query.below ?? null, versions, suggestions, limit, offset };
  if (wanted.length === 0) return { ...base, total: 0, items: [] };
  const from = `FROM components c
    JOIN inventory_artifacts ia ON ia.artifact_digest = c.artifact_digest
    JOIN nodes n ON n.inventory_digest = ia.inventory_digest
    WHERE c.name = ? AND c.version IN (${placeholders(wanted.length)})`;
  const params: SqlValue[] = [query.name, ...wanted];
  const [counted] = await db.all<{ total: number }>(`SELECT COUNT(*) AS total ${from}`, params);
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
    total: Number(counted?.total ?? 0),
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
