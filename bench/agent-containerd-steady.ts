// The steady state of the containerd check, for bench/agent-containerd.ts: a process that loads
// only the check (the built dist/ module when given, what ships; else src/) and runs 10 checks
// in which nothing changed (every image in the digest cache). Prints one JSON line: the median
// check time, RSS once the code is loaded and after the checks, the JS heap in use.
// Run by agent-containerd.ts: node bench/agent-containerd-steady.ts OPTIONS_JSON [BUILT_MODULE]
import type { ContainerdCheckOptions, checkContainerd } from '../src/audit/runtime/containerd.ts';

const [optsJson, built] = process.argv.slice(2);
const opts = JSON.parse(optsJson as string) as ContainerdCheckOptions;
const check: typeof checkContainerd = (await import(built ?? '../src/audit/runtime/containerd.ts')).checkContainerd;
const mib = (n: number) => Math.round(n / 1024 / 1024);
const afterImportMiB = mib(process.memoryUsage().rss);
const times: number[] = [];
for (let k = 0; k < 10; k++) {
  const t0 = performance.now();
  const r = await check(opts);
  times.push(performance.now() - t0);
  if (!r.containerd.ok) throw new Error(r.containerd.message);
  if (r.images.some((i) => !i.fromCache)) throw new Error('an unchanged check read an image');
}
times.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    medianMs: Math.round(times[Math.floor(times.length / 2)] ?? 0),
    afterImportMiB,
    rssMiB: mib(process.memoryUsage().rss),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    heapMiB: mib(process.memoryUsage().heapUsed),
  }),
);
