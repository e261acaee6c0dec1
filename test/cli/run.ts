// Run the real CLI as a child process, as a user or a pipeline would.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI = resolve(import.meta.dirname, '..', '..', 'bin', 'k3sguard.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI to its end. `timeout` (ms) bounds a run that must not hang (a FIFO given as
 * input): a killed child has no exit code, so the test fails on the code, not on the time.
 */
export function k3sguard(args: string[], opts: { cwd?: string; timeout?: number } = {}): RunResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1' },
    timeout: opts.timeout ?? 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temp dir, removed after the test. */
export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'k3sguard-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The contract for unreadable input: exit 2, one line on stderr naming the file, nothing on stdout. */
export function assertInputError(r: RunResult, file: string, problem: RegExp): void {
  const lines = r.stderr.trimEnd().split('\n');
  if (
    r.code !== 2 ||
    lines.length !== 1 ||
    !lines[0]?.includes(file) ||
    !problem.test(lines[0] ?? '') ||
    r.stdout !== ''
  ) {
    throw new Error(
      `expected exit 2 and one stderr line naming ${file} and matching ${problem}; got exit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(0, 500)}`,
    );
  }
}
