// One POST of an outbox message and what it means for the message: the receiver acknowledged
// it (2xx), refused it for good (a 4xx other than 408 and 429: sending it again cannot help),
// or the attempt failed in a way worth retrying (408, 429, 5xx, a redirect we do not follow,
// a network error, no answer in time). Every request has a timeout.
import { retryAfterMs } from './backoff.ts';

export type PostOutcome =
  | { readonly kind: 'acked'; readonly status: number }
  | { readonly kind: 'rejected'; readonly status: number; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'stopped' };

export interface PostRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  /** Aborted when the sender stops: the attempt ends as `stopped`, the message stays queued. */
  readonly stop: AbortSignal;
}

function classify(status: number, statusText: string, retryAfter: string | null): PostOutcome {
  const reason = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  if (status >= 200 && status < 300) return { kind: 'acked', status };
  if (status === 408 || status === 429 || status >= 500) {
    const after = retryAfterMs(retryAfter, Date.now());
    return after === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, retryAfterMs: after };
  }
  if (status >= 400) return { kind: 'rejected', status, reason };
  return { kind: 'retry', reason: `${reason} (redirects are not followed: check the URL)` };
}

/** Sends the request; never throws. */
export async function postMessage(req: PostRequest): Promise<PostOutcome> {
  if (req.stop.aborted) return { kind: 'stopped' };
  const timeout = AbortSignal.timeout(req.timeoutMs);
  try {
    const res = await fetch(req.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      redirect: 'manual',
      signal: AbortSignal.any([req.stop, timeout]),
    });
    // The answer's body says nothing we act on; dropping it frees the connection.
    await res.body?.cancel().catch(() => {});
    return classify(res.status, res.statusText, res.headers.get('retry-after'));
  } catch (e) {
    if (req.stop.aborted) return { kind: 'stopped' };
    if (timeout.aborted) return { kind: 'retry', reason: `no answer within ${req.timeoutMs} ms` };
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { kind: 'retry', reason: cause?.code ?? cause?.message ?? (e as Error).message };
  }
}
