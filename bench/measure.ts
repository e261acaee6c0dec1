// Timing whole processes: RUNS runs after one warm-up (which also brings the files into the
// page cache), under GNU time for peak RSS; median and minimum wall time.
import { spawnSync } from 'node:child_process';

export interface Measure {
  medianSeconds: number;
  minSeconds: number;
  peakRssMiB: number;
}

const runsArg = process.argv.indexOf('--runs');
export const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

/** Single-quote for bash. */
export const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Run `command` with bash; exit codes in `okCodes` count as success (1: findings, by design). */
export function measure(label: string, command: string, okCodes: readonly number[] = [0]): Measure {
  const times: number[] = [];
  let rss = 0;
  for (let i = 0; i <= RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%M', 'bash', '-c', command], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (!okCodes.includes(r.status ?? -1)) throw new Error(`${label}: exit ${r.status}: ${r.stderr.slice(-500)}`);
    if (i === 0) continue;
    times.push(seconds);
    rss = Math.max(rss, Number(r.stderr.trim().split('\n').pop()) / 1024);
  }
  times.sort((a, b) => a - b);
  const m = { medianSeconds: times[Math.floor(times.length / 2)] ?? 0, minSeconds: times[0] ?? 0, peakRssMiB: rss };
  const line = `median ${m.medianSeconds.toFixed(3)} s  min ${m.minSeconds.toFixed(3)} s  peak RSS ${m.peakRssMiB.toFixed(0)} MiB`;
  console.log(`  ${label.padEnd(46)} ${line}`);
  return m;
}
