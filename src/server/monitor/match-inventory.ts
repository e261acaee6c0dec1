// One distinct inventory -> its vulnerability findings, with scan's own matcher (scan/match.ts)
// over the component tree rebuilt from the K3s binary's component summary
// (inventory/report-components.ts). The server has the summary, not the binary: reachability
// (which needs the binary's function table) stays `unknown`, and images, whose contents the
// report does not list, are not matched here (the agent matches them on the node).
import { basename } from 'node:path';
import { componentsFromSummary } from '../../inventory/report-components.ts';
import type { Finding, Severity } from '../../model/inventory.ts';
import type { ReportComponents } from '../../model/report-components.ts';
import { matchRecords } from '../../scan/match.ts';
import type { VulnDb } from '../../vulndb/db.ts';

/** A K3s binary of the inventory, with the summary stored for its digest. */
export interface MatchedArtifact {
  readonly digest: string;
  /** Its paths on the nodes (`/usr/local/bin/k3s`): the first one's base name labels locations. */
  readonly names: readonly string[];
  readonly bundle?: string;
  readonly components: ReportComponents;
}

/** One row of `inventory_findings`. */
export interface InventoryFinding {
  readonly vulnId: string;
  readonly aliases: readonly string[];
  readonly severity: Severity;
  readonly summary: string | null;
  /** The module (or `stdlib`, or the K3s module) matched. */
  readonly component: string;
  readonly version: string;
  /** Where inside the artifact: `k3s`, `k3s > bin/containerd`. */
  readonly location: string;
  readonly artifact: string;
  readonly fixed: string | null;
  readonly reachability: string;
  readonly finding: Finding;
}

/** `vuln_id`, `component`, `location`: the key of a finding within its inventory. */
export function findingKey(f: Pick<InventoryFinding, 'vulnId' | 'component' | 'location'>): string {
  return `${f.vulnId}\0${f.component}\0${f.location}`;
}

export function matchInventory(artifacts: readonly MatchedArtifact[], vulndb: VulnDb): InventoryFinding[] {
  const out = new Map<string, InventoryFinding>();
  for (const a of artifacts) {
    const label = basename(a.names[0] ?? 'k3s') || 'k3s';
    const tree = componentsFromSummary(a.components, label, a.bundle);
    const findings = matchRecords(
      tree,
      (ecosystem, name) => vulndb.recordsFor(ecosystem, name),
      (ids) => vulndb.recordsOfVulnerability(ids),
    );
    for (const f of findings) {
      const v = f.vulnerability;
      if (!v) continue;
      const row: InventoryFinding = {
        vulnId: f.id,
        aliases: v.ids.filter((id) => id !== f.id),
        severity: f.severity,
        summary: v.summary ?? null,
        component: v.module,
        version: v.version,
        location: f.location.join(' > '),
        artifact: a.digest,
        fixed: v.fixed ?? null,
        reachability: v.reachability,
        finding: f,
      };
      // One row per key: the same vulnerability in the same place is one finding.
      if (!out.has(findingKey(row))) out.set(findingKey(row), row);
    }
  }
  return [...out.values()];
}
