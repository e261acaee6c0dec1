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
  /** Findings of its newest report. */
  readonly findings: number;
  /** Advisories matched against its inventory. */
  readonly vulnerabilities: number;
}

export interface OverviewView {
  readonly nodes: number;
  /** Reported once, then nothing for `staleAfter`. */
  readonly staleNodes: number;
  /** A token was made, no report came yet. */
  readonly neverReported: number;
  /** How long without a report makes a node stale, as said to the reader ("24 h"). */
  readonly staleAfter: string;
  readonly clusters: number;
  /** Distinct inventories the nodes run (a fleet on a few K3s releases shares a few). */
  readonly inventories: number;
  readonly advisories: number;
  readonly k3sVersions: ReadonlyArray<{ readonly version: string | null; readonly nodes: number }>;
  /** Open findings (nodes' own, and each advisory once per node it affects) and advisories, by severity. */
  readonly bySeverity: ReadonlyArray<{
    readonly severity: string;
    readonly findings: number;
    readonly advisories: number;
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
  /** The first row of the page shown. */
  readonly offset?: number;
}

export interface NodesView {
  readonly filter: NodeFilter;
  readonly k3sVersions: readonly string[];
  readonly nodes: readonly NodeRow[];
  /** All the nodes that match; `nodes` is the page of them from `offset`. */
  readonly total: number;
  readonly offset: number;
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
  /** The finding's title (finding events). */
  readonly title?: string;
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

export interface AffectedPlace {
  readonly component: string | null;
  readonly version: string | null;
  readonly location: string | null;
  readonly fixed: string | null;
  readonly reachability: string | null;
  readonly nodes: number;
}

export interface AffectedNode {
  readonly node: string;
  readonly cluster: string | null;
  readonly k3sVersion: string | null;
  readonly component: string | null;
  readonly version: string | null;
  readonly fixed: string | null;
  readonly location: string | null;
  readonly reachability: string | null;
}

export interface AdvisoryView {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly severity: string;
  readonly summary: string | null;
  /** The versions that fix it. */
  readonly fixed: readonly string[];
  /** Where it is, with the nodes counted per place. */
  readonly places: readonly AffectedPlace[];
  /** The first page of affected nodes, of `total`. */
  readonly affected: readonly AffectedNode[];
  readonly total: number;
}

export interface ComponentSearchView {
  readonly name: string;
  readonly below: string;
  /** Absent before a search. */
  readonly result?: {
    readonly hits: ReadonlyArray<{
      readonly node: string;
      readonly cluster: string | null;
      readonly version: string;
      readonly artifact: string;
      readonly location: string;
    }>;
    /** All the hits; `hits` is the first page of them. */
    readonly total: number;
    /** Every version of the component in the fleet, with its nodes and whether it is below `below`. */
    readonly versions: ReadonlyArray<{ readonly version: string; readonly nodes: number; readonly matches: boolean }>;
    /** When no component has that exact name: names that contain the text. */
    readonly suggestions: readonly string[];
  };
  /** Why the search could not run (e.g. `below` is not a version). */
  readonly problem?: string;
}
