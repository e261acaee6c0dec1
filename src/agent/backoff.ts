// How long a sender waits before the next attempt: exponential in the number of failures so a
// receiver that is down is not hammered, capped so it is retried often enough once it is back,
// and jittered so the agents of a fleet that lost the same receiver do not retry in lockstep.

export interface BackoffPolicy {
  /** The wait after the first failure (before jitter). */
  readonly initialMs: number;
  /** No wait is longer than this. */
  readonly maxMs: number;
}

/** The wait after `failures` consecutive failures (1 or more): between half and all of the step. */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(failures - 1, 0), 52));
  return Math.round(step / 2 + random() * (step / 2));
}

/** A `Retry-After` header (seconds or an HTTP date) as milliseconds from `now`, if it is one. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
