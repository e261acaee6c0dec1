// The signature part of an admission decision (issue 15 item 6), in process, against a real
// registry: Debian's docker-registry on loopback holding the image fixture and its `.sig` tag
// (pushed by skopeo, as the tests do; test/fixtures/registry.ts). Measured:
//   cold:   a tag resolved and its keyed signature fetched and verified, with a new client (no
//           kept-alive connection) and an empty cache each time: what the first decision about
//           an image costs (target under 500 ms);
//   first:  the same, once, as the process's very first call (module JIT, key and trusted root
//           read for the first time);
//   cached: the same answered from the disk cache (tag resolution and verdict), no request.
// Wall times, median / p99 / max, over a bounded number of runs. Results:
// ~/.cache/k3sguard-bench/webhook-signatures-results.json.
// Run: node bench/webhook-signatures.ts [--runs N] (cold runs; cached runs are 20x that)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImagePolicy } from '../src/policy/image-policy.ts';
import { RegistryCache } from '../src/readers/registry/cache.ts';
import { RegistryClient } from '../src/readers/registry/client.ts';
import { resolveImage } from '../src/readers/registry/resolve.ts';
import { verifyRegistrySignatures } from '../src/verify/cosign/registry.ts';
import { registrySkip, skopeoPush, startRegistry } from '../test/fixtures/registry.ts';
import { skopeoSigned } from '../test/verify/cosign-fixtures.ts';
import { BENCH_CACHE } from './corpus.ts';

const runsArg = process.argv.indexOf('--runs');
const COLD_RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 30;
const CACHED_RUNS = COLD_RUNS * 20;

interface Stats {
  runs: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
}

function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? 0;
  return { runs: s.length, medianMs: at(0.5), p99Ms: at(0.99), maxMs: s[s.length - 1] ?? 0 };
}

const show = (label: string, s: Stats) =>
  console.log(
    `  ${label.padEnd(40)} median ${s.medianMs.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms  max ${s.maxMs.toFixed(2)} ms  (${s.runs} runs)`,
  );

async function main(): Promise<void> {
  const skip = registrySkip();
  if (skip) throw new Error(skip);
  const fixture = await skopeoSigned();
  if ('skip' in fixture) throw new Error(fixture.skip);
  const work = mkdtempSync(join(tmpdir(), 'k3sguard-bench-webhook-'));
  const registry = await startRegistry({ dir: join(work, 'registry') });
  try {
    skopeoPush(registry, `dir:${fixture.dirs.test}`, 'rancher/test:1.0', { registriesD: fixture.registriesD });
    const policy: ImagePolicy = {
      file: join(work, 'policy.yaml'),
      requireDigest: false,
      requireSignature: { kind: 'key', key: fixture.keys.p256 },
    };
    const ref = `${registry.host}/rancher/test:1.0`;
    let n = 0;
    const decide = async (client: RegistryClient, cache: RegistryCache): Promise<number> => {
      const t0 = performance.now();
      const image = await resolveImage(client, ref, { cache });
      const v = await verifyRegistrySignatures(policy, image.repository, image.digest, { client, cache });
      const ms = performance.now() - t0;
      if (v.requirements[0]?.met !== true) throw new Error(`not verified: ${JSON.stringify(v)}`);
      return ms;
    };
    const fresh = () => {
      const client = new RegistryClient({ plainHttp: [registry.host] });
      const cache = new RegistryCache(join(work, `cache-${n++}`));
      return { client, cache };
    };

    const f = fresh();
    const first = await decide(f.client, f.cache);
    f.client.close();
    console.log(`  ${'first in process (cold)'.padEnd(40)} ${first.toFixed(2)} ms`);

    const cold: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      const c = fresh();
      cold.push(await decide(c.client, c.cache));
      c.client.close();
    }
    const coldStats = stats(cold);
    show('cold: fetch + verify (new client, empty cache)', coldStats);

    const w = fresh();
    await decide(w.client, w.cache);
    const cached: number[] = [];
    for (let i = 0; i < CACHED_RUNS; i++) cached.push(await decide(w.client, w.cache));
    w.client.close();
    const cachedStats = stats(cached);
    show('cached: tag + verdict from the disk cache', cachedStats);

    const results = { date: new Date().toISOString(), firstMs: first, cold: coldStats, cached: cachedStats };
    mkdirSync(BENCH_CACHE, { recursive: true });
    writeFileSync(join(BENCH_CACHE, 'webhook-signatures-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
