// Run the real CLI as a child process, as a user or a pipeline would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * `dir/vulndb.sqlite`, imported by the CLI from one OSV record (GO-2099-0001, for a module no
 * binary has): a database for commands that need one and a clean scan.
 */
export function oneRecordDb(dir: string): string {
  const record = join(dir, 'GO-2099-0001.json');
  writeFileSync(
    record,
    JSON.stringify({
      schema_version: '1.6.0',
      id: 'GO-2099-0001',
      modified: '2024-01-01T00:00:00Z',
      summary: 'a record for the test',
      affected: [
        {
          package: { ecosystem: 'Go', name: 'example.com/nothing' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }],
        },
      ],
    }),
  );
  const db = join(dir, 'vulndb.sqlite');
  const imported = k3sguard(['db', 'import', '--no-progress', '--db', db, record]);
  if (imported.code !== 0) throw new Error(`db import of the test record failed: ${imported.stderr}`);
  return db;
}

/** The contract for a refused command: exit 2, one line on stderr matching `problem`, nothing on stdout. */
export function assertOneLineError(r: RunResult, problem: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] as string, problem);
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
