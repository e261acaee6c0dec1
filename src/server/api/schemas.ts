// The JSON schemas of the query API's answers (OpenAPI 3.1 uses JSON Schema 2020-12): what the
// query functions of src/server/queries/ return, written once here for the OpenAPI document
// (openapi.ts). Objects are closed (additionalProperties: false) and every field is required,
// so the tests, which check every answer against these, catch a field added on one side only.
import { SEVERITIES } from '../../model/severity.ts';

const str = { type: 'string' } as const;
const nstr = { type: ['string', 'null'] } as const;
const count = { type: 'integer', minimum: 0 } as const;
const time = { type: 'string', format: 'date-time' } as const;
const ntime = { type: ['string', 'null'], format: 'date-time' } as const;
const digest = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;
const ndigest = { type: ['string', 'null'], pattern: '^sha256:[0-9a-f]{64}$' } as const;
const strings = { type: 'array', items: str } as const;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` }) as const;

function object(properties: Record<string, unknown>, description?: string) {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    additionalProperties: false,
    required: Object.keys(properties),
    properties,
  } as const;
}

function page(item: string, description: string, extra: Record<string, unknown> = {}) {
  return object(
    {
      ...extra,
      total: { ...count, description: 'rows matching, over all pages' },
      limit: { type: 'integer', minimum: 1 },
      offset: count,
      items: { type: 'array', items: ref(item) },
    },
    description,
  );
}

const bySeverity = object(Object.fromEntries(SEVERITIES.map((s) => [s, count])));

const nodeSummaryProperties = {
  name: str,
  cluster: nstr,
  hostname: nstr,
  k3sVersion: nstr,
  role: nstr,
  inventory: { ...ndigest, description: 'digest of its current inventory; null before its first report' },
  lastCheckAt: ntime,
  lastSeenAt: ntime,
  findings: { ...count, description: "findings of the node's newest report" },
  vulnerabilities: { ...count, description: 'distinct advisories matched against its inventory' },
};

const driftDay = object({
  day: { type: 'string', format: 'date' },
  new: count,
  resolved: count,
  down: count,
  up: count,
});

export const API_SCHEMAS = {
  Error: object(
    {
      error: { type: 'string', description: 'a stable code: BAD_QUERY, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, ...' },
      message: { type: 'string', description: 'what was wrong, for a person' },
    },
    'Every refusal and failure (the ingest endpoints answer the same shape).',
  ),
  NodeSummary: object(nodeSummaryProperties),
  NodePage: page('NodeSummary', 'A page of nodes, by name.'),
  NodeDetail: object({
    node: object({ ...nodeSummaryProperties, machineId: nstr, createdAt: time, lastReportId: nstr }),
    inventory: {
      oneOf: [
        { type: 'null' },
        object({
          digest,
          artifacts: {
            type: 'array',
            items: object({
              digest: str,
              kind: str,
              names: strings,
              k3sVersion: nstr,
              components: {
                type: 'array',
                items: object({
                  name: str,
                  version: str,
                  location: { ...str, description: 'where inside the artifact, e.g. "k3s > bin/containerd"' },
                  purl: nstr,
                }),
              },
            }),
          },
        }),
      ],
    },
    findings: {
      type: 'array',
      items: object({
        key: str,
        id: str,
        severity: { enum: SEVERITIES },
        title: nstr,
        message: nstr,
        component: nstr,
        location: strings,
        firstSeen: time,
        lastSeen: time,
      }),
    },
    vulnerabilities: {
      type: 'array',
      items: object({
        id: str,
        aliases: strings,
        severity: nstr,
        summary: nstr,
        component: nstr,
        version: nstr,
        location: nstr,
        artifact: nstr,
        fixed: nstr,
        reachability: nstr,
        firstMatchedAt: ntime,
      }),
    },
    events: { type: 'array', items: ref('DriftEvent') },
    reports: {
      type: 'array',
      items: object({ id: str, checkFinishedAt: time, receivedAt: time, findings: count, inventory: digest }),
    },
  }),
  ComponentHit: object({
    node: str,
    cluster: nstr,
    k3sVersion: nstr,
    version: str,
    artifact: { ...str, description: 'the binary or image digest the component is in' },
    location: { ...str, description: 'where inside it' },
  }),
  ComponentSearch: page('ComponentHit', 'Nodes whose current inventory holds the component (below a version).', {
    name: str,
    below: nstr,
    versions: {
      type: 'array',
      items: object({ version: str, nodes: count, matches: { type: 'boolean' } }),
    },
    suggestions: { ...strings, description: 'names containing the text, when no component has that exact name' },
  }),
  VulnerabilitySummary: object({
    id: str,
    aliases: strings,
    severity: str,
    summary: nstr,
    components: strings,
    fixed: strings,
    nodes: count,
    firstMatchedAt: ntime,
  }),
  VulnerabilityPage: page('VulnerabilitySummary', 'Advisories affecting current nodes, most severe first.'),
  AffectedNode: object({
    node: str,
    cluster: nstr,
    k3sVersion: nstr,
    id: str,
    component: nstr,
    version: nstr,
    location: nstr,
    artifact: nstr,
    fixed: nstr,
    reachability: nstr,
  }),
  VulnerabilityDetail: page('AffectedNode', 'One advisory (by id or alias): where it is and the nodes it affects.', {
    id: str,
    ids: strings,
    aliases: strings,
    severity: str,
    summary: nstr,
    fixed: strings,
    components: {
      type: 'array',
      items: object({
        component: nstr,
        version: nstr,
        location: nstr,
        artifact: nstr,
        fixed: nstr,
        reachability: nstr,
        nodes: count,
      }),
    },
  }),
  VersionCount: object({ version: nstr, nodes: count, clusters: count }),
  VersionSpread: object(
    { items: { type: 'array', items: ref('VersionCount') } },
    'Nodes per K3s version, newest first.',
  ),
  DriftEvent: object({
    node: str,
    id: str,
    type: { enum: ['finding', 'status'] },
    status: { enum: ['new', 'resolved', 'down', 'up'] },
    time,
    key: nstr,
    ruleId: nstr,
    severity: nstr,
    title: nstr,
    component: nstr,
    message: nstr,
  }),
  DriftDay: driftDay,
  DriftResult: page('DriftEvent', 'Agent events between two times, newest first, with counts per day.', {
    since: time,
    until: ntime,
    byDay: { type: 'array', items: ref('DriftDay') },
  }),
  FleetOverview: object({
    generatedAt: time,
    nodes: object({ total: count, seenLastDay: count, stale: count, neverReported: count }),
    clusters: count,
    inventories: count,
    k3sVersions: { type: 'array', items: ref('VersionCount') },
    findingsBySeverity: bySeverity,
    advisoriesBySeverity: bySeverity,
    drift: { type: 'array', items: ref('DriftDay') },
  }),
  UserList: object({
    items: {
      type: 'array',
      items: object({
        name: str,
        role: { enum: ['admin', 'viewer'] },
        createdAt: time,
        sessions: { ...count, description: 'sessions not expired' },
        tokens: { ...count, description: 'API tokens not revoked' },
      }),
    },
  }),
  IngestReceipt: object({ id: str, node: str, inventory: digest, receivedAt: time }),
  EventReceipt: object({ id: str, node: str, receivedAt: time }),
} as const;
