// The K3s version spread: how many nodes (in how many clusters) run each K3s release, newest
// release first (Go semver order, not text order); nodes that never reported come last.
import { compareGoVersions } from '../../versions/gosemver.ts';
import type { Queryable } from '../db/database.ts';

export interface VersionCount {
  /** null: nodes with a token that have not reported yet, or whose binary says no version. */
  readonly version: string | null;
  readonly nodes: number;
  readonly clusters: number;
}

/** Newest first; versions that are not Go semver after those that are, as text. */
export function compareReleasesNewestFirst(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const order = compareGoVersions(b, a);
  // Build metadata does not order in semver; K3s puts its own release in it (+k3s2 after +k3s1).
  if (order !== undefined) return order !== 0 ? order : b < a ? -1 : b > a ? 1 : 0;
  const aValid = compareGoVersions(a, a) !== undefined;
  const bValid = compareGoVersions(b, b) !== undefined;
  if (aValid !== bValid) return aValid ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function k3sVersionSpread(db: Queryable): Promise<VersionCount[]> {
  const rows = await db.all<{ version: string | null; nodes: number; clusters: number }>(
    'SELECT k3s_version AS version, COUNT(*) AS nodes, COUNT(DISTINCT cluster) AS clusters FROM nodes GROUP BY k3s_version',
  );
  return rows
    .map((r) => ({ version: r.version, nodes: Number(r.nodes), clusters: Number(r.clusters) }))
    .sort((a, b) => compareReleasesNewestFirst(a.version, b.version));
}
