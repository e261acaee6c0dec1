// "Which nodes run <component> below <version>": the first fleet query, and the access path the
// query API and the re-match build on. The few distinct versions of the component in the whole
// fleet come from the (name, version) index; they are compared in code (Go semver does not sort
// as text); only the matching ones are joined through the inventories to the nodes.
import { compareGoVersions } from '../versions/gosemver.ts';
import type { Queryable } from './db/database.ts';

export interface ComponentHit {
  readonly node: string;
  readonly version: string;
  /** The artifact (binary or image digest) the component is in, and where inside it. */
  readonly artifact: string;
  readonly location: string;
}

/** Nodes whose current inventory holds `name` at a version below `below` (Go semver; unparsable versions are left out). */
export async function nodesWithComponentBelow(db: Queryable, name: string, below: string): Promise<ComponentHit[]> {
  const versions = await db.all<{ version: string }>('SELECT DISTINCT version FROM components WHERE name = ?', [name]);
  const hits: ComponentHit[] = [];
  for (const { version } of versions) {
    const order = compareGoVersions(version, below);
    if (order === undefined || order >= 0) continue;
    const rows = await db.all<{ node: string; artifact: string; location: string }>(
      `SELECT n.name AS node, c.artifact_digest AS artifact, c.location
       FROM components c
       JOIN inventory_artifacts ia ON ia.artifact_digest = c.artifact_digest
       JOIN nodes n ON n.inventory_digest = ia.inventory_digest
       WHERE c.name = ? AND c.version = ?`,
      [name, version],
    );
    for (const r of rows) hits.push({ node: r.node, version, artifact: r.artifact, location: r.location });
  }
  return hits.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}
