// `ir collect` and `ir diff` on nodes with many data dir files (issue 16): two node trees whose
// extracted bundle holds N small files, the second with `data/current` moved to another bundle
// dir where one file in a hundred differs (the diff compares the two current bundles member by
// member). Whole processes, median of RUNS after a warm-up, peak RSS. Run: npm run bench:ir
// [-- --runs N]. Target: ir diff of 20k files per side under 2 s and under 200 MiB.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCH_CACHE } from './corpus.ts';
import { measure, q } from './measure.ts';

const CLI = resolve(import.meta.dirname, '..', 'bin', 'k3sguard.js');
const SIZES = [2_000, 20_000];

function node(root: string, hash: string, n: number, changed: boolean): void {
  const bin = join(root, 'var/lib/rancher/k3s/data', hash, 'bin');
  mkdirSync(bin, { recursive: true });
  for (let i = 0; i < n; i++)
    writeFileSync(join(bin, `f${i}`), changed && i % 100 === 0 ? `changed ${i}\n` : `file ${i}\n`);
  symlinkSync(`/var/lib/rancher/k3s/data/${hash}`, join(root, 'var/lib/rancher/k3s/data/current'));
  mkdirSync(join(root, 'etc/rancher/k3s'), { recursive: true });
  writeFileSync(join(root, 'etc/rancher/k3s/config.yaml'), 'write-kubeconfig-mode: "0600"\n');
}

const dir = join(BENCH_CACHE, 'ir');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
writeFileSync(join(dir, 'org.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
const results: Record<string, unknown> = {};
for (const n of SIZES) {
  console.log(`${n} files per node:`);
  const a = join(dir, `a${n}`);
  const b = join(dir, `b${n}`);
  node(a, '1'.repeat(64), n, false);
  node(b, '2'.repeat(64), n, true);
  const collect = (root: string, out: string) =>
    `rm -f ${q(out)} && node ${q(CLI)} ir collect --root ${q(root)} -o ${q(out)} --key ${q(join(dir, 'org.pem'))} 2>/dev/null`;
  const ea = join(dir, `a${n}.tar.zst`);
  const eb = join(dir, `b${n}.tar.zst`);
  results[`collect-${n}`] = measure(`ir collect (${n} files)`, collect(a, ea));
  execFileSync('bash', ['-c', collect(b, eb)]);
  results[`diff-${n}`] = measure(
    `ir diff (${n} files per side)`,
    `node ${q(CLI)} ir diff ${q(ea)} ${q(eb)} >/dev/null`,
    [1],
  );
}
writeFileSync(join(BENCH_CACHE, 'ir-results.json'), `${JSON.stringify(results, null, 2)}\n`);
