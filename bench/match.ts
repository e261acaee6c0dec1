// Matching benchmark (issue 4, item 8): matchRecords over synthetic inventories of 1k, 10k and
// 100k components, in-process, records held in memory (the whole Go vulndb of ../shared plus the
// K3s GHSA records). Run: npm run bench:match [-- --runs N]
//
// The inventories are made of real names and versions: every (module, version) that appears as
// an `introduced` or `fixed` event in the records (so some match, some sit exactly on a fix),
// a Go version per binary from the stdlib records' events, K3s-style fork replacements of
// k8s.io/kubernetes, and every tenth binary a K3s binary with a K3s version. Components are made
// by the inventory's own goComponents. Binaries hold 50 components each (49 modules + stdlib).
// Target: per-component cost flat or falling (linear or better), 10k components under 1 s.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { goComponents } from '../src/inventory/gocomponents.ts';
import type { DirectoryComponent, FileComponent, GoBuildInfo, GoModule } from '../src/model/inventory.ts';
import { lookupFromRecords } from '../src/scan/lookup.ts';
import { matchRecords } from '../src/scan/match.ts';
import type { OsvRecord } from '../src/vulndb/osv.ts';
import { BENCH_CACHE } from './corpus.ts';
import { RUNS } from './measure.ts';

const DATA = resolve(import.meta.dirname, '..', '..', 'shared', 'data');
const SIZES = [1_000, 10_000, 100_000];
const PER_BINARY = 50;

function loadRecords(): OsvRecord[] {
  const out: OsvRecord[] = [];
  for (const dir of ['govulndb', 'ghsa-k3s']) {
    const path = join(DATA, dir);
    if (!existsSync(path)) throw new Error(`${path} not found: the benchmark needs ../shared/data`);
    for (const f of readdirSync(path))
      if (f.endsWith('.json')) out.push(JSON.parse(readFileSync(join(path, f), 'utf8')));
  }
  return out;
}

interface Corpus {
  modules: Array<{ path: string; version: string }>;
  goVersions: string[];
  k3sVersions: string[];
}

/** Real names and versions from the records' events. */
function corpusOf(records: OsvRecord[]): Corpus {
  const modules = new Map<string, { path: string; version: string }>();
  const go = new Set<string>();
  const k3s = new Set<string>();
  for (const r of records)
    for (const a of r.affected ?? []) {
      const name = a.package?.name ?? '';
      const custom = (a.ecosystem_specific as { custom_ranges?: typeof a.ranges } | undefined)?.custom_ranges ?? [];
      for (const range of [...(a.ranges ?? []), ...custom])
        for (const e of range.events)
          for (const v of Object.values(e)) {
            if (v === '0') continue;
            if (name === 'stdlib') {
              const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v); // releases only: go1.X.Y
              if (m) go.add(`go${v}`);
            } else if (name === 'github.com/k3s-io/k3s') {
              if (/^\d+\.\d+\.\d+$/.test(v)) k3s.add(`v${v}+k3s1`);
            } else if (name !== 'toolchain' && range.type === 'SEMVER') {
              modules.set(`${name}@${v}`, { path: name, version: `v${v}` });
            }
          }
    }
  return { modules: [...modules.values()], goVersions: [...go], k3sVersions: [...k3s] };
}

// A fixed-seed generator: the same inventories on every run and machine.
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function inventory(components: number, corpus: Corpus): DirectoryComponent {
  const rnd = random(components);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const children: FileComponent[] = [];
  for (let i = 0; i * PER_BINARY < components; i++) {
    const location = ['bins', `bin-${i}`];
    const deps: Array<GoModule & { replace?: GoModule }> = [];
    for (let d = 0; d < PER_BINARY - 1; d++) deps.push({ ...pick(corpus.modules) });
    const k3s =
      i % 10 === 0
        ? { modulePath: 'github.com/k3s-io/k3s', version: pick(corpus.k3sVersions), source: 'ldflags' as const }
        : undefined;
    if (k3s) {
      // K3s builds Kubernetes from its fork: matched as k8s.io/kubernetes at the upstream version.
      const v = k3s.version.replace(/\+k3s1$/, '');
      deps[0] = {
        path: 'k8s.io/kubernetes',
        version: v,
        replace: { path: 'github.com/k3s-io/kubernetes', version: `${v}-k3s1` },
      };
    }
    const info: GoBuildInfo = {
      encoding: 'inline',
      goVersion: pick(corpus.goVersions),
      main: { path: `example.com/bin${i}`, version: '(devel)' },
      deps,
      settings: [
        { key: 'GOOS', value: 'linux' },
        { key: 'GOARCH', value: 'amd64' },
      ],
    };
    const ref = location.join('!');
    const file: FileComponent = {
      type: 'file',
      ref,
      name: `bin-${i}`,
      path: `bin-${i}`,
      location,
      size: 1,
      sha256: '0'.repeat(64),
      binary: { format: 'go', buildInfo: info, arch: { class: 64, endian: 'little', machine: 62, name: 'amd64' } },
      // goComponents adds the main module too: drop it to keep exactly PER_BINARY components.
      children: goComponents(ref, location, info, k3s).filter((c) => c.type !== 'go-module' || c.role !== 'main'),
    };
    if (k3s) file.k3s = k3s;
    children.push(file);
  }
  return { type: 'directory', ref: 'bins', name: 'bins', path: 'bins', location: ['bins'], children };
}

function countComponents(root: DirectoryComponent): number {
  return root.children.reduce((n, f) => n + (f.type === 'file' ? f.children.length : 0), 0);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function main(): void {
  const records = loadRecords();
  const lookup = lookupFromRecords(records);
  const corpus = corpusOf(records);
  console.log(
    `records: ${records.length}; corpus: ${corpus.modules.length} (module, version) pairs, ${corpus.goVersions.length} Go versions, ${corpus.k3sVersions.length} K3s versions; runs: ${RUNS} after a warm-up`,
  );
  const rows: Array<{ components: number; medianMs: number; minMs: number; usPerComponent: number; findings: number }> =
    [];
  for (const size of SIZES) {
    const root = inventory(size, corpus);
    const components = countComponents(root);
    const times: number[] = [];
    let findings = 0;
    for (let i = 0; i <= RUNS; i++) {
      const t0 = process.hrtime.bigint();
      findings = matchRecords(root, lookup).length;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (i > 0) times.push(ms); // run 0 warms the JIT and the compiled-range cache
    }
    const med = median(times);
    rows.push({
      components,
      medianMs: med,
      minMs: Math.min(...times),
      usPerComponent: (med * 1000) / components,
      findings,
    });
  }
  const base = rows[0]?.usPerComponent ?? 1;
  console.log('components  median ms     min ms  us/component  vs 1k  findings');
  for (const r of rows)
    console.log(
      `${String(r.components).padStart(10)}  ${r.medianMs.toFixed(1).padStart(9)}  ${r.minMs.toFixed(1).padStart(9)}  ${r.usPerComponent.toFixed(2).padStart(12)}  ${(r.usPerComponent / base).toFixed(2).padStart(5)}x  ${r.findings}`,
    );
  const tenK = rows.find((r) => r.components === 10_000);
  const growth = rows.every((r) => r.usPerComponent <= base * 1.25);
  console.log(
    `10k under 1 s: ${tenK && tenK.medianMs < 1000 ? 'yes' : 'NO'}; linear or better (per-component cost within 1.25x of 1k): ${growth ? 'yes' : 'NO'}`,
  );
  mkdirSync(BENCH_CACHE, { recursive: true });
  writeFileSync(
    join(BENCH_CACHE, 'match-results.json'),
    `${JSON.stringify({ when: new Date().toISOString(), runs: RUNS, rows }, null, 1)}\n`,
  );
}

main();
