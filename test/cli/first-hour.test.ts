// What a new user meets in the first hour (issue 11, item 12): help without arguments, a
// folder of mostly non-Go files, several targets, the same format names on every command, a
// first `db update` without the network, and the words of a one-check verify.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertInputError, k3sguard, oneRecordDb, tempDir } from './run.ts';

/** A folder of what /usr/bin mostly holds: scripts, C programs (one in a subfolder), symlinks. */
function folderOfNonGo(t: { after: (fn: () => void) => void }): string {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'install.sh'), '#!/bin/sh\necho hi\n');
  copyFileSync('/bin/ls', join(dir, 'ls'));
  symlinkSync('install.sh', join(dir, 'setup'));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib', 'helper.sh'), '#!/bin/sh\n');
  return dir;
}

test('no arguments: the help on stdout, exit 0', () => {
  const r = k3sguard([]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: k3sguard/);
  assert.equal(r.stderr, '');
});

test('inspect of a folder counts its non-Go files and symlinks in one line; --verbose lists them; JSON keeps them', (t) => {
  const dir = folderOfNonGo(t);
  const table = k3sguard(['inspect', '--no-progress', dir]);
  assert.equal(table.code, 0, table.stderr);
  assert.doesNotMatch(table.stdout, /not a Go binary:|· not a Go binary/);
  assert.doesNotMatch(table.stdout, /install\.sh|lib\/|setup/, 'nothing but counted entries: not listed');
  assert.match(table.stdout, /^not listed: 3 files that are not Go binaries, 1 symlink \(--verbose lists them\)$/m);
  assert.match(table.stdout, /Summary: 3 files, 0 Go binaries/);

  const verbose = k3sguard(['inspect', '--no-progress', '--verbose', dir]);
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stdout, /^ {2}install\.sh {2}not a Go binary: /m);
  assert.match(verbose.stdout, /^ {2}ls {2}ELF \S+ · not a Go binary/m);
  assert.match(verbose.stdout, /^ {2}lib\/\n {4}lib\/helper\.sh {2}not a Go binary/m);
  assert.match(verbose.stdout, /^ {2}setup -> install\.sh$/m);
  assert.doesNotMatch(verbose.stdout, /not listed/);

  const json = JSON.parse(k3sguard(['inspect', '--json', dir]).stdout);
  assert.deepEqual(
    json.root.children.map((c: { name: string }) => c.name),
    ['install.sh', 'lib', 'ls', 'setup'],
  );
});

test('an absolute folder target is printed as given, not relative to the working directory', (t) => {
  const dir = folderOfNonGo(t);
  const elsewhere = tempDir(t);
  const table = k3sguard(['inspect', '--no-progress', `${dir}/`], { cwd: elsewhere });
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/$`, 'm'));
  assert.doesNotMatch(table.stdout, /\.\.\//);
  const json = JSON.parse(k3sguard(['inspect', '--json', dir], { cwd: elsewhere }).stdout);
  assert.equal(json.root.path, dir);
});

test('inspect takes several targets: tables one after another, JSON an array in the order named', (t) => {
  const a = folderOfNonGo(t);
  const b = folderOfNonGo(t);
  const table = k3sguard(['inspect', '--no-progress', a, b]);
  assert.equal(table.code, 0, table.stderr);
  const targets = [...table.stdout.matchAll(/^TARGET (.*) \(directory\)$/gm)].map((m) => m[1]);
  assert.deepEqual(targets, [a, b]);
  assert.equal(table.stdout.match(/^Summary: /gm)?.length, 2);

  const json = k3sguard(['inspect', '--json', a, b]);
  assert.equal(json.code, 0, json.stderr);
  const list = JSON.parse(json.stdout);
  assert.ok(Array.isArray(list));
  assert.deepEqual(
    list.map((inv: { schema: string; target: string }) => [inv.schema, inv.target]),
    [
      ['k3sguard/inventory@1', a],
      ['k3sguard/inventory@1', b],
    ],
  );
  // One target: the inventory document itself, as before.
  assert.equal(JSON.parse(k3sguard(['inspect', '--json', a]).stdout).target, a);
});

test('inspect with a missing second target: one line naming it, before any output', (t) => {
  const a = folderOfNonGo(t);
  const missing = join(a, 'nonexistent');
  assertInputError(k3sguard(['inspect', '--no-progress', a, missing]), missing, /no such file/);
});

test('sbom of several targets is refused, saying why', (t) => {
  const a = folderOfNonGo(t);
  assertInputError(k3sguard(['sbom', '--no-progress', a, a]), 'sbom takes one target', /once per target/);
});

test('sbom accepts cyclonedx and spdx as well as cyclonedx-json and spdx-json', (t) => {
  const a = folderOfNonGo(t);
  for (const [format, check] of [
    ['cyclonedx', (d: Record<string, unknown>) => d.bomFormat === 'CycloneDX'],
    ['cyclonedx-json', (d: Record<string, unknown>) => d.bomFormat === 'CycloneDX'],
    ['spdx', (d: Record<string, unknown>) => d.spdxVersion === 'SPDX-2.3'],
    ['spdx-json', (d: Record<string, unknown>) => d.spdxVersion === 'SPDX-2.3'],
  ] as const) {
    const r = k3sguard(['sbom', '--no-progress', '--format', format, a]);
    assert.equal(r.code, 0, `${format}: ${r.stderr}`);
    assert.ok(check(JSON.parse(r.stdout)), format);
  }
  assert.equal(k3sguard(['sbom', '--format', 'cyclonedx-xml', a]).code, 2);
});

test('scan takes --json (as inspect, audit and advisories do) and --format cyclonedx-json', (t) => {
  const dir = tempDir(t);
  const db = oneRecordDb(dir);
  const target = folderOfNonGo(t);

  const json = k3sguard(['scan', '--no-progress', '--db', db, '--json', target]);
  assert.equal(json.code, 0, json.stderr);
  const formatJson = k3sguard(['scan', '--no-progress', '--db', db, '--format', 'json', target]);
  assert.equal(JSON.parse(json.stdout).schema, 'k3sguard/scan@1');
  assert.deepEqual(JSON.parse(json.stdout), JSON.parse(formatJson.stdout));

  const cdx = k3sguard(['scan', '--no-progress', '--db', db, '--format', 'cyclonedx-json', target]);
  assert.equal(cdx.code, 0, cdx.stderr);
  const bom = JSON.parse(cdx.stdout);
  assert.equal(bom.bomFormat, 'CycloneDX');
  assert.ok(Array.isArray(bom.vulnerabilities));
});

test('db update without the network and without a database says there is none, and names db import', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'vulndb.sqlite');
  // A port nobody listens on: the download fails as it does offline.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as { port: number };
  await new Promise((resolve) => closed.close(resolve));
  const source = `http://127.0.0.1:${port}/Go/all.zip`;
  const r = k3sguard(['db', 'update', '--no-progress', '--db', db, '--source', source]);
  assertInputError(r, source, /cannot connect.*no database was written.*k3sguard db import PATH/);
  assert.doesNotMatch(r.stderr, /previous database/);
});

test('verify of one file against its sums: "the one check passed", not "all 1 checks"', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'k3s');
  writeFileSync(file, 'not really k3s\n');
  const sums = join(dir, 'sha256sum-amd64.txt');
  writeFileSync(sums, `${createHash('sha256').update(readFileSync(file)).digest('hex')}  k3s\n`);
  const r = k3sguard(['verify', '--checksums', sums, file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^verified: the one check passed$/m);
  assert.doesNotMatch(r.stdout, /all 1 checks/);
});
