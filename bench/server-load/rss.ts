// A process's resident memory, sampled from /proc/PID/status (VmRSS) at an interval: peak and last.
import { readFileSync } from 'node:fs';

export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

export interface RssSampler {
  /** Peak and latest sample so far, MiB. */
  read(): { peakMiB: number; lastMiB: number };
  stop(): void;
}

export function sampleRss(pid: number, everyMs = 200): RssSampler {
  let peak = 0;
  let last = 0;
  const sample = () => {
    try {
      last = rssMiB(pid);
      peak = Math.max(peak, last);
    } catch {
      // the process has exited: keep the last reading
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    read() {
      sample();
      return { peakMiB: Math.round(peak), lastMiB: Math.round(last) };
    },
    stop: () => clearInterval(timer),
  };
}
