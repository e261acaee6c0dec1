// The real `ctr images export` output: a private containerd (./containerd.ts) imports an
// airgap archive the way K3s would, and exports it again. Cached beside the other image
// fixtures; skipped, with the reason, when containerd or ctr is not installed.
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { startContainerd } from './containerd.ts';
import { EXTRA_NAME, type ImageFixtures, TEST_NAME } from './fixtures.ts';

export async function ctrExport(f: ImageFixtures): Promise<{ path: string } | { skip: string }> {
  const out = join(f.dir, 'ctr-export.tar');
  if (existsSync(out)) return { path: out };
  const r = await ctrRoundTrip(f.airgapTar, [{ out, names: [TEST_NAME, EXTRA_NAME] }]);
  return 'skip' in r ? r : { path: out };
}

/** One `ctr images export`: the archive to write and the images to put in it. */
export interface CtrExport {
  out: string;
  names: string[];
}

/** Import `archive` into a private containerd (unpacking it, as K3s does), then export each of `exports`. */
export async function ctrRoundTrip(archive: string, exports: CtrExport[]): Promise<{ ok: true } | { skip: string }> {
  const c = await startContainerd();
  if ('skip' in c) return c;
  try {
    c.ctr('k8s.io', 'images', 'import', archive);
    for (const { out, names } of exports) {
      c.ctr('k8s.io', 'images', 'export', '--platform', 'linux/amd64', `${out}.tmp`, ...names);
      renameSync(`${out}.tmp`, out);
    }
    return { ok: true };
  } finally {
    await c.remove();
  }
}
