// A private containerd for tests: Debian's containerd as a plain process with its own root,
// state and socket in a temp dir (no CRI plugin), driven with `ctr --address`. It is stopped
// by its PID; before that, every task it runs is killed and deleted, so no shim, container
// process or rootfs mount outlives the test. Skipped, with the reason, without containerd/ctr.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hasTool } from '../fixtures/tools.ts';

export interface PrivateContainerd {
  /** The temp dir holding config, root, state and socket. */
  dir: string;
  socket: string;
  /** containerd's root: the content store is `<root>/io.containerd.content.v1.content`. */
  root: string;
  pid: number;
  /** `ctr --address <socket> -n <namespace> ...args`, its stdout. */
  ctr(namespace: string, ...args: string[]): string;
  /** A detached container in k8s.io running `command`, labelled as the CRI labels a pod's. */
  runPod(image: string, id: string, pod: { name: string; namespace: string }, ...command: string[]): string;
  /** SIGSTOP, returning once the kernel shows the daemon stopped (signals arrive asynchronously). */
  freeze(): Promise<void>;
  /** SIGCONT, returning once it runs again. */
  thaw(): Promise<void>;
  /** Kill and delete every task, then stop the daemon (SIGTERM to its PID) and wait for it. */
  stop(): Promise<void>;
  /** stop(), then delete the temp dir. */
  remove(): Promise<void>;
}

export function containerdSkip(): string | undefined {
  if (!hasTool('containerd') || !hasTool('ctr')) return 'containerd/ctr not installed (apt-get install -y containerd)';
  return undefined;
}

/** Starts containerd in `dir` (a new temp dir by default; an existing one restarts it on the same root). */
export async function startContainerd(dir?: string): Promise<PrivateContainerd | { skip: string }> {
  const missing = containerdSkip();
  if (missing) return { skip: missing };
  const home = dir ?? mkdtempSync(join(tmpdir(), 'k3sg-ctr-'));
  const socket = join(home, 'c.sock');
  const root = join(home, 'root');
  writeFileSync(
    join(home, 'config.toml'),
    `version = 2\nroot = "${root}"\nstate = "${home}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${socket}"\n`,
  );
  rmSync(socket, { force: true }); // a socket left by a daemon that was killed
  const daemon: ChildProcess = spawn('containerd', ['--config', join(home, 'config.toml')], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => daemon.once('exit', () => r()));
  for (let i = 0; i < 100 && !existsSync(socket) && running(daemon); i++) await sleep(100);
  if (!existsSync(socket) || daemon.pid === undefined) {
    daemon.kill('SIGKILL');
    await exited;
    if (!dir) rmSync(home, { recursive: true, force: true });
    return { skip: 'containerd did not start' };
  }
  // A bound on every ctr command: one talking to a frozen daemon must not hold the test forever.
  const ctr = (namespace: string, ...args: string[]) =>
    execFileSync('ctr', ['--address', socket, '-n', namespace, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    }).toString('utf8');
  const pid = daemon.pid;
  const signal = async (sig: 'SIGSTOP' | 'SIGCONT', stopped: boolean) => {
    process.kill(pid, sig);
    for (let i = 0; i < 100 && isStopped(pid) !== stopped; i++) await sleep(20);
    if (isStopped(pid) !== stopped) throw new Error(`containerd ${pid} did not take ${sig}`);
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (running(daemon)) {
      if (isStopped(pid)) await signal('SIGCONT', false); // a test that froze it and failed
      for (const ns of lines(ctr('default', 'namespaces', 'ls', '-q'))) {
        for (const id of lines(ctr(ns, 'tasks', 'ls', '-q'))) {
          try {
            ctr(ns, 'tasks', 'kill', '-s', 'SIGKILL', id);
          } catch {
            // already stopped
          }
          for (let i = 0; i < 50; i++) {
            try {
              ctr(ns, 'tasks', 'delete', id);
              break;
            } catch {
              await sleep(100); // the process has not been reaped yet
            }
          }
        }
      }
      daemon.kill('SIGTERM');
    }
    await exited;
  };
  return {
    dir: home,
    socket,
    root,
    pid,
    ctr,
    runPod: (image, id, pod, ...command) =>
      ctr(
        K8S,
        'run',
        '-d',
        '--label',
        `io.kubernetes.pod.name=${pod.name}`,
        '--label',
        `io.kubernetes.pod.namespace=${pod.namespace}`,
        image,
        id,
        ...command,
      ),
    freeze: () => signal('SIGSTOP', true),
    thaw: () => signal('SIGCONT', false),
    stop,
    remove: async () => {
      await stop();
      unmountUnder(home);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The containerd a `withContainerd` callback talks to, in namespace k8s.io. */
export interface Containerd {
  /** Its socket, for `ctr --address`. */
  address: string;
  namespace: string;
  /** Runs `ctr` against it; throws (with ctr's stderr) when ctr fails. */
  ctr: (...args: string[]) => string;
}

/** A private containerd for the length of `use`, removed afterwards whatever `use` did. */
export async function withContainerd<T>(use: (c: Containerd) => T | Promise<T>): Promise<T | { skip: string }> {
  const c = await startContainerd();
  if ('skip' in c) return c;
  try {
    return await use({ address: c.socket, namespace: K8S, ctr: (...args) => c.ctr(K8S, ...args) });
  } finally {
    await c.remove();
  }
}

const K8S = 'k8s.io';

/** Unmount what is still mounted below `dir` (deepest first), so removing it cannot reach into a mount. */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => m?.startsWith(`${dir}/`) === true)
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) execFileSync('umount', [m], { stdio: 'ignore' });
}

/** Whether the process is stopped by a signal (state T in /proc/<pid>/stat). */
function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false; // gone
  }
}

function running(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
