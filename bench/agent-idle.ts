// The agent as a service (issue 13 item 7): its idle CPU and RSS over a stretch of checks at a
// 30 s interval (target: under 1% of one core and under 120 MB), and the time from a change of
// the k3s binary to the webhook POST of its alert. The real CLI runs as a child process on a K3s
// node tree built from the K3s-shaped fixture, with a private containerd holding the Debian
// image fixture and a running container, and a webhook receiver on loopback. CPU is the
// agent's own (utime + stime of its /proc/<pid>/stat, threads included), so other work on a
// shared machine does not count; RSS is sampled at every check.
// Run: node bench/agent-idle.ts [--minutes N] (default 10). Results: ~/.cache/k3sguard-bench/agent-idle-results.json.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeLock } from '../src/verify/lock/format.ts';
import { lockAddFiles } from '../src/verify/lock/lockfile.ts';
import { startAgentProcess } from '../test/agent/agent-process.ts';
import { startReceiver } from '../test/agent/receiver.ts';
import { goodNode, installK3s, LOCKED_FILES, lockOf } from '../test/audit/node/node-fixtures.ts';
import { DEBIAN_NAME, debianImage } from '../test/fixtures/debian-image.ts';
import { k3sShaped } from '../test/fixtures/k3s-shaped.ts';
import { startContainerd } from '../test/images/containerd.ts';
import { BENCH_CACHE } from './corpus.ts';

const minutesArg = process.argv.indexOf('--minutes');
const MINUTES = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 10;
const SWAPS = 5;
const TICKS = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
}

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

const k3s = await k3sShaped('good');
const img = await debianImage();
if ('skip' in k3s || 'skip' in img)
  throw new Error(`fixtures missing: ${'skip' in k3s ? k3s.skip : ''} ${'skip' in img ? img.skip : ''}`);
const ctrd = await startContainerd();
if ('skip' in ctrd) throw new Error(ctrd.skip);
const work = mkdtempSync(join(tmpdir(), 'k3sg-bench-agent-'));
const receiver = await startReceiver();
try {
  const root = join(work, 'node');
  goodNode(root);
  installK3s(root, k3s);
  const lock = join(work, 'k3sguard.lock');
  writeFileSync(lock, serializeLock(lockOf(root, [...LOCKED_FILES, 'usr/local/bin/k3s'])));
  await lockAddFiles(lock, [img.extraImageTar], { source: 'review' });
  writeFileSync(
    join(work, 'policy.yaml'),
    'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  allowedRegistries: [docker.io, registry.example.com:5000]\n',
  );
  writeFileSync(join(work, 'hook.key'), 'bench\n');
  ctrd.ctr('k8s.io', 'images', 'import', img.extraImageTar);
  ctrd.ctr('k8s.io', 'run', '-d', DEBIAN_NAME, `bench-web-${process.pid}`, 'sleep', '100000');
  const agent = startAgentProcess([
    ...['--root', root, '--state-dir', join(work, 'state'), '--proc', '/proc'],
    ...['--containerd-socket', ctrd.socket, '--containerd-root', ctrd.root],
    ...['--lock', lock, '--policy', join(work, 'policy.yaml'), '--interval', '30s', '--debounce', '300ms'],
    ...['--listen', '127.0.0.1:0', '--webhook', receiver.url, '--webhook-secret-file', join(work, 'hook.key')],
  ]);
  const first = await agent.waitLine((l) => l.type === 'check', 'the first check', { timeoutMs: 300_000 });
  // Idle: only interval checks, nothing changing.
  const cpu0 = cpuSeconds(agent.pid);
  const start = performance.now();
  const rss: number[] = [];
  const end = start + MINUTES * 60_000;
  while (performance.now() < end) {
    const from = agent.lines.length;
    await agent.waitLine((l) => l.type === 'check', 'an interval check', { from, timeoutMs: 120_000 });
    rss.push(rssMiB(agent.pid));
  }
  const elapsed = (performance.now() - start) / 1000;
  const cpu = cpuSeconds(agent.pid) - cpu0;
  const checks = agent.checks().slice(1);
  // Binary swaps: rename a changed copy over the binary, time until the receiver has the alert.
  const bin = join(root, 'usr/local/bin/k3s');
  const original = join(work, 'k3s.original');
  copyFileSync(bin, original);
  const swaps: number[] = [];
  for (let i = 0; i < SWAPS; i++) {
    const bytes = readFileSync(original);
    bytes[bytes.length - 1 - i] = (bytes[bytes.length - 1 - i] as number) ^ 0xff;
    writeFileSync(join(root, 'usr/local/bin/.k3s.new'), bytes, { mode: 0o755 });
    const acked = receiver.acked.length;
    const t0 = performance.now();
    renameSync(join(root, 'usr/local/bin/.k3s.new'), bin);
    await receiver.waitFor(
      () =>
        receiver.acked
          .slice(acked)
          .some((r) => r.body.includes('K3SG-NODE-BINARY-UNLOCKED') && r.body.includes('"new"')),
      60_000,
    );
    swaps.push(Math.round(performance.now() - t0));
    const back = agent.lines.length;
    copyFileSync(original, join(root, 'usr/local/bin/.k3s.new'));
    renameSync(join(root, 'usr/local/bin/.k3s.new'), bin);
    await agent.waitLine((l) => l.type === 'finding' && l.status === 'resolved', 'the swap resolved', { from: back });
  }
  await agent.stop();
  const results = {
    minutes: MINUTES,
    interval: '30s',
    firstCheckMs: first.durationMs,
    idleChecks: checks.length,
    idleCheckMs: { median: [...checks.map((c) => Number(c.durationMs))].sort((a, b) => a - b)[checks.length >> 1] },
    idleCpuPercentOfOneCore: Number(((cpu / elapsed) * 100).toFixed(3)),
    rssMiB: { max: Math.round(Math.max(...rss)), last: Math.round(rss.at(-1) ?? 0) },
    binaryChangeToWebhookMs: { runs: swaps, median: [...swaps].sort((a, b) => a - b)[swaps.length >> 1] },
  };
  mkdirSync(BENCH_CACHE, { recursive: true });
  writeFileSync(join(BENCH_CACHE, 'agent-idle-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} finally {
  await receiver.close();
  await ctrd.remove();
  rmSync(work, { recursive: true, force: true });
}
