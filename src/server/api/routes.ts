// The query API under /api/v1/ (docs/server.md "Query API"): read-only fleet data for users
// (requireUser('viewer'); the user list for admins only), answered from the query functions of src/server/queries/ as JSON or,
// where declared, CSV. Each route's parameters and answers are those of its OpenAPI operation
// (openapi.ts); the document itself is public at /api/v1/openapi.json.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { quoteControls } from '../../model/quote.ts';
import { compareGoVersions } from '../../versions/gosemver.ts';
import { requireUser } from '../auth/routes.ts';
import { listUsers } from '../auth/users.ts';
import type { Database } from '../db/database.ts';
import {
  driftEvents,
  fleetOverview,
  k3sVersionSpread,
  listNodes,
  listVulnerabilities,
  nodeDetail,
  searchComponents,
  vulnerabilityDetail,
} from '../queries/index.ts';
import { Refusal } from '../refusal.ts';
import { type CsvColumn, columnsOf, toCsv } from './csv.ts';
import { openApiDocument } from './openapi.ts';
import { OPERATIONS, type QueryOperation } from './operations.ts';
import { checkDeclarations, type ParameterValue, readParameters } from './params.ts';

export interface QueryApiOptions {
  readonly db: Database;
  readonly now?: () => Date;
}

type Params = Record<string, ParameterValue>;

/** What a route answers: JSON, and the CSV form of its rows when it has one (made only when asked). */
interface Answer {
  readonly json: unknown;
  readonly csv?: { readonly name: string; readonly total: number; text(): string };
}

const DRIFT_DEFAULT_DAYS = 7;

function csvAnswer<T>(json: unknown, name: string, columns: CsvColumn<T>[], rows: T[], total: number): Answer {
  return { json, csv: { name, total, text: () => toCsv(columns, rows) } };
}

const page = (p: Params) => ({
  ...(p.limit !== undefined ? { limit: p.limit as number } : {}),
  ...(p.offset !== undefined ? { offset: p.offset as number } : {}),
});

function handlers(opts: QueryApiOptions): Record<string, (p: Params) => Promise<Answer | undefined>> {
  const { db } = opts;
  const now = opts.now ?? (() => new Date());
  return {
    fleetOverview: async () => ({ json: await fleetOverview(db, now()) }),
    listNodes: async (p) => {
      const result = await listNodes(db, {
        ...(p.cluster !== undefined ? { cluster: p.cluster as string } : {}),
        ...(p.k3sVersion !== undefined ? { k3sVersion: p.k3sVersion as string } : {}),
        ...(p.seenSince !== undefined ? { seenSince: p.seenSince as string } : {}),
        ...(p.seenBefore !== undefined ? { seenBefore: p.seenBefore as string } : {}),
        ...(p.hasFindings !== undefined ? { hasFindings: p.hasFindings as boolean } : {}),
        ...page(p),
      });
      const columns = columnsOf<(typeof result.items)[number]>([
        'name',
        'cluster',
        'hostname',
        'k3sVersion',
        'role',
        'inventory',
        'lastCheckAt',
        'lastSeenAt',
        'findings',
        'vulnerabilities',
      ]);
      return csvAnswer(result, 'nodes', columns, result.items, result.total);
    },
    nodeDetail: async (p) => {
      const detail = await nodeDetail(db, p.name as string);
      return detail ? { json: detail } : undefined;
    },
    searchComponents: async (p) => {
      if (p.below !== undefined && compareGoVersions(p.below as string, p.below as string) === undefined) {
        throw new Refusal(
          400,
          'BAD_QUERY',
          `?below=${quoteControls(String(p.below).slice(0, 80))}: expected a Go version such as v1.1.12 or 1.1.12`,
        );
      }
      const result = await searchComponents(db, {
        name: p.name as string,
        ...(p.below !== undefined ? { below: p.below as string } : {}),
        ...page(p),
      });
      const columns = columnsOf<(typeof result.items)[number]>([
        'node',
        'cluster',
        'k3sVersion',
        'version',
        'artifact',
        'location',
      ]);
      return csvAnswer(result, 'components', columns, result.items, result.total);
    },
    listVulnerabilities: async (p) => {
      const result = await listVulnerabilities(db, {
        ...(p.severity !== undefined ? { severity: p.severity as string } : {}),
        ...page(p),
      });
      const columns = columnsOf<(typeof result.items)[number]>([
        'id',
        'aliases',
        'severity',
        'summary',
        'components',
        'fixed',
        'nodes',
        'firstMatchedAt',
      ]);
      return csvAnswer(result, 'vulnerabilities', columns, result.items, result.total);
    },
    vulnerabilityDetail: async (p) => {
      const result = await vulnerabilityDetail(db, p.id as string, page(p));
      if (!result) return undefined;
      const columns = columnsOf<(typeof result.items)[number]>([
        'node',
        'cluster',
        'k3sVersion',
        'id',
        'component',
        'version',
        'location',
        'artifact',
        'fixed',
        'reachability',
      ]);
      return csvAnswer(result, `vulnerability-${result.id}`, columns, result.items, result.total);
    },
    k3sVersionSpread: async () => {
      const items = await k3sVersionSpread(db);
      const columns = columnsOf<(typeof items)[number]>(['version', 'nodes', 'clusters']);
      return csvAnswer({ items }, 'k3s-versions', columns, items, items.length);
    },
    driftEvents: async (p) => {
      const since =
        (p.since as string | undefined) ?? new Date(now().getTime() - DRIFT_DEFAULT_DAYS * 86_400_000).toISOString();
      if (p.until !== undefined && (p.until as string) <= since) {
        throw new Refusal(400, 'BAD_QUERY', '?until: must be after ?since');
      }
      const result = await driftEvents(db, {
        since,
        ...(p.until !== undefined ? { until: p.until as string } : {}),
        ...(p.node !== undefined ? { node: p.node as string } : {}),
        ...page(p),
      });
      const columns = columnsOf<(typeof result.items)[number]>([
        'time',
        'node',
        'type',
        'status',
        'ruleId',
        'severity',
        'title',
        'component',
        'message',
        'key',
        'id',
      ]);
      return csvAnswer(result, 'drift', columns, result.items, result.total);
    },
    listUsers: async () => ({ json: { items: (await listUsers(db, now())).map(({ id: _id, ...u }) => u) } }),
  };
}

/** CSV when asked by `?format=csv`, or by an Accept header that names text/csv and not JSON. */
function wantsCsv(req: FastifyRequest, params: Params): boolean {
  if (params.format !== undefined) return params.format === 'csv';
  const accept = req.headers.accept ?? '';
  return /\btext\/csv\b/i.test(accept) && !/\bapplication\/json\b/i.test(accept);
}

function send(
  reply: FastifyReply,
  req: FastifyRequest,
  op: QueryOperation,
  params: Params,
  answer: Answer,
): FastifyReply {
  reply.header('cache-control', 'no-store');
  if (answer.csv && op.csv && wantsCsv(req, params)) {
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${answer.csv.name.replace(/[^A-Za-z0-9._-]/g, '_')}.csv"`)
      .header('x-total-count', String(answer.csv.total))
      .send(answer.csv.text());
  }
  return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(answer.json));
}

export async function registerQueryApi(app: FastifyInstance, opts: QueryApiOptions): Promise<void> {
  checkDeclarations(OPERATIONS);
  const byId = handlers(opts);
  const document = JSON.stringify(openApiDocument());
  app.get('/api/v1/openapi.json', async (_req, reply) =>
    reply.header('content-type', 'application/json; charset=utf-8').send(document),
  );
  for (const op of OPERATIONS) {
    const handle = byId[op.operationId];
    if (!handle) throw new Error(`no handler for ${op.operationId}`);
    app.get(op.route, { onRequest: requireUser(op.role ?? 'viewer') }, async (req, reply) => {
      const params = readParameters(op, req.query as Record<string, unknown>, req.params as Record<string, unknown>);
      const answer = await handle(params);
      if (!answer) {
        throw new Refusal(
          404,
          'NOT_FOUND',
          `no ${op.notFound ?? 'such thing'} ${JSON.stringify(params.name ?? params.id)}`,
        );
      }
      return send(reply, req, op, params, answer);
    });
  }
}
