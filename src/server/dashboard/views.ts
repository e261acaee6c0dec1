// What each page shows, as plain data: the routes fill these from the query functions
// (src/server/queries/), the page templates (pages/) turn them into HTML. Templates never read
// the database, so they are tested with any data, hostile names included.

export interface NodeRow {
  readonly name: string;
  readonly cluster: string | null;
  readonly k3sVersion: string | null;
  readonly role: string | null;
  readonly lastSeenAt: string | null;
  readonly stale: boolean;
  readonly findings: number;
}

export interface OverviewView {
  readonly nodes: number;
  readonly staleNodes: number;
  /** How long without a report makes a node stale, as said to the reader ("24 h"). */
  readonly staleAfter: string;
  readonly clusters: number;
  readonly advisories: number;
  readonly k3sVersions: ReadonlyArray<{ readonly version: string | null; readonly nodes: number }>;
  /** Open findings, counted over the nodes' newest reports. */
  readonly findingsBySeverity: ReadonlyArray<{
    readonly severity: string;
    readonly findings: number;
    readonly nodes: number;
  }>;
  readonly driftDays: number;
  readonly driftSeries: readonly string[];
  readonly drift: ReadonlyArray<{ readonly day: string; readonly values: readonly number[] }>;
}

export interface NodeFilter {
  readonly cluster?: string;
  readonly k3sVersion?: string;
  /** 'stale' or 'fresh'; absent: both. */
  readonly seen?: 'stale' | 'fresh';
  /** 'yes' or 'no'; absent: both. */
  readonly findings?: 'yes' | 'no';
}

export interface NodesView {
  readonly filter: NodeFilter;
  readonly clusters: readonly string[];
  readonly k3sVersions: readonly string[];
  readonly nodes: readonly NodeRow[];
}

export interface FindingRow {
  readonly ruleId: string;
  readonly severity: string;
  readonly title: string;
  /** The advisory id, for vulnerability findings: links to its page. */
  readonly advisory?: string;
  readonly component?: string;
  readonly version?: string;
  readonly fixed?: string;
  readonly location?: string;
  readonly firstSeen?: string;
}

export interface InventoryItem {
  readonly digest: string;
  readonly kind: string;
  readonly names: readonly string[];
  /** A few words more: the K3s version, an image's verdict and counts. */
  readonly detail?: string;
}

export interface ComponentRow {
  readonly name: string;
  readonly version: string;
  readonly location: string;
  readonly artifact: string;
}

export interface EventRow {
  readonly time: string;
  readonly type: string;
  readonly status: string | null;
  readonly ruleId: string | null;
  readonly severity: string | null;
  readonly node?: string;
}

export interface ReportRow {
  readonly id: string;
  readonly checkFinishedAt: string;
  readonly receivedAt: string;
  readonly findings: number;
  readonly inventory: string;
}

export interface NodeView {
  readonly node: NodeRow & {
    readonly hostname: string | null;
    readonly machineId: string | null;
    readonly inventoryDigest: string | null;
    readonly lastCheckAt: string | null;
  };
  readonly findings: readonly FindingRow[];
  readonly inventory: readonly InventoryItem[];
  readonly components: readonly ComponentRow[];
  readonly events: readonly EventRow[];
  readonly reports: readonly ReportRow[];
}

export interface AdvisoryRow {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly severity: string;
  readonly summary: string | null;
  readonly nodes: number;
  readonly components: readonly string[];
  readonly fixed: readonly string[];
}

export interface AffectedNode {
  readonly node: string;
  readonly cluster: string | null;
  readonly component: string;
  readonly version: string;
  readonly fixed: string | null;
  readonly location: string;
  readonly reachability: string | null;
}

export interface AdvisoryView {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly severity: string;
  readonly summary: string | null;
  readonly affected: readonly AffectedNode[];
}

export interface ComponentSearchView {
  readonly name: string;
  readonly below: string;
  /** Absent before a search. */
  readonly hits?: ReadonlyArray<{
    readonly node: string;
    readonly cluster: string | null;
    readonly name: string;
    readonly version: string;
    readonly artifact: string;
    readonly location: string;
  }>;
  /** Why the search could not run (e.g. `below` is not a version). */
  readonly problem?: string;
}
