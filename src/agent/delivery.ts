// The sender of one outbox channel: takes the oldest message, POSTs it, removes it when the
// receiver acknowledged it, and otherwise retries the same message with backoff, so messages
// arrive in order and at least once (a crash between the receiver's 2xx and the removal sends
// that one again: receivers dedupe on X-K3sguard-Event-Id). A message the receiver refuses for
// good goes to the dead-letter folder so it cannot block the ones behind it.
import { TOOL_VERSION } from '../io/tool-version.ts';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from '../io/webhook-signature.ts';
import { InputError } from '../model/errors.ts';
import { type BackoffPolicy, backoffDelay } from './backoff.ts';
import { type PostOutcome, postMessage } from './http-post.ts';
import type { Channel, Outbox, OutboxMessage } from './outbox.ts';

/** `--webhook URL` and the secret read from `--webhook-secret-file`. */
export interface WebhookTarget {
  readonly url: string;
  readonly secret: string | Uint8Array;
}

/** `--server URL` (its base: reports go to `<url>/api/v1/reports`) and the token from `--token-file`. */
export interface ServerTarget {
  readonly url: string;
  readonly token: string;
}

/** One attempt and its outcome, for logs and metrics; carries no secret. */
export interface DeliveryAttempt {
  readonly channel: Channel;
  readonly id: string;
  /** 1 for the first try of this message. */
  readonly attempt: number;
  readonly outcome: PostOutcome | { readonly kind: 'error'; readonly reason: string };
  /** Set when the message is tried again, after this wait. */
  readonly retryInMs?: number;
}

export interface DeliveryOptions {
  /** Each request's timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** Backoff between retries (default 1 s doubling up to 5 min, jittered). */
  readonly backoff?: BackoffPolicy;
  /** Looks at the outbox this often even without kick() (default 30 s). */
  readonly idlePollMs?: number;
  readonly onAttempt?: (attempt: DeliveryAttempt) => void;
}

export interface Delivery {
  /** Something was enqueued: send it now unless a retry is waiting out its backoff. */
  kick(): void;
  /** Ends the sender; an attempt in flight is abandoned (its message stays queued). */
  stop(): Promise<void>;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 5 * 60 * 1000 };

interface Request {
  readonly url: string;
  readonly headers: Record<string, string>;
}

function webhookRequest(target: WebhookTarget, message: OutboxMessage): Request {
  // Signed at each attempt: the timestamp is when it was sent, so a retry after a long outage
  // still falls inside the receiver's replay window.
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    url: target.url,
    headers: {
      [SIGNATURE_HEADER]: webhookSignature(target.secret, timestamp, message.body),
      [TIMESTAMP_HEADER]: String(timestamp),
      [EVENT_ID_HEADER]: message.id,
    },
  };
}

function serverRequest(target: ServerTarget, message: OutboxMessage): Request {
  const base = target.url.endsWith('/') ? target.url : `${target.url}/`;
  return {
    url: new URL(message.kind === 'report' ? 'api/v1/reports' : 'api/v1/events', base).href,
    headers: { authorization: `Bearer ${target.token}`, [EVENT_ID_HEADER]: message.id },
  };
}

/** Refuses, at start, what would make every attempt fail the same way: a URL or token that cannot be sent. */
function checkTarget(channel: Channel, target: WebhookTarget | ServerTarget): void {
  const option = channel === 'webhook' ? '--webhook' : '--server';
  let url: URL | undefined;
  try {
    url = new URL(target.url);
  } catch {
    // not echoed: it could hold a credential
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new InputError('USAGE', undefined, `${option}: not an http:// or https:// URL`);
  }
  if ('token' in target && !/^[\x21-\x7e]{1,4096}$/.test(target.token)) {
    throw new InputError('USAGE', undefined, '--token-file: the token must be one line of printable ASCII, no spaces');
  }
  if ('secret' in target && target.secret.length === 0) {
    throw new InputError('USAGE', undefined, '--webhook-secret-file: the secret is empty');
  }
}

export function startDelivery(
  outbox: Outbox,
  channel: 'webhook',
  target: WebhookTarget,
  options?: DeliveryOptions,
): Delivery;
export function startDelivery(
  outbox: Outbox,
  channel: 'server',
  target: ServerTarget,
  options?: DeliveryOptions,
): Delivery;
export function startDelivery(
  outbox: Outbox,
  channel: Channel,
  target: WebhookTarget | ServerTarget,
  options: DeliveryOptions = {},
): Delivery {
  checkTarget(channel, target);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const idlePollMs = options.idlePollMs ?? 30_000;
  const report = options.onAttempt ?? (() => {});
  const build =
    channel === 'webhook'
      ? (m: OutboxMessage) => webhookRequest(target as WebhookTarget, m)
      : (m: OutboxMessage) => serverRequest(target as ServerTarget, m);
  const stopping = new AbortController();
  let kicked = false;
  let wake: (() => void) | undefined;

  /** Waits `ms`, or less when stopped (or kicked, if `kickable`). */
  function wait(ms: number, kickable: boolean): Promise<void> {
    if (stopping.signal.aborted || (kickable && kicked)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = undefined;
        stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (kickable) wake = done;
      stopping.signal.addEventListener('abort', done, { once: true });
    });
  }

  async function run(): Promise<void> {
    let failures = 0;
    let lastId: string | undefined;
    while (!stopping.signal.aborted) {
      kicked = false;
      let message: OutboxMessage | undefined;
      let outcome: DeliveryAttempt['outcome'];
      try {
        message = outbox.next(channel);
        if (!message) {
          await wait(idlePollMs, true);
          continue;
        }
        if (message.id !== lastId) failures = 0;
        lastId = message.id;
        const req = build(message);
        outcome = await postMessage({
          url: req.url,
          headers: { 'content-type': 'application/json', 'user-agent': `k3sguard/${TOOL_VERSION}`, ...req.headers },
          body: message.body,
          timeoutMs,
          stop: stopping.signal,
        });
        if (outcome.kind === 'stopped') return;
        if (outcome.kind === 'acked') outbox.ack(message);
        if (outcome.kind === 'rejected') outbox.deadLetter(message, outcome.reason);
      } catch (e) {
        // The outbox itself failed (a disk error): keep the message and try again later.
        outcome = { kind: 'error', reason: (e as Error).message };
      }
      const id = message?.id ?? '';
      if (outcome.kind === 'acked' || outcome.kind === 'rejected') {
        report({ channel, id, attempt: failures + 1, outcome });
        failures = 0;
        continue;
      }
      failures += 1;
      const after = outcome.kind === 'retry' ? outcome.retryAfterMs : undefined;
      const delay = Math.min(backoff.maxMs, Math.max(after ?? 0, backoffDelay(failures, backoff)));
      report({ channel, id, attempt: failures, outcome, retryInMs: delay });
      await wait(delay, false);
    }
  }

  const running = run();
  return {
    kick() {
      kicked = true;
      wake?.();
    },
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
