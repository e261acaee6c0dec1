// The real `ctr images export` output: Debian's containerd runs as a plain process with its
// own root, state and socket in a temp dir (no CRI plugin), imports an airgap archive the way
// K3s would, and exports it again. Cached beside the other image fixtures; skipped, with the
// reason, when containerd or ctr is not installed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hasTool } from '../fixtures/tools.ts';
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
  if (!hasTool('containerd') || !hasTool('ctr'))
    return { skip: 'containerd/ctr not installed (apt-get install -y containerd)' };
  const tmp = mkdtempSync(join(tmpdir(), 'k3sg-ctr-'));
  const sock = join(tmp, 'c.sock');
  writeFileSync(
    join(tmp, 'config.toml'),
    `version = 2\nroot = "${tmp}/root"\nstate = "${tmp}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${sock}"\n`,
  );
  let daemon: ChildProcess | undefined;
  try {
    daemon = spawn('containerd', ['--config', join(tmp, 'config.toml')], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(100);
    if (!existsSync(sock)) return { skip: 'containerd did not start' };
    const ctr = (...args: string[]) =>
      execFileSync('ctr', ['--address', sock, '-n', 'k8s.io', ...args], { stdio: 'pipe' });
    ctr('images', 'import', archive);
    for (const { out, names } of exports) {
      ctr('images', 'export', '--platform', 'linux/amd64', `${out}.tmp`, ...names);
      renameSync(`${out}.tmp`, out);
    }
    return { ok: true };
  } finally {
    daemon?.kill();
    if (daemon && daemon.exitCode === null) await new Promise((r) => daemon?.once('exit', r));
    rmSync(tmp, { recursive: true, force: true });
  }
}
