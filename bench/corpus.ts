// The benchmark corpus: real Go binaries from Debian packages and npm, fetched with the
// ordinary clients and cached in K3SGUARD_BENCH_CACHE (default ~/.cache/k3sguard-bench).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readFileHead } from '../src/io/bytesource.ts';
import { fetchRealBinary, REAL_BINARIES } from '../test/fixtures/realbins.ts';

export const BENCH_CACHE = process.env.K3SGUARD_BENCH_CACHE ?? join(homedir(), '.cache', 'k3sguard-bench');

/** Debian packages whose Go binaries join the corpus (every ELF over 2 MB in each). */
const DEBS = [
  'rclone',
  'hugo',
  'gh',
  'podman',
  'caddy',
  'restic',
  'syncthing',
  'buildah',
  'gopls',
  'delve',
  'prometheus-alertmanager',
];

function isElf(path: string): boolean {
  return readFileHead(path, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
}

function elfFilesUnder(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) elfFilesUnder(p, out);
    else if (e.isFile() && statSync(p).size > 2 * 1024 * 1024 && isElf(p)) out.push(p);
  }
  return out;
}

/** A folder of at least 20 real Go binaries; returns its path. */
export function goBinaryFolder(log: (s: string) => void): string {
  const dir = join(BENCH_CACHE, 'gobins');
  mkdirSync(dir, { recursive: true });
  for (const name of Object.keys(REAL_BINARIES)) {
    const dest = join(dir, name);
    if (!existsSync(dest)) copyFileSync(fetchRealBinary(name), dest);
  }
  for (const pkg of DEBS) {
    const marker = join(BENCH_CACHE, `.deb-${pkg}`);
    if (existsSync(marker)) continue;
    log(`bench: fetching Debian package ${pkg}`);
    const work = mkdtempSync(join(BENCH_CACHE, 'fetch-'));
    try {
      execFileSync('apt-get', ['download', pkg], { cwd: work, stdio: 'ignore' });
      const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${pkg}: no .deb`);
      execFileSync('dpkg-deb', ['-x', deb, 'x'], { cwd: work });
      for (const f of elfFilesUnder(join(work, 'x'))) copyFileSync(f, join(dir, `${pkg}-${f.split('/').pop()}`));
      execFileSync('touch', [marker]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return dir;
}

export function folderStats(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const f of readdirSync(dir)) {
    files++;
    bytes += statSync(join(dir, f)).size;
  }
  return { files, bytes };
}
