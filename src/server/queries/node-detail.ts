// One node: what its newest report said, its inventory as a tree (artifacts, then the
// components inside each with where they sit), its findings (its own report's, and the
// vulnerabilities matched against its inventory), its recent drift events and its report
// history. A fixed number of queries, however large the node's inventory.
import type { Queryable } from '../db/database.ts';
import { type DriftEvent, driftEvent, EVENT_COLUMNS, type EventRow } from './drift.ts';
import { NODE_COLUMNS, type NodeRow, type NodeSummary, nodeSummary, VULNERABILITY_COUNTS } from './nodes.ts';
import { stringArray } from './page.ts';
import { type AdvisoryPlace, advisoryPlace, type PlaceRow } from './vulnerabilities.ts';

/** How much history a node page shows; older events and reports are in /drift and the database. */
export const NODE_RECENT_EVENTS = 100;
export const NODE_RECENT_REPORTS = 50;

export interface InventoryComponent {
  readonly name: string;
  readonly version: string;
  /** Where inside the artifact (e.g. `k3s > bin/containerd`); empty for the artifact itself. */
  readonly location: string;
  readonly purl: string | null;
}

export interface InventoryArtifact {
  readonly digest: string;
  readonly kind: string;
  /** Paths or image references the node knows it by. */
  readonly names: string[];
  readonly k3sVersion: string | null;
  readonly components: InventoryComponent[];
}

export interface NodeFinding {
  readonly key: string;
  readonly id: string;
  readonly severity: string;
  readonly title: string | null;
  readonly message: string | null;
  readonly component: string | null;
  readonly location: string[];
  readonly firstSeen: string;
  readonly lastSeen: string;
}

export interface NodeVulnerability extends AdvisoryPlace {
  readonly id: string;
  readonly aliases: string[];
  readonly severity: string | null;
  readonly summary: string | null;
  readonly firstMatchedAt: string | null;
}

export interface NodeReport {
  readonly id: string;
  readonly checkFinishedAt: string;
  readonly receivedAt: string;
  readonly findings: number;
  readonly inventory: string;
}

export interface NodeDetail {
  readonly node: NodeSummary & {
    readonly machineId: string | null;
    readonly createdAt: string;
    readonly lastReportId: string | null;
  };
  /** Its current inventory as a tree: artifacts, each with its components; null before its first report. */
  readonly inventory: { readonly digest: string; readonly artifacts: InventoryArtifact[] } | null;
  /** Findings of its newest report. */
  readonly findings: NodeFinding[];
  /** Advisories matched against its inventory, one per place they were found. */
  readonly vulnerabilities: NodeVulnerability[];
  /** Newest first, at most NODE_RECENT_EVENTS. */
  readonly events: DriftEvent[];
  /** Newest check first, at most NODE_RECENT_REPORTS. */
  readonly reports: NodeReport[];
}

function json(text: string | null): Record<string, unknown> {
  try {
    const v: unknown = text ? JSON.parse(text) : {};
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const text = (v: unknown) => (typeof v === 'string' ? v : null);

export async function nodeDetail(db: Queryable, name: string): Promise<NodeDetail | undefined> {
  const [row] = await db.all<
    NodeRow & { id: number; machine_id: string | null; created_at: string; last_report_id: string | null }
  >(
    `SELECT n.id, n.machine_id, n.created_at, n.last_report_id, ${NODE_COLUMNS}
     FROM nodes n ${VULNERABILITY_COUNTS} WHERE n.name = ?`,
    [name],
  );
  if (!row) return undefined;
  const inventory = row.inventory_digest;
  const [body] = inventory
    ? await db.all<{ body: string }>('SELECT body FROM inventories WHERE digest = ?', [inventory])
    : [];
  const components = inventory
    ? await db.all<{ artifact_digest: string; name: string; version: string; location: string; purl: string | null }>(
        `SELECT c.artifact_digest, c.name, c.version, c.location, c.purl
         FROM inventory_artifacts ia JOIN components c ON c.artifact_digest = ia.artifact_digest
         WHERE ia.inventory_digest = ? ORDER BY c.artifact_digest, c.name, c.version, c.location`,
        [inventory],
      )
    : [];
  const byArtifact = new Map<string, InventoryComponent[]>();
  for (const c of components) {
    const list = byArtifact.get(c.artifact_digest) ?? [];
    list.push({ name: c.name, version: c.version, location: c.location, purl: c.purl });
    byArtifact.set(c.artifact_digest, list);
  }
  const artifacts: InventoryArtifact[] = Object.entries(json(body?.body ?? null))
    .map(([digest, entry]) => {
      const e = (entry ?? {}) as Record<string, unknown>;
      return {
        digest,
        kind: text(e.kind) ?? 'unknown',
        names: Array.isArray(e.names) ? e.names.filter((n): n is string => typeof n === 'string') : [],
        k3sVersion: text(e.k3sVersion),
        components: byArtifact.get(digest) ?? [],
      };
    })
    // The K3s binary first, then executables, then images; by name within each.
    .sort((a, b) => kindOrder(a.kind) - kindOrder(b.kind) || String(a.names[0]).localeCompare(String(b.names[0])));

  const findings = await db.all<{
    key: string;
    rule_id: string;
    severity: string;
    component: string | null;
    first_seen: string;
    last_seen: string;
    body: string;
  }>(
    `SELECT key, rule_id, severity, component, first_seen, last_seen, body FROM node_findings
     WHERE node_id = ? ORDER BY rule_id, key`,
    [row.id],
  );
  const vulnerabilities = inventory
    ? await db.all<
        PlaceRow & {
          vuln_id: string;
          aliases: string | null;
          severity: string | null;
          summary: string | null;
          first_matched_at: string | null;
        }
      >(
        `SELECT vuln_id, aliases, severity, summary, component, version, location, artifact_digest, fixed,
           reachability, first_matched_at
         FROM inventory_findings WHERE inventory_digest = ? ORDER BY vuln_id, component, location`,
        [inventory],
      )
    : [];
  const events = await db.all<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events e JOIN nodes n ON n.id = e.node_id
     WHERE e.node_id = ? AND e.type IN ('finding', 'status') ORDER BY e.time DESC, e.id LIMIT ${NODE_RECENT_EVENTS}`,
    [row.id],
  );
  const reports = await db.all<{
    id: string;
    check_finished_at: string;
    received_at: string;
    findings: number;
    inventory_digest: string;
  }>(
    `SELECT id, check_finished_at, received_at, findings, inventory_digest FROM reports
     WHERE node_id = ? ORDER BY check_finished_at DESC, id LIMIT ${NODE_RECENT_REPORTS}`,
    [row.id],
  );
  return {
    node: {
      ...nodeSummary(row),
      machineId: row.machine_id,
      createdAt: row.created_at,
      lastReportId: row.last_report_id,
    },
    inventory: inventory ? { digest: inventory, artifacts } : null,
    findings: findings.map((f) => {
      const b = json(f.body);
      return {
        key: f.key,
        id: f.rule_id,
        severity: f.severity,
        title: text(b.title),
        message: text(b.message),
        component: f.component,
        location: Array.isArray(b.location) ? b.location.filter((l): l is string => typeof l === 'string') : [],
        firstSeen: f.first_seen,
        lastSeen: f.last_seen,
      };
    }),
    vulnerabilities: vulnerabilities.map((v) => ({
      id: v.vuln_id,
      aliases: stringArray(v.aliases),
      severity: v.severity,
      summary: v.summary,
      ...advisoryPlace(v),
      firstMatchedAt: v.first_matched_at,
    })),
    events: events.map(driftEvent),
    reports: reports.map((r) => ({
      id: r.id,
      checkFinishedAt: r.check_finished_at,
      receivedAt: r.received_at,
      findings: Number(r.findings),
      inventory: r.inventory_digest,
    })),
  };
}

function kindOrder(kind: string): number {
  const i = ['k3s-binary', 'executable', 'image'].indexOf(kind);
  return i < 0 ? 3 : i;
}
