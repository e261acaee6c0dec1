// The read operations of the query API: route, parameters (with their JSON schemas, the only
// parameters a route accepts: params.ts reads them), answer schema, CSV form, who may call it.
// openapi.ts builds the OpenAPI document from them; routes.ts registers one route per operation.
import { LIMITS } from '../../model/limits.ts';
import { SEVERITIES } from '../../model/severity.ts';
import { DEFAULT_PAGE } from '../queries/page.ts';
import type { API_SCHEMAS } from './schemas.ts';

export interface Parameter {
  readonly name: string;
  readonly in: 'query' | 'path';
  readonly required?: boolean;
  readonly description: string;
  readonly schema: Record<string, unknown>;
}

export interface QueryOperation {
  readonly operationId: string;
  /** fastify's form: `/api/v1/nodes/:name`. */
  readonly route: string;
  readonly summary: string;
  readonly description?: string;
  readonly parameters: readonly Parameter[];
  /** The schema of the 200 JSON answer. */
  readonly schema: keyof typeof API_SCHEMAS;
  /** Also answered as CSV (`?format=csv` or `Accept: text/csv`): what one row is. */
  readonly csv?: string;
  readonly notFound?: string;
  /** Who may call it: any user (viewer, the default) or admins only. */
  readonly role?: 'admin' | 'viewer';
}

const ISO = 'ISO-8601: a date-time with its offset (`2026-12-03T10:00:00Z`) or a date (`2026-12-03`, midnight UTC)';
const timeSchema = { type: 'string', anyOf: [{ format: 'date-time' }, { format: 'date' }] };

const paging: readonly Parameter[] = [
  {
    name: 'limit',
    in: 'query',
    description: `rows per page (default ${DEFAULT_PAGE}, at most serverQueryRows: ${LIMITS.serverQueryRows})`,
    schema: { type: 'integer', minimum: 1, maximum: LIMITS.serverQueryRows },
  },
  { name: 'offset', in: 'query', description: 'rows to skip', schema: { type: 'integer', minimum: 0 } },
];

const format: Parameter = {
  name: 'format',
  in: 'query',
  description: 'json (default) or csv; without it, `Accept: text/csv` asks for CSV',
  schema: { enum: ['json', 'csv'] },
};

export const OPERATIONS: readonly QueryOperation[] = [
  {
    operationId: 'fleetOverview',
    route: '/api/v1/overview',
    summary: 'The fleet at a glance',
    description:
      "Node counts, K3s versions, open findings by severity (nodes' own findings plus (node, advisory) pairs), drift per day over the last 14 days.",
    parameters: [],
    schema: 'FleetOverview',
  },
  {
    operationId: 'listNodes',
    route: '/api/v1/nodes',
    summary: 'Nodes, filtered, a page at a time (by name)',
    parameters: [
      {
        name: 'cluster',
        in: 'query',
        description: 'nodes of this cluster (`token create --cluster`)',
        schema: { type: 'string', minLength: 1 },
      },
      {
        name: 'k3sVersion',
        in: 'query',
        description: 'nodes on this K3s version, e.g. `v1.31.1+k3s1`',
        schema: { type: 'string', minLength: 1 },
      },
      { name: 'seenSince', in: 'query', description: `seen at or after this time; ${ISO}`, schema: timeSchema },
      {
        name: 'seenBefore',
        in: 'query',
        description: `not seen since this time (stale nodes); ${ISO}`,
        schema: timeSchema,
      },
      {
        name: 'hasFindings',
        in: 'query',
        description: 'true: with findings or vulnerabilities; false: without',
        schema: { type: 'boolean' },
      },
      ...paging,
      format,
    ],
    schema: 'NodePage',
    csv: 'node',
  },
  {
    operationId: 'nodeDetail',
    route: '/api/v1/nodes/:name',
    summary: 'One node: inventory tree, findings, vulnerabilities, drift events, report history',
    parameters: [
      {
        name: 'name',
        in: 'path',
        required: true,
        description: 'the node name',
        schema: { type: 'string', minLength: 1 },
      },
    ],
    schema: 'NodeDetail',
    notFound: 'node',
  },
  {
    operationId: 'searchComponents',
    route: '/api/v1/components',
    summary: 'Nodes running a component (below a version), and where inside their binaries',
    description: 'For example `?name=github.com/opencontainers/runc&below=1.1.12`.',
    parameters: [
      {
        name: 'name',
        in: 'query',
        required: true,
        description: 'the exact component name: a Go module path, `stdlib`, or a package name',
        schema: { type: 'string', minLength: 1, maxLength: 1024 },
      },
      {
        name: 'below',
        in: 'query',
        description: 'only versions below this one (Go semver, with or without the `v`)',
        schema: { type: 'string', minLength: 1, maxLength: 256 },
      },
      ...paging,
      format,
    ],
    schema: 'ComponentSearch',
    csv: '(node, component version, place) hit',
  },
  {
    operationId: 'listVulnerabilities',
    route: '/api/v1/vulnerabilities',
    summary: 'Advisories affecting current nodes, most severe first',
    parameters: [
      { name: 'severity', in: 'query', description: 'only this severity', schema: { enum: SEVERITIES } },
      ...paging,
      format,
    ],
    schema: 'VulnerabilityPage',
    csv: 'advisory',
  },
  {
    operationId: 'vulnerabilityDetail',
    route: '/api/v1/vulnerabilities/:id',
    summary: 'One advisory by id or alias: affected nodes, where, fixed version, reachability',
    parameters: [
      {
        name: 'id',
        in: 'path',
        required: true,
        description: 'an advisory id or alias (GO-..., CVE-..., GHSA-...), any case',
        schema: { type: 'string', minLength: 1, maxLength: 256 },
      },
      ...paging,
      format,
    ],
    schema: 'VulnerabilityDetail',
    csv: 'affected (node, place)',
    notFound: 'advisory',
  },
  {
    operationId: 'k3sVersionSpread',
    route: '/api/v1/k3s-versions',
    summary: 'Nodes per K3s version, newest first',
    parameters: [format],
    schema: 'VersionSpread',
    csv: 'version',
  },
  {
    operationId: 'driftEvents',
    route: '/api/v1/drift',
    summary: 'Drift over time: agent events (findings new or resolved, containerd down or up), newest first',
    parameters: [
      { name: 'since', in: 'query', description: `from this time (default: 7 days ago); ${ISO}`, schema: timeSchema },
      { name: 'until', in: 'query', description: `up to this time, exclusive; ${ISO}`, schema: timeSchema },
      { name: 'node', in: 'query', description: "one node's events", schema: { type: 'string', minLength: 1 } },
      ...paging,
      format,
    ],
    schema: 'DriftResult',
    csv: 'event',
  },
  {
    operationId: 'listUsers',
    route: '/api/v1/users',
    summary: 'User accounts with their role, live sessions and API tokens (admins only; never a secret)',
    parameters: [],
    schema: 'UserList',
    role: 'admin',
  },
];
