// What every shipped form of k3sguard must do as it is installed (the npm package, the single
// executable): one list, run by each form's test file with its own way to start the command,
// so a form cannot quietly be tested for less than another.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type RunResult, tempDir } from '../cli/run.ts';
import { realBinary, SHARED_DATA } from '../fixtures/realbins.ts';

/** The installed command, run with `args` (in `cwd`, else a folder of the form's choosing). */
export type RunShipped = (args: string[], opts?: { cwd?: string }) => RunResult;

/** Runs the installed `command` as a user would: its exit code and both outputs, whole. */
export function runInstalled(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): RunResult {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

export const SHIPPED_CASES: ReadonlyArray<{ name: string; check: (run: RunShipped, t: TestContext) => void }> = [
  {
    name: 'inspect of a real Go binary',
    check: (run, t) => {
      const bin = realBinary('esbuild-0.24.2');
      if ('skip' in bin) return t.skip(bin.skip);
      const r = run(['inspect', '--json', bin.path]);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.equal(doc.root.sha256, sha256(bin.path));
      assert.match(r.stdout, /github\.com\/evanw\/esbuild/);
      assert.match(r.stdout, /go1\.23\.1/);
    },
  },
  {
    // A folder is always scanned by the pool (ScanPool), which has no other way in: a worker
    // that cannot load its entry fails the run.
    name: 'a folder: its files scanned by worker threads',
    check: (run, t) => {
      const dir = tempDir(t);
      const files: string[] = [];
      for (let i = 0; i < 12; i++) {
        const p = join(dir, `data-${i}`);
        writeFileSync(p, Buffer.alloc(64 * 1024 + i, i));
        files.push(p);
      }
      const r = run(['inspect', '--json', dir]);
      assert.equal(r.code, 0, r.stderr);
      const children = JSON.parse(r.stdout).root.children as Array<{ name: string; sha256: string }>;
      assert.deepEqual(
        children.map((c) => [c.name, c.sha256]).sort(),
        files.map((f) => [f.slice(dir.length + 1), sha256(f)]).sort(),
      );
    },
  },
  {
    name: 'audit iac of enough files for its worker threads',
    check: (run, t) => {
      const dir = tempDir(t);
      // Below 64 files the audit stays on its own thread.
      const names = Array.from({ length: 70 }, (_, i) => `config-${i}.yaml`);
      for (const [i, name] of names.entries())
        writeFileSync(join(dir, name), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c${i}\ndata:\n  a: "b"\n`);
      const r = run(['audit', 'iac', '--format', 'json', '.'], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const audit = JSON.parse(r.stdout);
      assert.deepEqual(audit.findings, []);
      assert.deepEqual([...audit.filesAudited].sort(), names.sort());
    },
  },
  {
    name: 'db import and scan (node:sqlite)',
    check: (run, t) => {
      const govulndb = join(SHARED_DATA, 'govulndb');
      if (!existsSync(govulndb)) return t.skip(`no ${govulndb} to import a database from`);
      const bin = realBinary('esbuild-0.24.2');
      if ('skip' in bin) return t.skip(bin.skip);
      const db = join(tempDir(t), 'vulndb.sqlite');
      const imported = run(['db', 'import', '--no-progress', '--db', db, govulndb]);
      assert.equal(imported.code, 0, imported.stderr);
      const r = run(['scan', '--db', db, '--format', 'json', bin.path]);
      assert.equal(r.code, 1, r.stderr);
      const findings = JSON.parse(r.stdout).findings as unknown[];
      assert.ok(findings.length > 0, 'go1.23.1 has standard library advisories');
    },
  },
];
