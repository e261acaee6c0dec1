// The real `ctr images export` output: Debian's containerd runs as a plain process with its
// own root, state and socket in a temp dir (no CRI plugin), imports an airgap archive the way
// K3s would, and exports it again. Cached beside the other image fixtures; skipped, with the
// reason, when containerd or ctr is not installed. withContainerd is that private containerd,
// for any test that needs one (the image test runs k3sguard's own image in it).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  return withContainerd(({ ctr }) => {
    ctr('images', 'import', archive);
    for (const { out, names } of exports) {
      ctr('images', 'export', '--platform', 'linux/amd64', `${out}.tmp`, ...names);
      renameSync(`${out}.tmp`, out);
    }
    return { ok: true } as const;
  });
}

/** The containerd a `withContainerd` callback talks to. */
export interface Containerd {
  /** Its socket, for `ctr --address`. */
  address: string;
  namespace: string;
  /** Runs `ctr` against it; throws (with ctr's stderr) when ctr fails. */
  ctr: (...args: string[]) => Buffer;
}

/**
 * A private containerd for the length of `use`: Debian's containerd as a plain process with its
 * own root, state and unix socket in a temp dir, no CRI plugin. Afterwards every task still
 * running is killed and every container removed, the daemon is stopped by its PID, and whatever
 * its snapshots left mounted under the temp dir is unmounted before the dir is removed.
 */
export async function withContainerd<T>(use: (c: Containerd) => T | Promise<T>): Promise<T | { skip: string }> {
  if (!hasTool('containerd') || !hasTool('ctr'))
    return { skip: 'containerd/ctr not installed (apt-get install -y containerd)' };
  const tmp = mkdtempSync(join(tmpdir(), 'k3sg-ctr-'));
  const address = join(tmp, 'c.sock');
  const namespace = 'k8s.io';
  writeFileSync(
    join(tmp, 'config.toml'),
    `version = 2\nroot = "${tmp}/root"\nstate = "${tmp}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${address}"\n`,
  );
  const ctr = (...args: string[]) =>
    execFileSync('ctr', ['--address', address, '-n', namespace, ...args], { stdio: 'pipe' });
  let daemon: ChildProcess | undefined;
  try {
    daemon = spawn('containerd', ['--config', join(tmp, 'config.toml')], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(address); i++) await sleep(100);
    if (!existsSync(address)) return { skip: 'containerd did not start' };
    return await use({ address, namespace, ctr });
  } finally {
    if (daemon && existsSync(address)) removeContainers(ctr);
    daemon?.kill();
    if (daemon && daemon.exitCode === null) await new Promise((r) => daemon?.once('exit', r));
    unmountUnder(tmp);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Best effort: a test that failed half-way may have left a container running. */
function removeContainers(ctr: Containerd['ctr']): void {
  try {
    for (const id of ctr('containers', 'ls', '-q').toString().split('\n').filter(Boolean)) {
      for (const args of [
        ['tasks', 'rm', '-f', id],
        ['containers', 'rm', id],
      ]) {
        try {
          ctr(...args);
        } catch {
          // No task (it ended), or already gone.
        }
      }
    }
  } catch {
    // The daemon is not answering: nothing more can be asked of it.
  }
}

/** Unmount what is still mounted below `dir` (deepest first), so removing it cannot reach into a mount. */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => m?.startsWith(`${dir}/`) === true)
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) execFileSync('umount', [m], { stdio: 'ignore' });
}
