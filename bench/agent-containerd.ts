// The agent's containerd check on a node holding 20 images (issue 13 item 7): one full check
// when nothing changed (every image's reading kept by digest: target under 1 s) against the
// first check (every image read from the content store), in process, as the agent runs it.
// A private containerd (test/images/containerd.ts) gets 20 distinct images, made from the
// Debian image fixture (each with its own config, so its own manifest digest; the layers are
// shared, as base layers are on a real node, but each image is read on its own) plus a
// running container; the checks run with the image policy, and with and without the
// vulnerability database of ../shared/data/govulndb. Results: agent-containerd-results.json.
// The steady state (only unchanged checks) is also measured in a process of its own, from the
// built dist/ when `npm run build` made it (what ships), else from src/.
// Run: node bench/agent-containerd.ts [--runs N]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ContainerdCheckOptions, checkContainerd } from '../src/audit/runtime/containerd.ts';
import { parseImagePolicy } from '../src/policy/image-policy.ts';
import { contentStoreDir } from '../src/readers/containerd/content-store.ts';
import { importOsv } from '../src/vulndb/import.ts';
import { debianImage } from '../test/fixtures/debian-image.ts';
import { startContainerd } from '../test/images/containerd.ts';
import { GOVULNDB, noSharedData } from '../test/vulndb/fixtures.ts';
import { BENCH_CACHE } from './corpus.ts';
import { RUNS } from './measure.ts';

const IMAGES = 20;
const NS = 'k8s.io';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An OCI archive of IMAGES images: the fixture's, each with its own config (so its own digest). */
function twentyImages(airgapDir: string, work: string): string {
  const dir = join(work, 'layout');
  cpSync(join(airgapDir, 'blobs'), join(dir, 'blobs'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const blob = (digest: string) => readFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)));
  const put = (content: Buffer) => {
    const hex = sha256(content);
    writeFileSync(join(dir, 'blobs', 'sha256', hex), content);
    return { digest: `sha256:${hex}`, size: content.length };
  };
  const index = JSON.parse(readFileSync(join(airgapDir, 'index.json'), 'utf8'));
  const base = index.manifests[0];
  const manifest = JSON.parse(blob(base.digest).toString('utf8'));
  const config = JSON.parse(blob(manifest.config.digest).toString('utf8'));
  const manifests = [];
  for (let i = 1; i <= IMAGES; i++) {
    const c = put(Buffer.from(JSON.stringify({ ...config, author: `k3sguard bench image ${i}` })));
    const m = put(Buffer.from(JSON.stringify({ ...manifest, config: { ...manifest.config, ...c } })));
    const name = `docker.io/k3sguard/bench-${String(i).padStart(2, '0')}:1`;
    manifests.push({
      mediaType: base.mediaType,
      ...m,
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': '1' },
    });
  }
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  const tar = join(work, 'images.tar');
  execFileSync('tar', ['-cf', tar, '-C', dir, '.']);
  return tar;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function timed(opts: ContainerdCheckOptions): Promise<{ ms: number; fromCache: number; images: number }> {
  const t0 = performance.now();
  const r = await checkContainerd(opts);
  const ms = performance.now() - t0;
  if (!r.containerd.ok) throw new Error(`containerd: ${r.containerd.message}`);
  if (r.findings.length > 0) throw new Error(`unexpected findings: ${r.findings.map((f) => f.id).join(', ')}`);
  return { ms, fromCache: r.images.filter((i) => i.fromCache).length, images: r.images.length };
}

const BUILT = join(import.meta.dirname, '..', 'dist', 'src', 'audit', 'runtime', 'containerd.js');
const STEADY = join(import.meta.dirname, 'agent-containerd-steady.ts');

function steadyState(opts: ContainerdCheckOptions): {
  medianMs: number;
  afterImportMiB: number;
  heapMiB: number;
  rssMiB: number;
  peakRssMiB: number;
  built: boolean;
} {
  const built = existsSync(BUILT);
  const args = [STEADY, JSON.stringify(opts), ...(built ? [BUILT] : [])];
  const out = execFileSync(process.execPath, args, { encoding: 'utf8' });
  return { ...JSON.parse(out.trim().split('\n').pop() ?? '{}'), built };
}

async function main(): Promise<void> {
  const img = await debianImage((l) => console.log(l));
  if ('skip' in img) throw new Error(img.skip);
  const ctrd = await startContainerd();
  if ('skip' in ctrd) throw new Error(ctrd.skip);
  const work = mkdtempSync(join(tmpdir(), 'k3sg-bench-agent-'));
  try {
    ctrd.ctr(NS, 'images', 'import', twentyImages(img.airgapDir, work));
    ctrd.ctr(
      NS,
      'run',
      '-d',
      '--label',
      'io.kubernetes.pod.name=bench',
      'docker.io/k3sguard/bench-01:1',
      'bench',
      'sleep',
      '600',
    );
    const policyText = 'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  allowedRegistries: [docker.io]\n';
    const policy = parseImagePolicy('policy.yaml', policyText);
    let db: string | undefined;
    if (noSharedData) console.log(`no database: ${noSharedData}`);
    else {
      db = join(work, 'vulndb.sqlite');
      await importOsv(db, [GOVULNDB]);
    }
    const base = { socket: ctrd.socket, contentRoot: contentStoreDir(ctrd.root), policy };
    const results: Record<string, unknown> = {
      images: IMAGES,
      runs: RUNS,
      cores: (await import('node:os')).cpus().length,
    };
    for (const [label, vulnDb] of [
      ['policy', undefined],
      ['policy+db', db],
    ] as const) {
      if (label === 'policy+db' && !vulnDb) continue;
      const firsts: number[] = [];
      const agains: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const cacheDir = join(work, `cache-${label}-${run}`);
        const opts = { ...base, cacheDir, ...(vulnDb ? { vulnDb } : {}) };
        const first = await timed(opts);
        if (first.fromCache !== 0 || first.images !== IMAGES) throw new Error(`first check: ${JSON.stringify(first)}`);
        firsts.push(first.ms);
        for (let k = 0; k < 3; k++) {
          const again = await timed(opts);
          if (again.fromCache !== IMAGES) throw new Error(`unchanged check read images: ${JSON.stringify(again)}`);
          agains.push(again.ms);
        }
        if (run < RUNS - 1) rmSync(cacheDir, { recursive: true, force: true });
      }
      const steady = steadyState({
        ...base,
        cacheDir: join(work, `cache-${label}-${RUNS - 1}`),
        ...(vulnDb ? { vulnDb } : {}),
      });
      const row = {
        firstMedianMs: Math.round(median(firsts)),
        unchangedMedianMs: Math.round(median(agains)),
        unchangedMaxMs: Math.round(Math.max(...agains)),
        speedup: Number((median(firsts) / median(agains)).toFixed(1)),
        steadyProcess: steady,
      };
      results[label] = row;
      console.log(
        `${IMAGES} images, ${label.padEnd(9)}: first check ${row.firstMedianMs} ms, unchanged ${row.unchangedMedianMs} ms (max ${row.unchangedMaxMs}), ${row.speedup}x  [median of ${RUNS} / ${RUNS * 3}]`,
      );
      console.log(
        `  a process doing only unchanged checks (${steady.built ? 'built dist/' : 'src/, type-stripped'}): ${steady.medianMs} ms a check, RSS ${steady.rssMiB} MiB (peak ${steady.peakRssMiB} MiB, ${steady.afterImportMiB} MiB once the code was loaded, JS heap in use ${steady.heapMiB} MiB)`,
      );
    }
    results.benchProcessPeakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    mkdirSync(BENCH_CACHE, { recursive: true });
    writeFileSync(join(BENCH_CACHE, 'agent-containerd-results.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(
      `peak RSS of this process (first checks included): ${results.benchProcessPeakRssMiB} MiB; results in ${join(BENCH_CACHE, 'agent-containerd-results.json')}`,
    );
  } finally {
    await ctrd.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
