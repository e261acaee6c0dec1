// What the pages show, read through the fleet query functions (src/server/queries/, the only
// place fleet data is read from) and shaped into the pages' view data. No SQL here.
import { SEVERITIES } from '../../model/severity.ts';
import { compareGoVersions } from '../../versions/gosemver.ts';
import type { Queryable } from '../db/database.ts';
import {
  fleetOverview,
  k3sVersionSpread,
  listNodes,
  listVulnerabilities,
  type NodeSummary,
  nodeDetail,
  searchComponents,
  vulnerabilityDetail,
} from '../queries/index.ts';
import { OVERVIEW_DRIFT_DAYS } from '../queries/overview.ts';
import { NODES_PAGE } from './pages/nodes.ts';
import type {
  AdvisoryRow,
  AdvisoryView,
  ComponentSearchView,
  FindingRow,
  NodeFilter,
  NodeRow,
  NodesView,
  NodeView,
  OverviewView,
} from './views.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** A node that sent nothing for a day is stale: the window fleetOverview counts stale nodes with. */
const STALE_AFTER_MS = DAY_MS;
const STALE_AFTER_TEXT = '24 h';
/** The days of drift on the overview's chart: those fleetOverview counts. */
const DRIFT_DAYS = OVERVIEW_DRIFT_DAYS;
/** Rows of one advisory's affected nodes and of one component search shown on a page. */
const ROWS_SHOWN = 200;
/** The drift events' series, as fleetOverview counts them per day. */
const DRIFT_SERIES = [
  { key: 'new', label: 'findings new' },
  { key: 'resolved', label: 'findings resolved' },
  { key: 'down', label: 'containerd down' },
  { key: 'up', label: 'containerd up' },
] as const;

export interface DashboardData {
  overview(now: Date): Promise<OverviewView>;
  nodes(filter: NodeFilter, now: Date): Promise<NodesView>;
  node(name: string, now: Date): Promise<NodeView | undefined>;
  advisories(severity?: string): Promise<AdvisoryRow[]>;
  advisory(id: string): Promise<AdvisoryView | undefined>;
  components(name: string, below: string): Promise<ComponentSearchView>;
}

function isStale(lastSeenAt: string | null, now: Date): boolean {
  return lastSeenAt !== null && Date.parse(lastSeenAt) < now.getTime() - STALE_AFTER_MS;
}

function nodeRow(n: NodeSummary, now: Date): NodeRow {
  return {
    name: n.name,
    cluster: n.cluster,
    k3sVersion: n.k3sVersion,
    role: n.role,
    lastSeenAt: n.lastSeenAt,
    stale: isStale(n.lastSeenAt, now),
    findings: n.findings,
    vulnerabilities: n.vulnerabilities,
  };
}

/** Every day of the window, oldest first, with zeroes where nothing happened (a chart needs the gaps). */
function days(now: Date, n: number): string[] {
  const today = Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
  return Array.from({ length: n }, (_x, i) => new Date(today - (n - 1 - i) * DAY_MS).toISOString().slice(0, 10));
}

export function dashboardData(db: Queryable): DashboardData {
  return {
    async overview(now) {
      const o = await fleetOverview(db, now);
      const byDay = new Map(o.drift.map((d) => [d.day, d]));
      return {
        nodes: o.nodes.total,
        staleNodes: o.nodes.stale,
        neverReported: o.nodes.neverReported,
        staleAfter: STALE_AFTER_TEXT,
        clusters: o.clusters,
        inventories: o.inventories,
        advisories: Object.values(o.advisoriesBySeverity).reduce((a, b) => a + b, 0),
        k3sVersions: o.k3sVersions,
        bySeverity: SEVERITIES.map((s) => ({
          severity: s,
          findings: o.findingsBySeverity[s],
          advisories: o.advisoriesBySeverity[s],
        })),
        driftDays: DRIFT_DAYS,
        driftSeries: DRIFT_SERIES.map((s) => s.label),
        drift: days(now, DRIFT_DAYS).map((day) => {
          const d = byDay.get(day);
          return { day, values: DRIFT_SERIES.map((s) => (d ? d[s.key] : 0)) };
        }),
      };
    },

    async nodes(filter, now) {
      const staleBefore = new Date(now.getTime() - STALE_AFTER_MS).toISOString();
      const offset = filter.offset ?? 0;
      const [page, versions] = await Promise.all([
        listNodes(db, {
          ...(filter.cluster ? { cluster: filter.cluster } : {}),
          ...(filter.k3sVersion ? { k3sVersion: filter.k3sVersion } : {}),
          ...(filter.seen === 'stale' ? { seenBefore: staleBefore } : {}),
          ...(filter.seen === 'fresh' ? { seenSince: staleBefore } : {}),
          ...(filter.findings ? { hasFindings: filter.findings === 'yes' } : {}),
          limit: NODES_PAGE,
          offset,
        }),
        k3sVersionSpread(db),
      ]);
      return {
        filter,
        k3sVersions: versions.map((v) => v.version).filter((v): v is string => v !== null),
        nodes: page.items.map((n) => nodeRow(n, now)),
        total: page.total,
        offset,
      };
    },

    async node(name, now) {
      const d = await nodeDetail(db, name);
      if (!d) return undefined;
      const findings: FindingRow[] = [
        ...d.vulnerabilities.map((v) => ({
          ruleId: v.id,
          severity: v.severity ?? 'unknown',
          title: v.summary ?? '',
          advisory: v.id,
          ...(v.component ? { component: v.component } : {}),
          ...(v.version ? { version: v.version } : {}),
          ...(v.fixed ? { fixed: v.fixed } : {}),
          ...(v.location ? { location: v.location } : {}),
          ...(v.firstMatchedAt ? { firstSeen: v.firstMatchedAt } : {}),
        })),
        ...d.findings.map((f) => ({
          ruleId: f.id,
          severity: f.severity,
          title: f.title ?? f.message ?? '',
          ...(f.component ? { component: f.component } : {}),
          ...(f.location.length ? { location: f.location.join(' > ') } : {}),
          firstSeen: f.firstSeen,
        })),
      ].sort(
        (a, b) =>
          (SEVERITIES as readonly string[]).indexOf(a.severity) - (SEVERITIES as readonly string[]).indexOf(b.severity),
      );
      const artifacts = d.inventory?.artifacts ?? [];
      return {
        node: {
          ...nodeRow(d.node, now),
          hostname: d.node.hostname,
          machineId: d.node.machineId,
          inventoryDigest: d.node.inventory,
          lastCheckAt: d.node.lastCheckAt,
        },
        findings,
        inventory: artifacts.map((a) => ({
          digest: a.digest,
          kind: a.kind,
          names: a.names,
          ...(a.k3sVersion ? { detail: `K3s ${a.k3sVersion}` } : {}),
        })),
        components: artifacts.flatMap((a) =>
          a.components.map((c) => ({ name: c.name, version: c.version, location: c.location, artifact: a.digest })),
        ),
        events: d.events.map((e) => ({
          time: e.time,
          type: e.type === 'status' ? 'containerd' : 'finding',
          status: e.status,
          ruleId: e.ruleId,
          severity: e.severity,
          ...(e.title ? { title: e.title } : {}),
        })),
        reports: d.reports,
      };
    },

    async advisories(severity) {
      const page = await listVulnerabilities(db, { ...(severity ? { severity } : {}), limit: ROWS_SHOWN * 5 });
      return page.items;
    },

    async advisory(id) {
      const d = await vulnerabilityDetail(db, id, { limit: ROWS_SHOWN });
      if (!d) return undefined;
      return {
        id: d.id,
        aliases: d.aliases,
        severity: d.severity,
        summary: d.summary,
        fixed: d.fixed,
        places: d.components,
        affected: d.items,
        total: d.total,
      };
    },

    async components(name, below) {
      if (!name) return { name, below };
      if (below && compareGoVersions(below, below) === undefined) {
        return { name, below, problem: `Below version: “${below}” is not a Go version (such as v1.1.12 or 1.1.12).` };
      }
      const r = await searchComponents(db, { name, ...(below ? { below } : {}), limit: ROWS_SHOWN });
      return {
        name,
        below,
        result: { hits: r.items, total: r.total, versions: r.versions, suggestions: r.suggestions },
      };
    },
  };
}
