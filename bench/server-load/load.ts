// The load generator of bench/server-load.ts: N workers (each one keep-alive connection through
// fetch's pool) send a fixed list of requests in order, so the first round of the fleet goes
// before the second. Bounded in count (the list) and in time (no request starts after the
// deadline; each has its own timeout). Optionally paced: request i is not sent before
// start + i / rate, as a fleet reporting on its interval, sped up, would send it.

export interface Sent {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface LoadResult {
  readonly sent: number;
  readonly planned: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly statuses: Record<string, number>;
  readonly latencyMs: Percentiles;
  /** The first failures (status and body), to say what went wrong. */
  readonly failures: string[];
}

export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export function percentiles(samples: number[]): Percentiles {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(s.at(-1) ?? Number.NaN) };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export async function runLoad(opts: {
  count: number;
  request: (i: number) => Sent;
  concurrency: number;
  deadlineMs: number;
  /** Requests per second; undefined: as fast as the server answers. */
  rate?: number;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const failures: string[] = [];
  let next = 0;
  const t0 = performance.now();
  const stopAt = t0 + opts.deadlineMs;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= opts.count) return;
      if (opts.rate !== undefined) {
        const due = t0 + (i / opts.rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      if (performance.now() > stopAt) return;
      const req = opts.request(i);
      const start = performance.now();
      let status: string;
      try {
        const res = await fetch(req.url, {
          method: 'POST',
          headers: req.headers,
          body: req.body,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        status = String(res.status);
        if (res.status >= 300 && failures.length < 5) failures.push(`${res.status} ${text.slice(0, 300)}`);
      } catch (e) {
        status = (e as Error).name;
        if (failures.length < 5) failures.push(`${status}: ${(e as Error).message}`);
      }
      latencies.push(performance.now() - start);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return {
    sent: latencies.length,
    planned: opts.count,
    seconds: round(seconds),
    perSecond: round(latencies.length / seconds),
    statuses,
    latencyMs: percentiles(latencies),
    failures,
  };
}

/** Times `fn` `runs` times after `warmup` untimed runs, one after another. */
export async function timeRuns(runs: number, fn: () => Promise<unknown>, warmup = 3): Promise<Percentiles> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return percentiles(ms);
}
