// The per-token rate limit: a token bucket per node token, refilled continuously at
// `perMinute` a minute and holding as many, so an agent's burst after an outage (its outbox
// drained in order) goes through at once up to that many, then at the steady rate. It is
// per server process: with several replicas behind a load balancer each counts on its own.

export interface RateLimiter {
  /** Takes one request for `key`: 0 when allowed, else the milliseconds until one would be. */
  take(key: string): number;
}

export function rateLimiter(perMinute: number, now: () => number = Date.now): RateLimiter {
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const t = now();
      const b = buckets.get(key) ?? { tokens: perMinute, at: t };
      b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * perMs);
      b.at = t;
      buckets.set(key, b);
      // A full bucket says nothing a fresh one would not: dropping it keeps the map to active tokens.
      if (buckets.size > 100_000) for (const [k, v] of buckets) if (v.tokens >= perMinute) buckets.delete(k);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - b.tokens) / perMs);
    },
  };
}
