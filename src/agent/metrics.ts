// The agent's Prometheus metrics, on their own registry (never prom-client's global one, so two
// agents in one process, as in tests, do not share numbers). The core calls recordCheck() after
// each complete check; the outbox and the senders report through observeOutbox() and
// observeDelivery(). docs/agent.md ("Metrics") lists every name with its labels.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Finding, Severity } from '../model/inventory.ts';
import type { DeliveryAttempt } from './delivery.ts';
import { CHANNELS, type OutboxNotice } from './outbox.ts';

export type ImageVerdict = 'trusted' | 'untrusted' | 'unknown';

/** What one complete check found, in the shape the metrics need. */
export interface CheckSummary {
  /** When the check finished. */
  readonly finishedAt: Date;
  readonly durationSeconds: number;
  /** Open findings after the check, counted by rule id and severity (see countFindings). */
  readonly findings: readonly FindingCount[];
  /** The K3s binaries looked at (usually one): path, sha256 and the K3s version they carry. */
  readonly binaries: readonly { readonly path: string; readonly sha256: string; readonly k3sVersion: string }[];
  /** Images in containerd by verdict; a verdict left out counts 0. */
  readonly images: Readonly<Partial<Record<ImageVerdict, number>>>;
}

export interface FindingCount {
  readonly rule: string;
  readonly severity: Severity;
  readonly count: number;
}

/** Findings counted by rule id and severity, for CheckSummary.findings. */
export function countFindings(findings: readonly Finding[]): FindingCount[] {
  const counts = new Map<string, FindingCount>();
  for (const f of findings) {
    const key = `${f.id}\0${f.severity}`;
    counts.set(key, { rule: f.id, severity: f.severity, count: (counts.get(key)?.count ?? 0) + 1 });
  }
  return [...counts.values()];
}

const VERDICTS: readonly ImageVerdict[] = ['trusted', 'untrusted', 'unknown'];

// A check reads a whole node and its images: from under a second (cached) to minutes (first run).
const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export class AgentMetrics {
  readonly registry = new Registry();
  readonly #findings = new Gauge({
    name: 'k3sguard_findings',
    help: 'Open findings after the last complete check, by rule id and severity.',
    labelNames: ['rule', 'severity'] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'k3sguard_check_duration_seconds',
    help: 'How long complete checks took.',
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly #lastCheck = new Gauge({
    name: 'k3sguard_last_check_timestamp_seconds',
    help: 'When the last complete check finished (unix seconds).',
    registers: [this.registry],
  });
  readonly #binary = new Gauge({
    name: 'k3sguard_binary_info',
    help: 'The K3s binary the last check looked at (always 1; the labels are the information).',
    labelNames: ['path', 'sha256', 'k3s_version'] as const,
    registers: [this.registry],
  });
  readonly #images = new Gauge({
    name: 'k3sguard_images',
    help: "Images in containerd at the last check, by the policy's verdict.",
    labelNames: ['verdict'] as const,
    registers: [this.registry],
  });
  readonly #alertsPending = new Gauge({
    name: 'k3sguard_alerts_pending',
    help: 'Alerts written to the outbox and not yet acknowledged by the webhook receiver.',
    registers: [this.registry],
  });
  readonly #outboxPending = new Gauge({
    name: 'k3sguard_outbox_pending',
    help: 'Messages waiting in the outbox, by channel.',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  readonly #delivered = new Counter({
    name: 'k3sguard_outbox_delivered_total',
    help: 'Messages the receiver acknowledged (2xx), by channel.',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  readonly #retries = new Counter({
    name: 'k3sguard_outbox_retries_total',
    help: 'Failed attempts that will be retried (timeouts, network errors, 408, 429, 5xx), by channel.',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  readonly #deadLetters = new Counter({
    name: 'k3sguard_outbox_dead_letters_total',
    help: 'Messages the receiver refused for good (4xx), moved to the dead-letter folder, by channel.',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  readonly #dropped = new Counter({
    name: 'k3sguard_outbox_dropped_total',
    help: 'Oldest messages dropped because the outbox was over its size bound, by channel.',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  readonly #corrupt = new Counter({
    name: 'k3sguard_outbox_corrupt_total',
    help: 'Torn or damaged outbox files moved aside unsent, by channel.',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    // Every channel's series exist from the start, so a rate() over them has a zero to start from.
    for (const channel of CHANNELS) {
      for (const c of [this.#delivered, this.#retries, this.#deadLetters, this.#dropped, this.#corrupt]) {
        c.labels({ channel }).inc(0);
      }
      this.#outboxPending.labels({ channel }).set(0);
    }
    this.#alertsPending.set(0);
  }

  /** After each complete check: replaces the findings, binary and image series with the new ones. */
  recordCheck(summary: CheckSummary): void {
    this.#findings.reset();
    for (const f of summary.findings) this.#findings.labels({ rule: f.rule, severity: f.severity }).inc(f.count);
    this.#duration.observe(summary.durationSeconds);
    this.#lastCheck.set(summary.finishedAt.getTime() / 1000);
    this.#binary.reset();
    for (const b of summary.binaries) {
      this.#binary.labels({ path: b.path, sha256: b.sha256, k3s_version: b.k3sVersion }).set(1);
    }
    for (const verdict of VERDICTS) this.#images.labels({ verdict }).set(summary.images[verdict] ?? 0);
  }

  /** Alerts not yet acknowledged (observeOutbox keeps it current from the webhook channel). */
  setPending(n: number): void {
    this.#alertsPending.set(n);
  }

  /** Pass as the Outbox's onNotice. */
  observeOutbox(notice: OutboxNotice): void {
    const channel = notice.channel;
    this.#outboxPending.labels({ channel }).set(notice.pending);
    if (channel === 'webhook') this.setPending(notice.pending);
    if (notice.kind === 'delivered') this.#delivered.labels({ channel }).inc();
    if (notice.kind === 'dead-lettered') this.#deadLetters.labels({ channel }).inc();
    if (notice.kind === 'dropped') this.#dropped.labels({ channel }).inc();
    if (notice.kind === 'corrupt') this.#corrupt.labels({ channel }).inc();
  }

  /** Pass as a sender's onAttempt. */
  observeDelivery(attempt: DeliveryAttempt): void {
    if (attempt.retryInMs !== undefined) this.#retries.labels({ channel: attempt.channel }).inc();
  }

  /** The text exposition format, for GET /metrics. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
