// The fleet server's HTTP side (fastify; its pino logger is the caller's choice): ingest of
// node reports and events from agents, and the health endpoints. docs/server.md is its reference.
//
// An ingest request goes: bearer token (before the body is read: unknown or revoked -> 401),
// the token's rate limit (429 + Retry-After), the body read up to the size limit (413), parsed
// (400), validated against the schema (400), then committed in one transaction; only then 201
// (or 200 for a message already stored under that id). Every refusal is JSON
// `{"error": CODE, "message": ...}` and stores nothing.
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify';
import { parseJsonText } from '../io/json-text.ts';
import { LIMITS } from '../model/limits.ts';
import { registerQueryApi } from './api/routes.ts';
import { registerAuth } from './auth/routes.ts';
import { registerDashboard } from './dashboard/routes.ts';
import { type RateLimiter, rateLimiter } from './rate-limit.ts';
import { Refusal } from './refusal.ts';
import type { Caller, EventDocument, IngestOutcome, ReportDocument, Store } from './store.ts';
import { bearerToken } from './tokens.ts';
import { validateEvent, validateReport } from './validate.ts';

/** The header the agent's sender puts each message's id in (docs/agent.md, delivery). */
export const MESSAGE_ID_HEADER = 'x-k3sguard-event-id';

export interface ServerOptions {
  readonly store: Store;
  readonly host: string;
  /** 0 lets the system choose (tests). */
  readonly port: number;
  /** PEM texts: HTTPS instead of HTTP. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Largest request body (default LIMITS.serverBodyBytes). */
  readonly bodyLimit?: number;
  /** Requests per minute per node token (default LIMITS.serverTokenRequests). */
  readonly rateLimitPerMinute?: number;
  /** The clock of sessions, login limits and the query API's default windows (tests freeze it). */
  readonly now?: () => Date;
  /** fastify's logger option (pino); false for none. */
  readonly logger?: FastifyServerOptions['logger'];
}

export interface RunningServer {
  /** `http://127.0.0.1:PORT` or `https://...`: what agents are given as `--server`. */
  readonly url: string;
  close(): Promise<void>;
}

interface RawJson {
  readonly text: string;
  readonly value: unknown;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

const MESSAGE_ID = /^[0-9a-f]{64}$/;

function messageId(req: FastifyRequest): string {
  const id = req.headers[MESSAGE_ID_HEADER];
  if (typeof id !== 'string' || !MESSAGE_ID.test(id)) {
    throw new Refusal(400, 'BAD_MESSAGE_ID', 'X-K3sguard-Event-Id: expected the message id, 64 lowercase hex digits');
  }
  return id;
}

function answer<R>(reply: FastifyReply, outcome: IngestOutcome<R>): R {
  if (outcome.kind === 'conflict') throw new Refusal(409, 'ID_CONFLICT', outcome.reason);
  reply.code(outcome.kind === 'stored' ? 201 : 200);
  return outcome.receipt;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { store } = opts;
  const limiter: RateLimiter = rateLimiter(opts.rateLimitPerMinute ?? LIMITS.serverTokenRequests);
  const app = Fastify({
    logger: opts.logger ?? false,
    // One line per request at a fleet's rate is noise; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? LIMITS.serverBodyBytes,
    return503OnClosing: true,
    // Path parameters are node names (up to 253 characters) and advisory ids: above fastify's 100.
    routerOptions: { maxParamLength: 300 },
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key } } : {}),
  });
  app.decorateRequest('caller', null);

  // The raw text is kept: its digest tells a re-sent message from a different one under the same id.
  app.removeAllContentTypeParsers(); // JSON only: a text/plain body is a 415, not a string to validate
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    try {
      // Nesting bounded before parsing (LIMITS.jsonDepth): a body of `[[[[...` is refused, not built.
      done(null, { text, value: parseJsonText(text) } satisfies RawJson);
    } catch (e) {
      done(new Refusal(400, 'BAD_JSON', `the body is not JSON: ${(e as Error).message}`), undefined);
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    const code =
      err instanceof Refusal
        ? err.code
        : status === 413
          ? 'TOO_LARGE'
          : status === 415
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : status === 400
              ? 'BAD_REQUEST'
              : 'INTERNAL';
    const message =
      status === 413
        ? `the body is larger than ${req.routeOptions.bodyLimit ?? opts.bodyLimit ?? LIMITS.serverBodyBytes} bytes (docs/limits.md)`
        : status >= 500
          ? req.method === 'GET'
            ? 'the server could not answer: its database failed; ask again later'
            : 'the server could not store it; send it again later'
          : err.message;
    reply.code(status).send({ error: code, message });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  /** Before the body is read: who is calling, and may they now. */
  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(req.headers.authorization);
    const caller = token ? await store.authenticate(token) : undefined;
    if (!caller) {
      reply.header('www-authenticate', 'Bearer');
      throw new Refusal(401, 'UNAUTHORIZED', 'a valid node token is required (Authorization: Bearer <token>)');
    }
    const waitMs = limiter.take(caller.tokenId);
    if (waitMs > 0) {
      reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
      throw new Refusal(
        429,
        'RATE_LIMITED',
        'too many requests for this node token; retry after the Retry-After seconds',
      );
    }
    req.caller = caller;
  };

  const jsonBody = (req: FastifyRequest): RawJson => {
    const body = req.body as RawJson | undefined;
    if (!body) throw new Refusal(415, 'UNSUPPORTED_MEDIA_TYPE', 'expected Content-Type: application/json');
    return body;
  };

  app.post('/api/v1/reports', { onRequest: authenticate }, async (req, reply) => {
    const caller = req.caller as Caller;
    const id = messageId(req);
    const body = jsonBody(req);
    const valid = validateReport(body.value);
    if (!valid.ok) throw new Refusal(400, 'SCHEMA_INVALID', `not a k3sguard/report@1 document: ${valid.problem}`);
    const digest = createHash('sha256').update(body.text).digest('hex');
    return answer(reply, await store.ingestReport(caller, id, body.value as ReportDocument, digest));
  });

  app.post('/api/v1/events', { onRequest: authenticate }, async (req, reply) => {
    const caller = req.caller as Caller;
    const id = messageId(req);
    const body = jsonBody(req);
    const valid = validateEvent(body.value);
    if (!valid.ok) throw new Refusal(400, 'SCHEMA_INVALID', `not a k3sguard/event@1 document: ${valid.problem}`);
    const event = body.value as EventDocument;
    if (event.id !== id) throw new Refusal(400, 'BAD_MESSAGE_ID', 'X-K3sguard-Event-Id differs from the event id');
    return answer(reply, await store.ingestEvent(caller, event, body.text));
  });

  await registerAuth(app, { store, secureCookies: opts.tls !== undefined, ...(opts.now ? { now: opts.now } : {}) });
  await registerQueryApi(app, { db: store.db, ...(opts.now ? { now: opts.now } : {}) });
  await registerDashboard(app, { db: store.db, ...(opts.now ? { now: opts.now } : {}) });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await store.ping();
      return { status: 'ready' };
    } catch (e) {
      reply.code(503);
      return { status: 'not ready', reason: `the database does not answer: ${(e as Error).message}` };
    }
  });

  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${address.port}`,
    close: () => app.close(),
  };
}
