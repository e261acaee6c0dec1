// Whole-process benchmarks, each against the standard tools doing the same work, in the
// same run, reporting ratios (see bench/README.md). Run: npm run bench [-- --runs N]
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileSource } from '../src/io/bytesource.ts';
import { scanForBundle } from '../src/readers/bundle/locate.ts';
import { k3sShaped } from '../test/fixtures/k3s-shaped.ts';
import { SHARED_DATA } from '../test/fixtures/realbins.ts';
import { BENCH_CACHE, folderStats, goBinaryFolder } from './corpus.ts';
import { measure, q, RUNS } from './measure.ts';

const CLI = resolve(import.meta.dirname, '..', 'bin', 'k3sguard.js');

function folderBench(): Record<string, unknown> {
  const dir = goBinaryFolder((s) => console.log(s));
  const { files, bytes } = folderStats(dir);
  console.log(`\n1. folder of ${files} real Go binaries, ${(bytes / 1e6).toFixed(0)} MB: ${dir}`);
  const ours = measure('k3sguard inspect --json', `node ${q(CLI)} inspect --json --no-progress ${q(dir)} >/dev/null`);
  const ref = measure(
    'go version -m; openssl dgst -sha256',
    `go version -m ${q(dir)} >/dev/null && openssl dgst -sha256 ${q(dir)}/* >/dev/null`,
  );
  const ratio = ours.medianSeconds / ref.medianSeconds;
  console.log(`  ratio ${ratio.toFixed(2)}x (target <= 1.0x)`);
  return { files, bytes, ours, reference: ref, ratio };
}

async function bundleBench(): Promise<Record<string, unknown>> {
  const fixture = await k3sShaped('scaled');
  if ('skip' in fixture) {
    console.log(`\n2. K3s-shaped binary: skipped: ${fixture.skip}`);
    return { skipped: fixture.skip };
  }
  const src = fileSource(fixture.path);
  const scan = scanForBundle(src);
  const bundleFile = join(BENCH_CACHE, 'scaled-bundle.tar.zst');
  if (!scan.bundle) throw new Error('scaled fixture: no bundle found');
  if (!existsSync(bundleFile)) writeFileSync(bundleFile, src.read(scan.bundle.offset, scan.bundle.length));
  src.close();
  console.log(
    `\n2. K3s-shaped binary, ${(src.size / 1e6).toFixed(0)} MB, bundle ${(scan.bundle.length / 1e6).toFixed(0)} MB compressed`,
  );
  const ours = measure(
    'k3sguard inspect --json',
    `node ${q(CLI)} inspect --json --no-progress ${q(fixture.path)} >/dev/null`,
  );
  const ref = measure(
    'zstd -dc --long=25 | openssl dgst -sha256',
    `zstd -dc --long=25 ${q(bundleFile)} | openssl dgst -sha256 >/dev/null`,
  );
  const ratio = ours.medianSeconds / ref.medianSeconds;
  console.log(
    `  ratio ${ratio.toFixed(2)}x (target <= 1.5x); peak RSS ${ours.peakRssMiB.toFixed(0)} MiB (target < 200 MiB)`,
  );
  return { size: src.size, bundleBytes: scan.bundle.length, ours, reference: ref, ratio };
}

/** scan end to end vs inspect alone: what the vulnerability step adds (target: under 50%). */
async function scanBench(): Promise<Record<string, unknown>> {
  const fixture = await k3sShaped('good');
  const govulndb = join(SHARED_DATA, 'govulndb');
  if ('skip' in fixture || !existsSync(govulndb)) {
    const why = 'skip' in fixture ? fixture.skip : `no ${govulndb}`;
    console.log(`\n3. scan vs inspect: skipped: ${why}`);
    return { skipped: why };
  }
  const db = join(BENCH_CACHE, 'bench-vulndb.sqlite');
  if (!existsSync(db))
    execFileSync(process.execPath, [CLI, 'db', 'import', '--db', db, govulndb, join(SHARED_DATA, 'ghsa-k3s')]);
  console.log(`\n3. scan vs inspect of the K3s-shaped binary (${(fixture.size / 1e6).toFixed(0)} MB), real Go vulndb`);
  const inspect = measure('k3sguard inspect', `node ${q(CLI)} inspect --no-progress ${q(fixture.path)} >/dev/null`);
  const scan = measure(
    'k3sguard scan',
    `node ${q(CLI)} scan --no-progress --db ${q(db)} ${q(fixture.path)} >/dev/null`,
    [0, 1],
  );
  const added = scan.medianSeconds / inspect.medianSeconds - 1;
  console.log(`  the vulnerability step adds ${(added * 100).toFixed(0)}% (target < 50%)`);
  return { inspect, scan, added };
}

const results = {
  date: new Date().toISOString(),
  runs: RUNS,
  folder: folderBench(),
  bundle: await bundleBench(),
  scan: await scanBench(),
};
writeFileSync(join(BENCH_CACHE, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nresults: ${join(BENCH_CACHE, 'results.json')}`);
