// The agent's outputs besides stdout: the outbox (events to the webhook, events and node
// reports to the fleet server) with one sender per channel, and the metrics and health
// endpoint. Everything is written to the outbox before the agent goes on, so an alert
// decided is an alert delivered, at least once, whatever happens to the receiver or to us.
import { join } from 'node:path';
import { errnoOf } from '../io/fs-error.ts';
import { InputError } from '../model/errors.ts';
import type { AgentConfig } from './config.ts';
import { type Delivery, startDelivery } from './delivery.ts';
import { type AgentHttp, startAgentHttp } from './http.ts';
import type { AgentSecrets } from './inputs.ts';
import { AgentMetrics, countFindings } from './metrics.ts';
import { Outbox } from './outbox.ts';
import type { AgentSinks } from './service.ts';

export interface AgentOutputs extends AgentSinks {
  metrics: AgentMetrics;
  /** Where the metrics and health endpoint listens, when it does. */
  http?: AgentHttp;
  outbox?: Outbox;
}

export async function startOutputs(
  config: AgentConfig,
  secrets: AgentSecrets,
  log: (text: string) => void,
): Promise<AgentOutputs> {
  const metrics = new AgentMetrics();
  const deliveries: Delivery[] = [];
  let outbox: Outbox | undefined;
  let webhook: Delivery | undefined;
  let server: Delivery | undefined;
  if (secrets.webhook || secrets.server) {
    outbox = new Outbox(join(config.stateDir, 'outbox'), { onNotice: (n) => metrics.observeOutbox(n) });
    metrics.setPending(outbox.pending('webhook'));
    const onAttempt: Parameters<typeof startDelivery>[3] = {
      onAttempt: (a) => {
        metrics.observeDelivery(a);
        if (a.retryInMs !== undefined && a.attempt === 1) {
          const why = a.outcome.kind === 'error' ? a.outcome.reason : a.outcome.kind;
          log(`k3sguard agent: ${a.channel} delivery of ${a.id} failed (${why}); retrying with backoff`);
        }
      },
    };
    if (secrets.webhook) {
      webhook = startDelivery(outbox, 'webhook', secrets.webhook, onAttempt);
      deliveries.push(webhook);
    }
    if (secrets.server) {
      server = startDelivery(outbox, 'server', secrets.server, onAttempt);
      deliveries.push(server);
    }
  }
  let checked = false;
  let http: AgentHttp | undefined;
  if (config.listen !== '') {
    try {
      http = await startAgentHttp(config.listen, {
        metrics,
        health: () => (checked ? { ready: true } : { ready: false, reason: 'the first check has not finished' }),
      });
    } catch (e) {
      await Promise.all(deliveries.map((d) => d.stop()));
      // Another agent (or exporter) on the port, or an address this host does not have: the
      // operator's to fix, said in one line.
      throw new InputError('USAGE', undefined, `--listen ${config.listen}: cannot listen (${errnoOf(e)})`, {
        cause: e,
      });
    }
  }
  return {
    metrics,
    ...(http ? { http } : {}),
    ...(outbox ? { outbox } : {}),
    event(event, again = false) {
      if (!outbox) return;
      const body = JSON.stringify(event);
      for (const [channel, sender] of [
        ['webhook', webhook],
        ['server', server],
      ] as const) {
        if (!sender || (again && outbox.holds(channel, event.id))) continue;
        outbox.enqueue(channel, event.id, body, { kind: 'event' });
        sender.kick();
      }
    },
    report(report, id) {
      if (!outbox || !server) return;
      outbox.enqueue('server', id, JSON.stringify(report), { kind: 'report' });
      server.kick();
    },
    checked(check, report, durationMs) {
      checked = true;
      const binary = report.node.k3s.binary;
      const images: Partial<Record<'trusted' | 'untrusted' | 'unknown', number>> = {};
      for (const i of check.containerd.images) images[i.verdict] = (images[i.verdict] ?? 0) + 1;
      metrics.recordCheck({
        finishedAt: check.finishedAt,
        durationSeconds: durationMs / 1000,
        findings: countFindings(report.findings.map((f) => f.finding)),
        binaries: binary
          ? [
              {
                path: binary.path,
                sha256: binary.digest.replace(/^sha256:/, ''),
                k3sVersion: report.node.k3s.version ?? '',
              },
            ]
          : [],
        images,
      });
    },
    async close() {
      await Promise.all(deliveries.map((d) => d.stop()));
      await http?.close();
    },
  };
}
