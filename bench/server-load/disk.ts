// What one durable commit costs on this disk right now: 4 KiB written and fdatasync'd, the
// median of a few. SQLite (synchronous=FULL) and PostgreSQL both wait for such a sync before a
// report is acknowledged, so on a disk shared with other work this bounds ingest; printed next
// to the figures so they can be read for what they are.
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export function syncLatencyMs(dir: string, runs = 30): number {
  const path = join(dir, 'sync-probe');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 1);
  const ms: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      writeSync(fd, block, 0, block.length, i * block.length);
      fdatasyncSync(fd);
      ms.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  ms.sort((a, b) => a - b);
  return Math.round((ms[runs >> 1] ?? 0) * 100) / 100;
}
