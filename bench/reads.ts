// Read once (issue 10): how many bytes `lock add` and `audit node` read of a K3s binary, and
// `lock add` of an image archive, against the file's size (target: 1.0x, plus the headers).
// In process, from /proc/self/io (rchar: bytes returned by read calls), each after a warm-up
// run, so module loading is not counted. Run: node bench/reads.ts [K3s-shaped variant]
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditNode } from '../src/audit/node/index.ts';
import { lockAddFiles } from '../src/verify/lock/lockfile.ts';
import { type K3sShapedVariant, k3sShaped } from '../test/fixtures/k3s-shaped.ts';
import { CACHE_DIR } from '../test/fixtures/realbins.ts';

function bytesRead(): number {
  const line = readFileSync('/proc/self/io', 'latin1')
    .split('\n')
    .find((l) => l.startsWith('rchar:'));
  return Number(line?.split(/\s+/)[1]);
}

async function measure(label: string, size: number, run: () => Promise<unknown>): Promise<Record<string, number>> {
  await run(); // warm-up: lazy modules load, the file is in the page cache
  const before = bytesRead();
  const t0 = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const bytes = bytesRead() - before;
  console.log(
    `  ${label.padEnd(40)} ${bytes} bytes read of ${size} (${(bytes / size).toFixed(3)}x)  ${seconds.toFixed(3)} s`,
  );
  return { bytes, size, ratio: bytes / size, seconds };
}

const variant = (process.argv[2] ?? 'good') as K3sShapedVariant;
const fixture = await k3sShaped(variant);
if ('skip' in fixture) {
  console.log(`K3s-shaped binary: skipped: ${fixture.skip}`);
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), 'k3sg-reads-'));
try {
  const lock = join(work, 'k3sguard.lock');
  const root = join(work, 'root');
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  copyFileSync(fixture.path, join(root, 'usr/local/bin/k3s'));
  console.log(`K3s-shaped binary (${variant}), ${fixture.size} bytes: ${fixture.path}`);
  await measure('lock add K3S', fixture.size, async () => {
    rmSync(lock, { force: true });
    const r = await lockAddFiles(lock, [fixture.path]);
    if (!r.written) throw new Error('lock add: a check failed');
  });
  await measure('audit node (usr/local/bin/k3s)', fixture.size, () => auditNode(root));
  const archive = join(CACHE_DIR, 'images', 'v1', 'airgap.tar.zst');
  if (existsSync(archive)) {
    console.log(`image archive: ${archive}`);
    await measure('lock add ARCHIVE', statSync(archive).size, async () => {
      rmSync(lock, { force: true });
      await lockAddFiles(lock, [archive]);
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
