// The query API's OpenAPI 3.1 document, built here and nowhere else: served at
// /api/v1/openapi.json, written to docs/openapi.json by `npm run docs`, and used by the tests to
// check every answer. Its read operations and their parameters are those of operations.ts (what
// the server registers and accepts); response bodies are the schemas of schemas.ts.
import { OPERATIONS, type QueryOperation } from './operations.ts';
import { API_SCHEMAS } from './schemas.ts';

const json = (schema: unknown) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });

function readOperation(op: QueryOperation) {
  const ok = {
    description: 'OK',
    ...(op.csv
      ? {
          headers: {
            'X-Total-Count': {
              description: 'rows matching, over all pages (CSV answers)',
              schema: { type: 'integer', minimum: 0 },
            },
          },
        }
      : {}),
    content: {
      ...json({ $ref: `#/components/schemas/${op.schema}` }),
      ...(op.csv
        ? {
            'text/csv': {
              schema: {
                type: 'string',
                description: `RFC 4180: a header line of the JSON field names, then one line per ${op.csv}`,
              },
            },
          }
        : {}),
    },
  };
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: ['fleet'],
    security: [{ session: [] }, { userToken: [] }],
    parameters: op.parameters,
    responses: {
      200: ok,
      400: error('a query parameter is malformed, out of range or unknown (the message names it)'),
      401: error('not logged in: no session or user token, or an expired, unknown or revoked one'),
      403: error(
        op.role === 'admin'
          ? 'a viewer (this needs an admin), or a node token'
          : 'a node token: node tokens send reports, they never read fleet data',
      ),
      ...(op.notFound ? { 404: error(`no such ${op.notFound}`) } : {}),
      500: error('the database failed'),
    },
  };
}

function ingestOperation(kind: 'report' | 'event') {
  const receipt = kind === 'report' ? 'IngestReceipt' : 'EventReceipt';
  return {
    operationId: kind === 'report' ? 'ingestReport' : 'ingestEvent',
    summary: kind === 'report' ? 'An agent sends a node report' : 'An agent sends an event',
    description: `docs/server.md "Ingest API"; the body is validated against docs/${kind}-schema.json.`,
    tags: ['ingest'],
    security: [{ nodeToken: [] }],
    parameters: [
      {
        name: 'X-K3sguard-Event-Id',
        in: 'header',
        required: true,
        description: 'the message id, 64 lowercase hex',
        schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      },
    ],
    requestBody: {
      required: true,
      content: json({ type: 'object', description: `a k3sguard/${kind}@1 document (docs/${kind}-schema.json)` }),
    },
    responses: {
      200: {
        description: 'already stored under this id with this body',
        content: json({ $ref: `#/components/schemas/${receipt}` }),
      },
      201: { description: 'stored now', content: json({ $ref: `#/components/schemas/${receipt}` }) },
      400: error('not JSON, a bad message id, or not schema-valid'),
      401: error('no, unknown or revoked node token'),
      409: error('the id was stored with another body or by another node'),
      413: error('the body is over serverBodyBytes'),
      415: error('not application/json'),
      429: error('the token is over its rate limit (Retry-After)'),
      500: error('the database failed: send again later'),
    },
  };
}

/** `/api/v1/nodes/:name` -> `/api/v1/nodes/{name}`. */
export function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z]+)/g, '{$1}');
}

export function openApiDocument() {
  const paths: Record<string, unknown> = {};
  for (const op of OPERATIONS) paths[openApiPath(op.route)] = { get: readOperation(op) };
  paths['/api/v1/reports'] = { post: ingestOperation('report') };
  paths['/api/v1/events'] = { post: ingestOperation('event') };
  paths['/api/v1/openapi.json'] = {
    get: {
      operationId: 'openApi',
      summary: 'This document',
      tags: ['meta'],
      security: [],
      responses: { 200: { description: 'OK', content: json({ type: 'object' }) } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'k3sguard fleet server',
      version: '1',
      description:
        'The query API of `k3sguard server` (docs/server.md): read-only fleet data for users (a session from POST /login, or a user API token from `k3sguard server user token`), and the ingest endpoints agents send to with node tokens. Node tokens never read fleet data.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: API_SCHEMAS,
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'k3sguard_session', description: 'from POST /login' },
        userToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'a user API token, k3su_... (`k3sguard server user token`)',
        },
        nodeToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'a node token, k3sg_... (`k3sguard server token create`)',
        },
      },
    },
  };
}
