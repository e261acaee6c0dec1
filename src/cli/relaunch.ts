// Reading an image holds each large binary of its layers whole for a moment. When glibc frees
// such a buffer it raises its mmap threshold (up to 32 MiB), and from then on the 1 MiB decode
// buffers come from the heap, which fragments and does not shrink: an airgap archive's peak RSS
// then passes the 300 MB the image bench holds it to. A fixed threshold keeps them in mmap, but
// glibc reads it only at start-up, so a command whose parsed target is an image archive or
// layout runs once more with it. Nothing else pays the second start.
//
// The two processes are one command to the user: a signal sent to the first (SIGTERM from a
// supervisor, Ctrl-C) is passed to the second, and the second stops by itself when the first is
// gone (kill -9), so it never goes on writing `-o` for a command that was stopped.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { IN_SEA } from '../io/sea.ts';
import { namesImageTarget } from '../io/target.ts';

const MMAP_ENV = 'MALLOC_MMAP_THRESHOLD_';
const MMAP_THRESHOLD = String(1024 * 1024);
/** Set in the second process: the pid of the first, which it watches. */
const PARENT_ENV = 'K3SGUARD_RERUN_PARENT';
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const;
/** How often the second process checks that the first is still there. */
const WATCH_MS = 500;

/** The commands that read image targets, by their path below `k3sguard`. */
const IMAGE_COMMANDS = new Set(['inspect', 'sbom', 'scan', 'verify', 'lock add']);

/**
 * This process's command line, to run again under process.execPath. A script's argv is
 * [node, script, ...args] after Node's own options (execArgv). The single executable's is
 * [executable, executable as typed, ...args]: Node took no options from it (all were the
 * command's), and it must not be given its own path as the first argument.
 */
function ownCommandLine(): string[] {
  return IN_SEA ? process.argv.slice(2) : [...process.execArgv, ...process.argv.slice(1)];
}

function namesImage(targets: readonly unknown[]): boolean {
  return targets.some((t) => typeof t === 'string' && namesImageTarget(t));
}

/**
 * Runs this process's command line again with the fixed threshold when `command` reads images
 * and one of its parsed `targets` is an image archive or layout; resolves to that run's exit
 * code, or undefined when this process should go on itself.
 */
export async function rerunForImages(command: string, targets: readonly unknown[]): Promise<number | undefined> {
  if (process.platform !== 'linux' || process.env[MMAP_ENV] !== undefined) return undefined;
  if (!IMAGE_COMMANDS.has(command) || !namesImage(targets)) return undefined;
  const child = spawn(process.execPath, ownCommandLine(), {
    stdio: 'inherit',
    env: { ...process.env, [MMAP_ENV]: MMAP_THRESHOLD, [PARENT_ENV]: String(process.pid) },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const s of FORWARDED) process.on(s, forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
    });
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}

/**
 * In the second process: stop when the first is gone (its parent is then another process),
 * as a signal the first could not forward (SIGKILL) would otherwise leave this one running.
 */
export function watchRerunParent(): void {
  const parent = Number(process.env[PARENT_ENV]);
  if (!Number.isInteger(parent) || parent <= 0) return;
  const timer = setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
  }, WATCH_MS);
  timer.unref();
}
