// `k3sguard inspect --json` of an airgap-style image archive (>= 500 MB, real content: see
// bench/images-corpus.ts) against the floor of the same work by standard tools, in the same run
// (issue 5 item 7). What inspect does in its one pass: decode the outer zstd/gzip, sha256 every
// blob, gunzip every layer and sha256 it (its diff_id), record its tar, inspect its ELF files.
// The floor, run sequentially:
//   outer:  `zstd -dc --long=25 FILE | openssl dgst -sha256` (or `gzip -dc FILE | ...`)
//   layers: `gzip -dc BLOB | openssl dgst -sha256` for every layer blob, one after another
// Layers are piped into openssl, not to /dev/null, because inspect hashes them too (diff_id).
// ratio = k3sguard median / (outer median + layers median); target <= 1.0x, peak RSS < 300 MB
// (GNU time). CPU seconds (user + sys) are reported too: the machine is shared, and commands run
// round-robin so that others' load falls on all of them alike. Results: images-results.json.
// Run: npm run bench:images [-- --runs N]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCH_CACHE } from './corpus.ts';
import { type ImagesBench, imagesBench, imagesStats, ZSTD_ARGS } from './images-corpus.ts';
import { q, RUNS } from './measure.ts';

const CLI = resolve(import.meta.dirname, '..', 'bin', 'k3sguard.js');
const MB = 1e6;
const MIB = 1024 * 1024;

/** measure.ts's figures plus CPU time (user + sys, children included): steadier on a shared machine. */
interface Timing {
  medianSeconds: number;
  minSeconds: number;
  medianCpuSeconds: number;
  peakRssMiB: number;
}

interface Row {
  archive: string;
  bytes: number;
  ours: Timing;
  outer: Timing;
  layers: Timing;
  floorSeconds: number;
  ratio: number;
  cpuRatio: number;
}

interface Sample {
  wall: number;
  cpu: number;
  rssMiB: number;
}

function runOnce(label: string, command: string): Sample {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', 'bash', '-c', command], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`${label}: exit ${r.status}: ${r.stderr.slice(-500)}`);
  const [wall, user, sys, rssKiB] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
  return { wall: wall ?? 0, cpu: (user ?? 0) + (sys ?? 0), rssMiB: (rssKiB ?? 0) / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * Commands run round-robin (one warm-up round, then RUNS rounds), so that load from other work
 * on the machine falls on all of them alike rather than on whichever ran during it.
 */
function measureRounds(commands: Array<[label: string, command: string]>): Timing[] {
  const samples: Sample[][] = commands.map(() => []);
  for (let round = 0; round <= RUNS; round++) {
    for (const [i, [label, command]] of commands.entries()) {
      const s = runOnce(label, command);
      if (round > 0) samples[i]?.push(s);
    }
  }
  return commands.map(([label], i) => {
    const list = samples[i] ?? [];
    const t: Timing = {
      medianSeconds: median(list.map((s) => s.wall)),
      minSeconds: Math.min(...list.map((s) => s.wall)),
      medianCpuSeconds: median(list.map((s) => s.cpu)),
      peakRssMiB: Math.max(...list.map((s) => s.rssMiB)),
    };
    console.log(
      `  ${label.padEnd(48)} median ${t.medianSeconds.toFixed(2)} s  min ${t.minSeconds.toFixed(2)} s  ` +
        `cpu ${t.medianCpuSeconds.toFixed(2)} s  peak RSS ${t.peakRssMiB.toFixed(0)} MiB`,
    );
    return t;
  });
}

/** `k3sguard verify` must pass on the archive: the bench measures a well-formed input. */
function verifyWellFormed(file: string): void {
  const r = spawnSync(process.execPath, [CLI, 'verify', file], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`k3sguard verify ${file}: exit ${r.status}\n${(r.stdout + r.stderr).slice(-2000)}`);
  }
}

/** One shell loop over the layer blobs: the whole floor's layer part as one process tree. */
function layersCommand(b: ImagesBench): string {
  const list = join(b.dir, 'layers.list');
  writeFileSync(list, `${b.layers.join('\n')}\n`);
  return `while read -r blob; do gzip -dc "$blob" | openssl dgst -sha256 >/dev/null; done < ${q(list)}`;
}

function benchOne(label: string, file: string, bytes: number, outerCmd: string, layersCmd: string): Row {
  console.log(`\n${label}: ${file} (${(bytes / MB).toFixed(0)} MB)`);
  verifyWellFormed(file);
  console.log('  k3sguard verify: exit 0 (well-formed)');
  const [ours, outer, layers] = measureRounds([
    ['k3sguard inspect --json', `node ${q(CLI)} inspect --json --no-progress ${q(file)} >/dev/null`],
    [outerCmd, `${outerCmd.replace('FILE', q(file))} >/dev/null`],
    ['gzip -dc BLOB | openssl dgst -sha256 (each)', layersCmd],
  ]) as [Timing, Timing, Timing];
  const floorSeconds = outer.medianSeconds + layers.medianSeconds;
  const ratio = ours.medianSeconds / floorSeconds;
  const cpuRatio = ours.medianCpuSeconds / (outer.medianCpuSeconds + layers.medianCpuSeconds);
  console.log(
    `  floor ${floorSeconds.toFixed(2)} s; ratio ${ratio.toFixed(2)}x (target <= 1.0x), CPU ratio ${cpuRatio.toFixed(2)}x; ` +
      `peak RSS ${ours.peakRssMiB.toFixed(0)} MiB = ${((ours.peakRssMiB * MIB) / MB).toFixed(0)} MB (target < 300 MB)`,
  );
  return { archive: file, bytes, ours, outer, layers, floorSeconds, ratio, cpuRatio };
}

function table(rows: Row[]): void {
  const head = ['archive', 'MB', 'k3sguard s', 'outer s', 'layers s', 'floor s', 'ratio', 'cpu ratio', 'RSS MiB'];
  const lines = rows.map((r) => [
    r.archive.split('/').pop() ?? r.archive,
    (r.bytes / MB).toFixed(0),
    r.ours.medianSeconds.toFixed(3),
    r.outer.medianSeconds.toFixed(3),
    r.layers.medianSeconds.toFixed(3),
    r.floorSeconds.toFixed(3),
    `${r.ratio.toFixed(2)}x`,
    `${r.cpuRatio.toFixed(2)}x`,
    r.ours.peakRssMiB.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(`\n${fmt(head)}`);
  for (const l of lines) console.log(fmt(l));
}

const built = await imagesBench((s) => console.log(s));
if ('skip' in built) {
  console.log(`image bench skipped: ${built.skip}`);
  process.exit(0);
}
const stats = imagesStats(built);
const layerMB = stats.layerSizes.map((s) => s / MB);
console.log(
  `images bench: ${built.layers.length} layers (largest ${layerMB[0]?.toFixed(0)} MB, smallest ` +
    `${stats.layerSizes.at(-1)} bytes), tar ${(stats.tar / MB).toFixed(0)} MB; zstd ${ZSTD_ARGS.join(' ')}; ` +
    `${RUNS} rounds after a warm-up, median`,
);
const layersCmd = layersCommand(built);
const rows = [
  benchOne('1. airgap .tar.zst', built.zst, stats.zst, 'zstd -dc --long=25 FILE | openssl dgst -sha256', layersCmd),
  benchOne('2. airgap .tar.gz', built.gz, stats.gz, 'gzip -dc FILE | openssl dgst -sha256', layersCmd),
];
table(rows);
const out = join(BENCH_CACHE, 'images-results.json');
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), runs: RUNS, stats, rows }, null, 2)}\n`);
console.log(`\nresults: ${out}`);
