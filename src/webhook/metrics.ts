// The webhook's Prometheus metrics at GET /metrics, on their own registry (never prom-client's
// global one: two webhooks in one process, as in tests, keep their own numbers). docs/webhook.md
// ("Metrics") lists every name with its labels.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Decision } from './decide.ts';

export type Endpoint = 'validate' | 'mutate';

// A warm decision is a few milliseconds; a cold one fetches and verifies (tens to hundreds of
// ms); the deadline caps it at 10 s by default.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class WebhookMetrics {
  readonly registry = new Registry();
  readonly #decisions = new Counter({
    name: 'k3sguard_webhook_decisions_total',
    help: 'Admission reviews answered, by endpoint, verdict and the rule of the first problem ("none" when there was none).',
    labelNames: ['endpoint', 'verdict', 'rule'] as const,
    registers: [this.registry],
  });
  readonly #problems = new Counter({
    name: 'k3sguard_webhook_image_problems_total',
    help: 'Images refused (or warned about), by endpoint and rule: one per image and rule.',
    labelNames: ['endpoint', 'rule'] as const,
    registers: [this.registry],
  });
  readonly #latency = new Histogram({
    name: 'k3sguard_webhook_decision_duration_seconds',
    help: 'Time from a parsed review to its answer, by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #cache = new Counter({
    name: 'k3sguard_webhook_cache_lookups_total',
    help: 'Cache lookups of tag resolutions and signature verdicts, by kind and result (hit or miss).',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly #badReviews = new Counter({
    name: 'k3sguard_webhook_bad_reviews_total',
    help: 'Requests answered 400 (not a v1 AdmissionReview: not JSON, too large, another version), by error code.',
    labelNames: ['error'] as const,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    // Present from the start at zero, so a rate() over them works before the first miss.
    for (const kind of ['tag', 'verdict']) for (const result of ['hit', 'miss']) this.#cache.inc({ kind, result }, 0);
  }

  record(endpoint: Endpoint, d: Decision, seconds: number): void {
    this.#decisions.inc({ endpoint, verdict: d.verdict, rule: d.rule });
    for (const rule of d.problems) this.#problems.inc({ endpoint, rule });
    this.#latency.observe({ endpoint }, seconds);
    for (const l of d.lookups) this.#cache.inc({ kind: l.kind, result: l.hit ? 'hit' : 'miss' });
  }

  badReview(error: string): void {
    this.#badReviews.inc({ error });
  }
}
