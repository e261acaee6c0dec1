import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { realBinary } from '../fixtures/realbins.ts';
import { assertInputError, k3sguard, tempDir } from './run.ts';

test('--version and --help exit 0', () => {
  assert.equal(k3sguard(['--version']).code, 0);
  const help = k3sguard(['inspect', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--max-bundle-size/);
});

test('unknown command, unknown option and bad values exit 2', () => {
  assert.equal(k3sguard(['frobnicate']).code, 2);
  assert.equal(k3sguard(['inspect', '--bogus', 'x']).code, 2);
  assert.equal(k3sguard(['sbom', 'x', '--format', 'xml']).code, 2);
  assert.equal(k3sguard(['inspect', 'x', '--max-bundle-size', 'lots']).code, 2);
});

test('a missing target is one line naming it, exit 2', () => {
  assertInputError(k3sguard(['inspect', '/nonexistent/k3s']), '/nonexistent/k3s', /no such file/);
});

test('a file that is not an ELF is refused, never guessed', (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'install.sh');
  writeFileSync(script, '#!/bin/sh\necho installing k3s\n');
  assertInputError(k3sguard(['inspect', script]), script, /not a Go ELF binary/);
  const data = join(dir, 'random.bin');
  writeFileSync(data, Buffer.alloc(4096, 7));
  assertInputError(k3sguard(['inspect', data]), data, /not a Go ELF binary/);
});

test('an ELF that is not a Go binary is refused', () => {
  assertInputError(k3sguard(['inspect', '/bin/ls']), '/bin/ls', /not a Go binary/);
});

test('a truncated Go binary is one line, exit 2', (t) => {
  const bin = realBinary('esbuild-0.24.2');
  if ('skip' in bin) return t.skip(bin.skip);
  const dir = tempDir(t);
  const cut = join(dir, 'esbuild-cut');
  const whole = Buffer.from(readFileSync(bin.path));
  for (const size of [40, 3000, Math.floor(whole.length / 2)]) {
    writeFileSync(cut, whole.subarray(0, size));
    assertInputError(k3sguard(['inspect', cut]), cut, /truncat|corrupt/i);
  }
});

test('a folder with a symlink loop (a -> b -> a) is one line naming the link, exit 2', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'bin'));
  symlinkSync('b', join(dir, 'bin', 'a'));
  symlinkSync('a', join(dir, 'bin', 'b'));
  assertInputError(k3sguard(['inspect', dir]), join(dir, 'bin', 'a'), /symlink loop/);
});

test('a link back up the tree (like /usr/bin/X11 -> .) is listed, never followed', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'sub'));
  symlinkSync('..', join(dir, 'sub', 'up'));
  symlinkSync('.', join(dir, 'X11'));
  const r = k3sguard(['inspect', '--json', dir]);
  assert.equal(r.code, 0, r.stderr);
  const inv = JSON.parse(r.stdout);
  const names = inv.root.children.map((c: { name: string; type: string }) => `${c.name}:${c.type}`);
  assert.deepEqual(names, ['X11:symlink', 'sub:directory']);
  assert.deepEqual(
    inv.root.children[1].children.map((c: { target: string }) => c.target),
    ['..'],
  );
});

test('a folder of binaries lists each file; non-Go files are named, not errors', (t) => {
  const bin = realBinary('esbuild-0.24.2');
  if ('skip' in bin) return t.skip(bin.skip);
  const dir = tempDir(t);
  copyFileSync(bin.path, join(dir, 'esbuild'));
  writeFileSync(join(dir, 'README'), 'hello\n');
  symlinkSync('esbuild', join(dir, 'link'));
  const r = k3sguard(['inspect', '--json', dir]);
  assert.equal(r.code, 0, r.stderr);
  const inv = JSON.parse(r.stdout);
  assert.equal(inv.targetKind, 'directory');
  const byName = Object.fromEntries(inv.root.children.map((c: { name: string }) => [c.name, c]));
  assert.equal(byName.esbuild.binary.format, 'go');
  assert.equal(byName.esbuild.binary.buildInfo.goVersion, 'go1.23.1');
  assert.equal(byName.README.binary.format, 'other');
  assert.equal(byName.link.type, 'symlink');
  assert.equal(byName.link.target, 'esbuild');
});

test('-o writes the file atomically, and an error writes nothing', (t) => {
  const bin = realBinary('esbuild-0.24.2');
  if ('skip' in bin) return t.skip(bin.skip);
  const dir = tempDir(t);
  const out = join(dir, 'inv.json');
  const r = k3sguard(['inspect', '--json', bin.path, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).root.binary.format, 'go');
  const out2 = join(dir, 'never.json');
  assertInputError(k3sguard(['sbom', '/nonexistent', '-o', out2]), '/nonexistent', /no such file/);
  assert.equal(existsSync(out2), false);
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o500);
  if (process.getuid?.() !== 0) {
    assertInputError(k3sguard(['inspect', bin.path, '-o', join(ro, 'x.json')]), 'x.json', /cannot write/);
  }
  assert.deepEqual(readdirSync(ro), []);
});

test('sbom --self: the tool and its runtime packages, schema-valid, dev tools left out', async () => {
  const { validateCycloneDx, validateSpdx } = await import('../report/schemas.ts');
  const cdx = k3sguard(['sbom', '--self']);
  assert.equal(cdx.code, 0, cdx.stderr);
  assert.deepEqual(validateCycloneDx(cdx.stdout), []);
  const bom = JSON.parse(cdx.stdout);
  const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8'));
  // One component per name@version: two nested copies of one version (fastify's fast-uri) are
  // one package, and one bom-ref.
  const runtime = [
    ...new Set(
      Object.entries(lock.packages as Record<string, { dev?: boolean; devOptional?: boolean; version: string }>)
        .filter(([path, p]) => path !== '' && !p.dev && !p.devOptional)
        .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')}@${p.version}`),
    ),
  ].sort();
  assert.ok(runtime.length > 0);
  assert.deepEqual(
    bom.components.map((c: { name: string; version: string }) => `${c.name}@${c.version}`).sort(),
    runtime,
  );
  assert.equal(bom.metadata.component.name, 'k3sguard');
  assert.ok(!cdx.stdout.includes('typescript'), 'dev dependencies are not in the SBOM');
  for (const c of bom.components) assert.match(c.hashes[0].content, /^[0-9a-f]{128}$/);
  const spdx = k3sguard(['sbom', '--self', '--format', 'spdx-json']);
  assert.equal(spdx.code, 0, spdx.stderr);
  const errors = validateSpdx(spdx.stdout);
  if (Array.isArray(errors)) assert.deepEqual(errors, []);
  assert.equal(k3sguard(['sbom']).code, 2);
  assert.equal(k3sguard(['sbom', '--self', '/bin/ls']).code, 2);
});
