// Verify benchmarks (issue 3): whole processes, ours against the standard tools doing the same
// work in the same run, under GNU time for peak RSS. Run: npm run bench:verify [-- --runs N]
// 1. one 1 GiB file against a sums file vs `openssl dgst -sha256` (target <= 1.10x) and vs
//    coreutils `sha256sum` (what install.sh uses; ratio reported);
// 2. a release folder of 8 x 256 MiB assets vs `openssl dgst -sha256` over the same files one
//    after another (target: at least 1.6x faster, from using every core);
// 3. peak RSS under 100 MB, and flat: the same for a 64 MiB file as for the 1 GiB one.
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCH_CACHE } from './corpus.ts';
import { measure, q, RUNS } from './measure.ts';

const MiB = 1024 * 1024;
const CLI = resolve(import.meta.dirname, '..', 'bin', 'k3sguard.js');
const DATA = join(BENCH_CACHE, 'verify');

// Deterministic incompressible bytes: AES-CTR keystream keyed by the file's name.
function generate(path: string, size: number): void {
  if (existsSync(path) && statSync(path).size === size) return;
  const key = createHash('sha256')
    .update(`k3sguard-bench:${path.split('/').pop()}`)
    .digest()
    .subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zero = Buffer.alloc(4 * MiB);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    for (let done = 0; done < size; done += zero.length)
      writeSync(fd, cipher.update(zero.subarray(0, Math.min(zero.length, size - done))));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function sums(dir: string, out: string, names: string[]): void {
  if (!existsSync(join(dir, out))) writeFileSync(join(dir, out), execFileSync('sha256sum', names, { cwd: dir }));
}

function inputs(): { big: string; small: string; release: string; assets: string[] } {
  mkdirSync(join(DATA, 'release'), { recursive: true });
  console.log(`bench: inputs in ${DATA} (generated once: 1 GiB + 64 MiB + 8 x 256 MiB)`);
  generate(join(DATA, 'big.bin'), 1024 * MiB);
  generate(join(DATA, 'small.bin'), 64 * MiB);
  sums(DATA, 'SHA256SUMS', ['big.bin', 'small.bin']);
  const rel = join(DATA, 'release');
  const byArch: Record<string, string[]> = {
    amd64: ['tar', 'tar.gz', 'tar.zst'],
    arm64: ['tar', 'tar.gz', 'tar.zst'],
    arm: ['tar', 'tar.zst'],
  };
  const assets: string[] = [];
  for (const [arch, exts] of Object.entries(byArch)) {
    const names = exts.map((e) => `k3s-airgap-images-${arch}.${e}`);
    for (const n of names) generate(join(rel, n), 256 * MiB);
    sums(rel, `sha256sum-${arch}.txt`, names);
    assets.push(...names.map((n) => join(rel, n)));
  }
  return { big: join(DATA, 'big.bin'), small: join(DATA, 'small.bin'), release: rel, assets };
}

const ours = {
  checksums: (f: string, sums: string) => `node ${q(CLI)} verify ${q(f)} --checksums ${q(sums)} >/dev/null`,
  release: (d: string) => `node ${q(CLI)} verify --release ${q(d)} >/dev/null`,
};

async function inProcess(big: string, sumsFile: string, release: string): Promise<Record<string, number>> {
  const { verifyChecksums } = await import('../src/verify/checksums.ts');
  const { verifyRelease } = await import('../src/verify/release.ts');
  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    const seconds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = process.hrtime.bigint();
      await fn();
      seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    return seconds.sort((a, b) => a - b)[1] as number;
  };
  const file = await time(() => verifyChecksums([big], sumsFile));
  const rel = await time(() => verifyRelease(release));
  console.log(
    `  in-process: 1 GiB verify ${file.toFixed(3)} s (${(1024 / file).toFixed(0)} MiB/s); release folder ${rel.toFixed(3)} s`,
  );
  return { fileSeconds: file, releaseSeconds: rel };
}

async function main(): Promise<void> {
  const { big, small, release, assets } = inputs();
  const sumsFile = join(DATA, 'SHA256SUMS');
  console.log(`\nours: k3sguard verify (CLI); ${RUNS} runs after a warm-up each`);

  console.log('\n1. one 1 GiB file');
  const file = measure('k3sguard verify FILE --checksums SUMS', ours.checksums(big, sumsFile));
  const openssl = measure('openssl dgst -sha256 FILE', `openssl dgst -sha256 ${q(big)} >/dev/null`);
  const coreutils = measure('sha256sum FILE', `sha256sum ${q(big)} >/dev/null`);
  const vsOpenssl = file.medianSeconds / openssl.medianSeconds;
  const coreutilsVsOpenssl = coreutils.medianSeconds / openssl.medianSeconds;
  console.log(`  ours / openssl ${vsOpenssl.toFixed(2)}x (target <= 1.10x)`);
  console.log(
    `  sha256sum / openssl ${coreutilsVsOpenssl.toFixed(2)}x; sha256sum / ours ${(coreutils.medianSeconds / file.medianSeconds).toFixed(2)}x`,
  );

  console.log('\n2. release folder, 8 x 256 MiB assets');
  const rel = measure('k3sguard verify --release DIR', ours.release(release));
  const serial = measure(
    'openssl dgst -sha256 (8 files, one process)',
    `openssl dgst -sha256 ${assets.map(q).join(' ')} >/dev/null`,
  );
  const speedup = serial.medianSeconds / rel.medianSeconds;
  console.log(`  openssl / ours ${speedup.toFixed(2)}x faster (target >= 1.6x)`);

  console.log('\n3. peak RSS, flat in the file size');
  const smallRun = measure('k3sguard verify (64 MiB file)', ours.checksums(small, sumsFile));
  const peak = Math.max(file.peakRssMiB, rel.peakRssMiB, smallRun.peakRssMiB);
  console.log(
    `  64 MiB ${smallRun.peakRssMiB.toFixed(0)} MiB, 1 GiB ${file.peakRssMiB.toFixed(0)} MiB, release ${rel.peakRssMiB.toFixed(0)} MiB (target < 100 MB)`,
  );

  console.log('\n4. in-process (the library alone, no start-up)');
  const lib = await inProcess(big, sumsFile, release);

  const results = {
    date: new Date().toISOString(),
    runs: RUNS,
    file: {
      bytes: statSync(big).size,
      ours: file,
      openssl,
      sha256sum: coreutils,
      ratioVsOpenssl: vsOpenssl,
      sha256sumVsOpenssl: coreutilsVsOpenssl,
    },
    release: { files: assets.length, bytes: assets.length * 256 * MiB, ours: rel, opensslSerial: serial, speedup },
    rss: { smallFileMiB: smallRun.peakRssMiB, bigFileMiB: file.peakRssMiB, releaseMiB: rel.peakRssMiB, peakMiB: peak },
    inProcess: lib,
  };
  const out = join(BENCH_CACHE, 'verify-results.json');
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nresults: ${out}`);
}

await main();
