// Reading an image holds each large binary of its layers whole for a moment. When glibc frees
// such a buffer it raises its mmap threshold (up to 32 MiB), and from then on the 1 MiB decode
// buffers come from the heap, which fragments and does not shrink: an airgap archive's peak RSS
// then passes the 300 MB the image bench holds it to. A fixed threshold keeps them in mmap, but
// glibc reads it only at start-up, so a command whose parsed target is an image archive or
// layout runs once more with it. Nothing else pays the second start.
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { detectTarget, isImageTarget } from '../io/target.ts';

const MMAP_ENV = 'MALLOC_MMAP_THRESHOLD_';
const MMAP_THRESHOLD = String(1024 * 1024);

/** The commands that read image targets, by their path below `k3sguard`. */
const IMAGE_COMMANDS = new Set(['inspect', 'sbom', 'scan', 'verify', 'lock add']);

function namesImage(targets: readonly unknown[]): boolean {
  return targets.some((t) => {
    if (typeof t !== 'string') return false;
    try {
      return isImageTarget(detectTarget(t));
    } catch {
      return false; // the command reports a target it cannot read
    }
  });
}

/**
 * Runs this process's command line again with the fixed threshold when `command` reads images
 * and one of its parsed `targets` is an image archive or layout; returns that run's exit code,
 * or undefined when this process should go on itself.
 */
export function rerunForImages(command: string, targets: readonly unknown[]): number | undefined {
  if (process.platform !== 'linux' || process.env[MMAP_ENV] !== undefined) return undefined;
  if (!IMAGE_COMMANDS.has(command) || !namesImage(targets)) return undefined;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [MMAP_ENV]: MMAP_THRESHOLD },
  });
  if (r.error) throw r.error;
  if (r.status !== null) return r.status;
  return 128 + (r.signal ? constants.signals[r.signal] : 0);
}
