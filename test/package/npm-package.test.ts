// The npm package, as a user gets it: `npm pack` (whose prepack runs `npm run build`), then
// `npm install -g` of the tarball into an empty prefix, then the installed command run from
// another folder. Node refuses to strip types under node_modules, so each run here proves the
// built JavaScript is complete: the CLI, its worker threads, the files it reads beside itself.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type RunResult, tempDir } from '../cli/run.ts';
import { withPackLock } from './pack-lock.ts';
import { runInstalled, SHIPPED_CASES } from './shipped-cases.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};
// npm and the installed launcher (`#!/usr/bin/env node`) run the first `node` on the PATH:
// this Node 24, as a user who installs k3sguard has it.
const PATH = `${dirname(process.execPath)}:${process.env.PATH}`;
const MiB = 1024 * 1024;

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('the npm package, installed from its tarball', () => {
  let work = '';
  let tarball = '';
  let prefix = '';
  let installed = '';
  let elsewhere = '';
  let env: NodeJS.ProcessEnv = {};
  const run = (args: string[], opts: { cwd?: string } = {}): RunResult =>
    runInstalled(join(prefix, 'bin', 'k3sguard'), args, opts.cwd ?? elsewhere, env);

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'k3sguard-npm-'));
    env = { ...process.env, PATH, NO_COLOR: '1', XDG_CACHE_HOME: join(work, 'cache') };
    const npm = (args: string[], cwd: string) =>
      execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env, encoding: 'utf8' });
    withPackLock(() => npm(['pack', '--pack-destination', work], ROOT));
    tarball = join(work, `${PKG.name}-${PKG.version}.tgz`);
    prefix = join(work, 'prefix');
    // The dependencies come from npm's cache when it has them (it does after `npm ci`).
    const started = Date.now();
    npm(['install', '-g', '--prefix', prefix, '--prefer-offline', tarball], work);
    const tgz = readFileSync(tarball).length;
    console.log(`npm package: ${(tgz / 1024).toFixed(0)} KiB tarball, installed in ${Date.now() - started} ms`);
    installed = join(prefix, 'lib', 'node_modules', PKG.name);
    elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds what runs and no install scripts', () => {
    const list = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    const stray = list.filter(
      (f) =>
        !/^package\/(dist\/(bin|src)\/|docs\/(examples\/)?[^/]+\.(md|json)$|README\.md$|package\.json$|npm-shrinkwrap\.json$)/.test(
          f,
        ) ||
        (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)),
    );
    assert.deepEqual(stray, []);
    for (const f of ['dist/bin/k3sguard.js', 'dist/src/cli/main.js', 'dist/src/cli/main.d.ts', 'npm-shrinkwrap.json'])
      assert.ok(list.includes(`package/${f}`), f);
    const scripts = Object.keys(PKG.scripts);
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) assert.ok(!scripts.includes(hook), hook);
  });

  test('--version, from another folder', () => {
    const r = run(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), PKG.version);
  });

  for (const c of SHIPPED_CASES) test(c.name, (t) => c.check(run, t));

  test('verify of large files: hashed by worker threads too (Hasher)', (t) => {
    const dir = tempDir(t);
    const files = [1, 2, 3, 4].map((n) => {
      const p = join(dir, `big-${n}`);
      writeFileSync(p, Buffer.alloc(12 * MiB + n, n));
      return p;
    });
    const sums = join(dir, 'SHA256SUMS');
    writeFileSync(sums, files.map((f) => `${sha256(f)}  ${f.slice(dir.length + 1)}\n`).join(''));
    const r = run(['verify', '--checksums', sums, ...files]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // The Hasher's own thread hashes as well, so the CLI run passes even without a worker:
    // here a hash worker from the installed package alone takes a job.
    const hashing = pathToFileURL(join(installed, 'dist', 'src', 'io', 'hashing.js')).href;
    const pool = pathToFileURL(join(installed, 'dist', 'src', 'io', 'worker-pool.js')).href;
    const script = [
      `import { HASH_WORKER } from ${JSON.stringify(hashing)};`,
      `import { WorkerPool } from ${JSON.stringify(pool)};`,
      `const job = { paths: ${JSON.stringify(files)}, next: new Int32Array(new SharedArrayBuffer(4)) };`,
      'const out = [];',
      'for (const [i, o] of await new WorkerPool(HASH_WORKER, 1).run(job)) out[i] = o.ok?.sha256 ?? o.message;',
      'console.log(JSON.stringify(out));',
    ].join('\n');
    const file = join(dir, 'hash-in-a-worker.mjs');
    writeFileSync(file, script);
    const out = execFileSync(process.execPath, [file], {
      cwd: elsewhere,
      env,
      encoding: 'utf8',
    });
    assert.deepEqual(JSON.parse(out), files.map(sha256));
  });

  test("sbom --self: the packages npm installed, with the shipped lock file's hashes", () => {
    const r = run(['sbom', '--self']);
    assert.equal(r.code, 0, r.stderr);
    const bom = JSON.parse(r.stdout);
    assert.equal(bom.metadata.component.version, PKG.version);
    const listed = new Set<string>(
      bom.components.map((c: { name: string; version: string }) => `${c.name}@${c.version}`),
    );
    for (const name of Object.keys(PKG.dependencies))
      assert.ok(
        [...listed].some((l) => l.startsWith(`${name}@`)),
        name,
      );
    // Every package listed is one installed, and nothing installed is missing (npm may resolve
    // afresh: it obeys npm-shrinkwrap.json only when the registry says there is one). A name
    // can be installed at two versions (fast-uri: one for ajv, one nested under fastify's).
    const installedPackages = new Set<string>();
    const walk = (modules: string) => {
      if (!existsSync(modules)) return;
      for (const entry of readdirSync(modules)) {
        if (entry.startsWith('.')) continue;
        const names = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((n) => `${entry}/${n}`) : [entry];
        for (const name of names) {
          installedPackages.add(
            `${name}@${JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')).version}`,
          );
          walk(join(modules, name, 'node_modules'));
        }
      }
    };
    walk(join(installed, 'node_modules'));
    assert.deepEqual([...listed].sort(), [...installedPackages].sort());
    // A hash from the lock file only for the locked version: never a hash of another tarball.
    const lock = JSON.parse(readFileSync(join(installed, 'npm-shrinkwrap.json'), 'utf8')) as {
      packages: Record<string, { version?: string; integrity?: string }>;
    };
    const locked = new Map<string, string>();
    for (const [path, p] of Object.entries(lock.packages))
      if (p.integrity && p.version)
        locked.set(
          `${path.slice(path.lastIndexOf('node_modules/') + 13)}@${p.version}`,
          Buffer.from(p.integrity.replace(/^sha512-/, ''), 'base64').toString('hex'),
        );
    let hashed = 0;
    for (const c of bom.components as Array<{ name: string; version: string; hashes?: Array<{ content: string }> }>) {
      const want = locked.get(`${c.name}@${c.version}`);
      assert.deepEqual(c.hashes?.map((h) => h.content) ?? [], want ? [want] : [], c.name);
      if (want) hashed++;
    }
    assert.ok(hashed > 0);
  });

  const older = '/usr/bin/node';
  const olderVersion = existsSync(older) ? spawnSync(older, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
  test("an older Node gets the launcher's one line and exit 2", {
    skip: !olderVersion
      ? `no ${older} on this machine`
      : Number(olderVersion.slice(1).split('.')[0]) >= 24 && `${older} is ${olderVersion}, not older than 24`,
  }, () => {
    const r = spawnSync(join(prefix, 'bin', 'k3sguard'), ['--version'], {
      cwd: elsewhere,
      env: { ...env, PATH: `${dirname(older)}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `k3sguard: needs Node.js 24 or newer, found ${olderVersion.slice(1)}: get it from https://nodejs.org/en/download\n`,
    );
  });
});
