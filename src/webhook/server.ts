// The webhook's HTTPS side (fastify, as the fleet server): POST /validate answers an
// AdmissionReview v1 with the decision (decide.ts), POST /mutate with the tags pinned to their
// verified digests, GET /healthz says it is up, GET /metrics gives the Prometheus text
// (metrics.ts). An audit-mode allowance that would have been a denial is logged as an event
// (`k3sguard.webhook.audit`, one JSON line with the review and the lines). Anything that
// is not a v1 AdmissionReview (not JSON, too large, another apiVersion) is a 400 with a JSON
// `{"error": CODE, "message": ...}` saying what was wrong; nothing a client sends crashes it.
// The certificate is reloaded when its files change (tls-reload.ts).
import type { AddressInfo } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import Fastify, { type FastifyServerOptions, LogController } from 'fastify';
import { parseJsonText } from '../io/json-text.ts';
import { LIMITS } from '../model/limits.ts';
import { type Decision, type DecisionContext, decideAdmission, mutateAdmission } from './decide.ts';
import { type Endpoint, WebhookMetrics } from './metrics.ts';
import { parseReview, REVIEW_API_VERSION, type ReviewRequest } from './review.ts';
import { type CertificateFiles, readCertificate, watchCertificate } from './tls-reload.ts';

export interface WebhookServerOptions {
  readonly decision: DecisionContext;
  readonly tls: CertificateFiles;
  readonly host: string;
  /** 0 lets the system choose (tests). */
  readonly port: number;
  /** Largest review body (default LIMITS.webhookBodyBytes). */
  readonly bodyLimit?: number;
  readonly logger?: FastifyServerOptions['logger'];
  /** Default: a new WebhookMetrics with process metrics. */
  readonly metrics?: WebhookMetrics;
}

export interface RunningWebhook {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  /** Certificate reloads so far. */
  reloads(): number;
  readonly metrics: WebhookMetrics;
  close(): Promise<void>;
}

class BadReview extends Error {
  readonly statusCode = 400;
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export async function startWebhook(opts: WebhookServerOptions): Promise<RunningWebhook> {
  const bodyLimit = opts.bodyLimit ?? LIMITS.webhookBodyBytes;
  const metrics = opts.metrics ?? new WebhookMetrics();
  const app = Fastify({
    logger: opts.logger ?? false,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    return503OnClosing: true,
    https: readCertificate(opts.tls),
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonText(body as string));
    } catch (e) {
      done(new BadReview('BAD_JSON', `the body is not JSON: ${(e as Error).message}`), undefined);
    }
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, 'review failed');
      reply.code(500).send({ error: 'INTERNAL', message: 'the review could not be decided' });
      return;
    }
    // Every client error is a 400 the API server logs with its message: too large and the wrong
    // media type included, so one status means "this was not a review I can answer".
    const code =
      err instanceof BadReview ? err.code : status === 413 ? 'TOO_LARGE' : status === 415 ? 'NOT_JSON' : 'BAD_REQUEST';
    const message =
      status === 413
        ? `the body is larger than ${bodyLimit} bytes (docs/limits.md webhookBodyBytes)`
        : status === 415
          ? 'expected Content-Type: application/json (an AdmissionReview)'
          : err.message;
    metrics.badReview(code);
    reply.code(400).send({ error: code, message });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  const answer =
    (endpoint: Endpoint, decide: (r: ReviewRequest, c: DecisionContext) => Promise<Decision>) =>
    async (req: { body: unknown; log: { warn: (o: object, m: string) => void } }) => {
      if (req.body === undefined) throw new BadReview('NOT_JSON', 'expected an AdmissionReview as JSON');
      const parsed = parseReview(req.body);
      if (!parsed.ok) throw new BadReview('BAD_REVIEW', parsed.message);
      const t0 = performance.now();
      const d = await decide(parsed.request, opts.decision);
      metrics.record(endpoint, d, (performance.now() - t0) / 1000);
      if (endpoint === 'validate' && d.verdict === 'warned') {
        const r = parsed.request;
        req.log.warn(
          {
            event: 'k3sguard.webhook.audit',
            uid: r.uid,
            kind: r.kind,
            namespace: r.namespace,
            name: r.name,
            lines: d.lines,
          },
          opts.decision.mode === 'audit' ? 'audit: would deny' : 'fail-open: admitted unchecked',
        );
      }
      return { apiVersion: REVIEW_API_VERSION, kind: 'AdmissionReview', response: d.response };
    };
  app.post('/validate', answer('validate', decideAdmission));
  app.post('/mutate', answer('mutate', mutateAdmission));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const watcher = watchCertificate(app.server as unknown as TlsServer, opts.tls);
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `https://${host}:${address.port}`, reloads: watcher.reloads, metrics, close: () => app.close() };
}
