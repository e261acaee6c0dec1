// The webhook as the API server loads it (issue 15 item 6): the real `k3sguard webhook` process,
// its TLS made by `webhook certs`, deciding against Debian's docker-registry on loopback that
// holds the signed image fixture (pushed by skopeo with its `.sig` tag, as the tests do). The
// load generator runs in this process, over HTTPS with kept-alive connections (as the API
// server keeps them), trusting the CA for the Service's name. The registry serves https with its
// own CA, named in a registries.yaml as a node's would be. Measured, latency at the client:
//   first:  a new webhook process's very first review, of a digest it has never seen (empty
//           cache): the `.sig` tag fetched from the registry and verified, the key read, the
//           code's first run (target under 500 ms); one new process per run;
//   warm:   50 concurrent clients sending reviews of that image, answered from the cache:
//           decisions per second, p50 and p99 (target p99 under 20 ms). Closed loop: each client
//           sends its next review when the last is answered, so the machine is saturated and the
//           latency is mostly the queue (concurrency / throughput);
//   cpu:    the webhook process's own CPU time (utime + stime) per warm decision, which other
//           load on a shared machine does not inflate;
//   paced:  the same 50 clients offering a fixed total rate under that throughput (--rate,
//           default 1000/s, for --seconds): the latency of a decision when the webhook keeps up.
// The machine's cores are shared by the webhook and the load generator, so the figures are what
// one box does with both. Results: ~/.cache/k3sguard-bench/webhook-load-results.json.
// Run: node bench/webhook-load.ts [--requests N] [--concurrency C] [--first-runs N] [--rate R] [--seconds S]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeWebhookCerts } from '../src/webhook/certs/make.ts';
import { freePort, registrySkip, skopeoPush, startRegistry } from '../test/fixtures/registry.ts';
import { skopeoSigned } from '../test/verify/cosign-fixtures.ts';
import { BENCH_CACHE } from './corpus.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const REQUESTS = arg('--requests', 10_000);
const CONCURRENCY = arg('--concurrency', 50);
const FIRST_RUNS = arg('--first-runs', 10);
const RATE = arg('--rate', 1000);
const PACED_SECONDS = arg('--seconds', 5);
const CLI = resolve(import.meta.dirname, '..', 'bin', 'k3sguard.js');
const SERVICE = 'k3sguard-webhook.k3sguard.svc';

interface Stats {
  runs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** CPU seconds (user + system) of a process so far, from /proc/<pid>/stat (Linux, 100 ticks/s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? 0;
  return { runs: s.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: s[s.length - 1] ?? 0 };
}

const show = (label: string, s: Stats) =>
  console.log(
    `  ${label.padEnd(44)} p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms  max ${s.maxMs.toFixed(2)} ms  (${s.runs} runs)`,
  );

function review(uid: string, image: string): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'shop',
      name: `web-${uid}`,
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `web-${uid}`, namespace: 'shop', labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080 }] }] },
      },
      dryRun: false,
    },
  });
}

/** One review; resolves with the client-side latency in ms, after checking the answer. */
function decide(port: number, ca: Buffer, agent: Agent, body: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolveMs, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/validate',
        method: 'POST',
        ca,
        servername: SERVICE,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
        });
        res.on('end', () => {
          const ms = performance.now() - t0;
          const response = res.statusCode === 200 ? JSON.parse(text).response : undefined;
          if (response?.allowed !== true) reject(new Error(`not admitted (${res.statusCode}): ${text.slice(0, 400)}`));
          else resolveMs(ms);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const skip = registrySkip({ tls: true });
  if (skip) throw new Error(skip);
  const fixture = await skopeoSigned();
  if ('skip' in fixture) throw new Error(fixture.skip);
  const work = mkdtempSync(join(tmpdir(), 'k3sguard-bench-webhook-load-'));
  const registry = await startRegistry({ dir: join(work, 'registry'), tls: true });
  const children = new Set<ChildProcess>();
  try {
    skopeoPush(registry, `dir:${fixture.dirs.test}`, 'rancher/test:1.0', { registriesD: fixture.registriesD });
    const certs = makeWebhookCerts({ service: 'k3sguard-webhook', namespace: 'k3sguard', dir: join(work, 'certs') });
    const ca = readFileSync(certs.files.ca);
    writeFileSync(
      join(work, 'policy.yaml'),
      `apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  allowedRegistries: ["${registry.host}"]\n  requireDigest: true\n  requireSignature: { key: ${fixture.keys.p256} }\n`,
    );
    writeFileSync(
      join(work, 'registries.yaml'),
      `configs:\n  "${registry.host}":\n    tls: { ca_file: ${registry.caFile} }\n`,
    );
    const startWebhook = async (cacheDir: string): Promise<{ port: number; child: ChildProcess }> => {
      const port = await freePort();
      const c = spawn(
        process.execPath,
        [
          CLI,
          'webhook',
          `--tls-cert=${certs.files.cert}`,
          `--tls-key=${certs.files.key}`,
          `--policy=${join(work, 'policy.yaml')}`,
          `--registries=${join(work, 'registries.yaml')}`,
          `--cache-dir=${cacheDir}`,
          `--listen=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, K3SGUARD_LOG_LEVEL: 'error' } },
      );
      children.add(c);
      c.once('exit', () => children.delete(c));
      await new Promise<void>((ready, failed) => {
        let err = '';
        c.stderr?.on('data', (chunk: Buffer) => {
          err += chunk.toString('utf8');
          if (err.includes('listening on')) ready();
        });
        c.once('exit', (code) => failed(new Error(`webhook exited ${code}: ${err}`)));
      });
      return { port, child: c };
    };
    const stop = async (c: ChildProcess) => {
      const exited = new Promise((r) => c.once('exit', r));
      if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGTERM');
      await exited;
    };
    const image = `${registry.host}/rancher/test@${fixture.testDigest}`;
    const firsts: number[] = [];
    let running: { port: number; child: ChildProcess } | undefined;
    for (let i = 0; i < FIRST_RUNS; i++) {
      if (running) await stop(running.child);
      running = await startWebhook(join(work, `cache-${i}`));
      const single = new Agent({ keepAlive: false });
      firsts.push(await decide(running.port, ca, single, review(`first-${i}`, image)));
    }
    const firstStats = stats(firsts);
    show('first review of a new process (fetch + verify)', firstStats);
    if (!running) throw new Error('no run');
    const { port } = running;

    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    // Warm-up: every connection's handshake, the JIT, the cache entry.
    await Promise.all(
      Array.from({ length: CONCURRENCY * 4 }, (_, i) => decide(port, ca, agent, review(`w-${i}`, image))),
    );
    const latencies: number[] = [];
    let next = 0;
    const cpu0 = cpuSeconds(running.child.pid as number);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          const i = next++;
          latencies.push(await decide(port, ca, agent, review(`r-${i}`, image)));
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpuMsPerDecision = ((cpuSeconds(running.child.pid as number) - cpu0) * 1000) / REQUESTS;
    const warm = stats(latencies);
    const perSecond = REQUESTS / seconds;
    show(`warm: ${CONCURRENCY} concurrent, from the cache`, warm);
    console.log(
      `  ${'warm: decisions per second'.padEnd(44)} ${perSecond.toFixed(0)} /s  (${REQUESTS} in ${seconds.toFixed(2)} s)`,
    );
    console.log(`  ${'warm: webhook CPU per decision'.padEnd(44)} ${cpuMsPerDecision.toFixed(3)} ms (utime + stime)`);

    // Paced: client k sends at k/RATE + n*CONCURRENCY/RATE seconds, skipping ahead if late.
    const paced: number[] = [];
    const interval = (CONCURRENCY / RATE) * 1000;
    const until = performance.now() + PACED_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, k) => {
        let due = performance.now() + (k * 1000) / RATE;
        for (let n = 0; due < until; n++) {
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          paced.push(await decide(port, ca, agent, review(`p-${k}-${n}`, image)));
          due += interval;
        }
      }),
    );
    const pacedStats = stats(paced);
    show(`paced: ${CONCURRENCY} clients, ${RATE}/s offered`, pacedStats);
    agent.destroy();

    const results = {
      date: new Date().toISOString(),
      concurrency: CONCURRENCY,
      first: firstStats,
      warm: { ...warm, decisionsPerSecond: perSecond, cpuMsPerDecision },
      paced: { ...pacedStats, offeredPerSecond: RATE },
      targets: { warmP99Ms: 20, firstMs: 500 },
    };
    mkdirSync(BENCH_CACHE, { recursive: true });
    writeFileSync(join(BENCH_CACHE, 'webhook-load-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    for (const c of children) if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGTERM');
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
