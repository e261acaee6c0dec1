// A private containerd for tests: Debian's containerd as a plain process with its own root,
// state and socket in a temp dir (no CRI plugin), and `ctr` talking to it in the k8s.io
// namespace, where K3s keeps its images. Skipped, with the reason, when containerd or ctr is
// not installed.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hasTool } from '../fixtures/tools.ts';

export interface Containerd {
  /** `ctr ARGS` against this daemon; throws on a non-zero exit. */
  ctr(...args: string[]): Buffer;
  /** `ctr ARGS`, whatever its exit: code and output. */
  ctrRun(args: string[]): { code: number | null; stdout: string; stderr: string };
}

export async function withContainerd<T>(fn: (c: Containerd) => Promise<T> | T): Promise<T | { skip: string }> {
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
    const base = ['--address', sock, '-n', 'k8s.io'];
    return await fn({
      ctr: (...args) => execFileSync('ctr', [...base, ...args], { stdio: 'pipe' }),
      ctrRun: (args) => {
        const r = spawnSync('ctr', [...base, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        return { code: r.status, stdout: r.stdout, stderr: r.stderr };
      },
    });
  } finally {
    daemon?.kill();
    if (daemon && daemon.exitCode === null) await new Promise((r) => daemon?.once('exit', r));
    rmSync(tmp, { recursive: true, force: true });
  }
}
