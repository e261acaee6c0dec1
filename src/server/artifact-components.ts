// The `components` rows of a K3s binary, from the component summary its report carries
// (model/report-components.ts): every Go module of the binary and of each Go binary in its
// bundle (as built: a `=>` replacement's path and version), the upstream a fork stands for
// (so "which nodes run k8s.io/kubernetes below X" finds the K3s forks of it), and `stdlib` at
// each binary's Go version. Written once per artifact digest, from the first report that
// carries a summary for it: later reports of the digest are not compared with it (the trust
// caveat of docs/server.md).
import { componentsFromSummary } from '../inventory/report-components.ts';
import { type Component, walk } from '../model/inventory.ts';
import { goModulePurl, goStdlibPurl, goStdlibVersion } from '../model/purl.ts';
import type { ReportComponents } from '../model/report-components.ts';
import type { Queryable } from './db/database.ts';

export interface ComponentRow {
  readonly name: string;
  readonly version: string;
  /** `''` for the K3s binary itself, else the bundle member's path (`bin/containerd`). */
  readonly location: string;
  readonly purl: string;
}

function locationOf(c: Component): string {
  return c.location.length > 1 ? (c.location.at(-1) as string) : '';
}

/** The rows of one summary, each (name, version, location) once. */
export function componentRows(summary: ReportComponents): ComponentRow[] {
  const rows = new Map<string, ComponentRow>();
  const add = (row: ComponentRow) => rows.set(`${row.name}\0${row.version}\0${row.location}`, row);
  for (const { component: c } of walk(componentsFromSummary(summary, 'k3s'))) {
    if (c.type === 'go-module') {
      if (c.version && c.purl) add({ name: c.name, version: c.version, location: locationOf(c), purl: c.purl });
      if (c.upstream)
        add({
          name: c.upstream.path,
          version: c.upstream.version,
          location: locationOf(c),
          purl: goModulePurl(c.upstream.path, c.upstream.version),
        });
    }
    if (c.type === 'go-stdlib') {
      const version = goStdlibVersion(c.goVersion);
      if (version) add({ name: 'stdlib', version, location: locationOf(c), purl: goStdlibPurl(c.goVersion) });
    }
  }
  return [...rows.values()];
}

/**
 * Keeps the summary on the artifact and fills its rows, unless an earlier report did: returns
 * whether this one did. The row lock of the UPDATE makes two replicas agree on the first.
 */
export async function storeArtifactComponents(
  tx: Queryable,
  artifact: string,
  summary: ReportComponents,
  node: string,
  at: string,
): Promise<boolean> {
  const first = await tx.run(
    'UPDATE artifacts SET components = ?, components_from = ? WHERE digest = ? AND components IS NULL',
    [JSON.stringify(summary), node, artifact],
  );
  if (first === 0) return false;
  // Inventories that hold the digest and were matched before its contents were known (reports
  // of agents that sent no summary) are matched again now.
  await tx.run(
    'UPDATE inventories SET matched_db = NULL WHERE digest IN (SELECT inventory_digest FROM inventory_artifacts WHERE artifact_digest = ?)',
    [artifact],
  );
  await tx.run(
    `INSERT INTO match_jobs (inventory_digest, reason, enqueued_at)
     SELECT inventory_digest, 'components learned', ? FROM inventory_artifacts WHERE artifact_digest = ?
     ON CONFLICT DO NOTHING`,
    [at, artifact],
  );
  for (const r of componentRows(summary)) {
    await tx.run(
      `INSERT INTO components (artifact_digest, name, version, location, purl) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      [artifact, r.name, r.version, r.location, r.purl],
    );
  }
  return true;
}
