// End to end, through the real CLI, on the K3s-shaped binaries the fixtures build: a real
// Go wrapper embedding a real zstd/tar bundle of real Go binaries, and its tampered copies.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type K3sShaped, k3sShaped } from '../fixtures/k3s-shaped.ts';
import { validateCycloneDx, validateSpdx } from '../report/schemas.ts';
import { assertInputError, k3sguard, tempDir } from './run.ts';

interface JsonComponent {
  type: string;
  name: string;
  path?: string;
  sha256?: string;
  version?: string;
  purl?: string;
  module?: { path: string; version: string; sum?: string };
  replacement?: { path: string; version: string; sum?: string };
  upstream?: { path: string; version: string };
  declaredHash?: string;
  binary?: { format: string; buildInfo?: { goVersion: string; main?: unknown } };
  k3s?: { version?: string; commit?: string; source: string };
  children?: JsonComponent[];
  target?: string;
}

async function fixture(
  t: { skip: (m: string) => void },
  variant: Parameters<typeof k3sShaped>[0],
): Promise<K3sShaped | undefined> {
  const f = await k3sShaped(variant);
  if ('skip' in f) {
    t.skip(f.skip);
    return undefined;
  }
  return f;
}

function bundleOf(c: JsonComponent): JsonComponent {
  const b = c.children?.find((x) => x.type === 'k3s-bundle');
  assert.ok(b, `no bundle under ${c.name}`);
  return b;
}

test('inspect prints the wrapper, the bundle hash, the K3s version and every bundled binary with its modules', async (t) => {
  const f = await fixture(t, 'good');
  if (!f) return;
  const r = k3sguard(['inspect', f.path]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /K3s v1\.31\.4\+k3s1, commit 8d0f5e37 \(from -ldflags\)/);
  assert.ok(r.stdout.includes(`bundle ${f.bundleHash}`), 'bundle hash');
  assert.match(r.stdout, /sha256 matches its name/);
  for (const m of f.members) {
    if (m.type === 'file' && !m.name.includes('/.'))
      assert.ok(r.stdout.includes(m.name.replace(/^\.\//, '')), `member ${m.name}`);
  }
  assert.match(
    r.stdout,
    /k8s\.io\/kubernetes v1\.31\.4 => github\.com\/k3s-io\/kubernetes v1\.31\.4-k3s1 {2}\[fork of k8s\.io\/kubernetes v1\.31\.4\]/,
  );
  assert.match(r.stdout, /github\.com\/opencontainers\/runc v1\.1\.5/);
  assert.match(r.stdout, /0 findings/);
});

test('inspect --json: identity, bundle, every member hashed as packed, inner module list as built', async (t) => {
  const f = await fixture(t, 'good');
  if (!f) return;
  const r = k3sguard(['inspect', '--json', f.path]);
  assert.equal(r.code, 0, r.stderr);
  const inv = JSON.parse(r.stdout);
  const root: JsonComponent = inv.root;
  assert.deepEqual(inv.findings, []);
  assert.deepEqual(root.k3s, {
    modulePath: 'github.com/k3s-io/k3s',
    version: 'v1.31.4+k3s1',
    commit: '8d0f5e37',
    source: 'ldflags',
  });
  const mainMod = root.children?.find((c) => c.type === 'go-module' && c.module?.path === 'github.com/k3s-io/k3s');
  assert.equal(mainMod?.version, 'v1.31.4+k3s1', '(devel) is never the version');
  assert.equal(mainMod?.purl, 'pkg:golang/github.com/k3s-io/k3s@v1.31.4%2Bk3s1');

  const bundle = bundleOf(root);
  assert.equal(bundle.declaredHash, f.bundleHash);
  assert.equal(bundle.sha256, f.bundleHash);
  const byPath = new Map((bundle.children ?? []).map((c) => [c.path, c]));
  for (const m of f.members) {
    const name = m.name.replace(/\/$/, '');
    if (m.type === 'file') assert.equal(byPath.get(name)?.sha256, m.sha256, name);
    if (m.type === 'symlink') assert.equal(byPath.get(name)?.target, m.target, name);
  }

  const inner = byPath.get(f.inner.member);
  assert.equal(inner?.k3s?.version, 'v1.31.4+k3s1');
  const mods = (inner?.children ?? []).filter(
    (c) => c.type === 'go-module' && c.module?.path !== 'github.com/k3s-io/k3s',
  );
  const got = mods.map((c) => ({
    path: c.module?.path,
    version: c.module?.version,
    sum: c.module?.sum,
    replace: c.replacement,
  }));
  const want = f.inner.modules
    .filter((m) => m.path !== 'github.com/k3s-io/k3s')
    .map((m) => ({ path: m.path, version: m.version, sum: m.sum, replace: m.replace }));
  assert.deepEqual(
    got.map((m) => JSON.stringify(m, Object.keys(m).sort())),
    want.map((m) => JSON.stringify(m, Object.keys(m).sort())),
  );
  const upstream = Object.fromEntries(mods.filter((c) => c.upstream).map((c) => [c.module?.path, c.upstream?.version]));
  assert.equal(upstream['k8s.io/kubernetes'], 'v1.31.4');
  assert.equal(upstream['k8s.io/client-go'], 'v0.31.4');
  assert.equal(upstream['github.com/containerd/containerd'], 'v1.7.23');
  assert.equal(upstream['go.etcd.io/etcd/server/v3'], 'v3.5.16');
  const stdlib = inner?.children?.find((c) => c.type === 'go-stdlib');
  assert.equal(stdlib?.version, f.goVersion);

  // Debian's runc is a GOPATH build: a Go binary with no module list, said so rather than invented.
  const runc = [...byPath.values()].find((c) => c.path === 'bin/runc');
  assert.equal(runc?.binary?.format, 'go');
  assert.equal(runc?.binary?.buildInfo?.main, undefined);
});

test('sbom: CycloneDX 1.6 and SPDX 2.3 of the K3s-shaped binary are schema-valid', async (t) => {
  const f = await fixture(t, 'good');
  if (!f) return;
  const cdx = k3sguard(['sbom', f.path, '--format', 'cyclonedx-json']);
  assert.equal(cdx.code, 0, cdx.stderr);
  assert.deepEqual(validateCycloneDx(cdx.stdout), []);
  assert.ok(cdx.stdout.includes('pkg:golang/github.com/k3s-io/kubernetes@v1.31.4-k3s1'));
  const spdx = k3sguard(['sbom', f.path, '--format', 'spdx-json']);
  assert.equal(spdx.code, 0, spdx.stderr);
  const errors = validateSpdx(spdx.stdout);
  if (!Array.isArray(errors)) return t.skip(errors.skip);
  assert.deepEqual(errors, []);
});

test('one byte flipped in the embedded frame is a critical finding, exit 1', async (t) => {
  const f = await fixture(t, 'frame-byte-flipped');
  if (!f) return;
  const r = k3sguard(['inspect', '--json', f.path]);
  assert.equal(r.code, 1, r.stderr);
  const ids = JSON.parse(r.stdout).findings.map((x: { id: string }) => x.id);
  assert.ok(ids.includes('K3SG-BUNDLE-HASH'), ids.join(','));
});

test('a member changed after .sha256sums was written is a finding on that member', async (t) => {
  const f = await fixture(t, 'member-changed');
  if (f?.tamper.kind !== 'member-changed') return;
  const r = k3sguard(['inspect', '--json', f.path]);
  assert.equal(r.code, 1, r.stderr);
  const findings = JSON.parse(r.stdout).findings as Array<{ id: string; location: string[] }>;
  assert.deepEqual(
    findings.map((x) => [x.id, x.location.at(-1)]),
    [['K3SG-BUNDLE-MEMBER-MODIFIED', f.tamper.member.replace(/^\.\//, '')]],
  );
  const table = k3sguard(['inspect', f.path]);
  assert.equal(table.code, 1);
  assert.match(table.stdout, /CRITICAL +K3SG-BUNDLE-MEMBER-MODIFIED/);
  const sbom = k3sguard(['sbom', f.path]);
  assert.equal(sbom.code, 1, 'sbom exits 1 on findings too');
  assert.match(sbom.stderr, /K3SG-BUNDLE-MEMBER-MODIFIED/);
});

test('truncated K3s binaries are one line, exit 2', async (t) => {
  for (const variant of ['truncated', 'truncated-after-frame'] as const) {
    const f = await fixture(t, variant);
    if (!f) return;
    assertInputError(k3sguard(['inspect', f.path]), f.path, /truncat|corrupt/i);
  }
});

test('an extracted data/<hash> dir is checked the same way, and later tampering shows', async (t) => {
  const f = await fixture(t, 'good');
  if (!f) return;
  const dir = tempDir(t);
  const data = join(dir, 'data', f.bundleHash);
  mkdirSync(data, { recursive: true });
  // Extract with the real tools, as K3s would (zstd + tar), from the frame inside the binary.
  execFileSync('bash', [
    '-c',
    `tail -c +${f.frame.offset + 1} "$0" | head -c ${f.frame.length} | zstd -dc --long=25 | tar -x -C "$1"`,
    f.path,
    data,
  ]);
  const clean = k3sguard(['inspect', '--json', data]);
  assert.equal(clean.code, 0, clean.stderr);
  const inv = JSON.parse(clean.stdout);
  assert.equal(inv.targetKind, 'k3s-data-dir');
  assert.equal(inv.root.declaredHash, f.bundleHash);
  const inner = inv.root.children.find((c: JsonComponent) => c.path === f.inner.member);
  assert.equal(inner.k3s.version, 'v1.31.4+k3s1');

  appendFileSync(join(data, 'bin', 'runc'), 'backdoor');
  rmSync(join(data, 'bin', 'check-config'));
  rmSync(join(data, 'bin', 'ctr'));
  symlinkSync('/tmp/evil', join(data, 'bin', 'ctr'));
  const tampered = k3sguard(['inspect', '--json', join(dir, 'data')]);
  assert.equal(tampered.code, 1, tampered.stderr);
  const ids = JSON.parse(tampered.stdout)
    .findings.map((x: { id: string; location: string[] }) => `${x.id} ${x.location.at(-1)}`)
    .sort();
  assert.ok(ids.includes('K3SG-BUNDLE-MEMBER-MODIFIED bin/runc'), ids.join('\n'));
  assert.ok(ids.includes('K3SG-BUNDLE-MEMBER-MISSING bin/check-config'), ids.join('\n'));
  assert.ok(
    ids.some(
      (s: string) =>
        s.startsWith('K3SG-BUNDLE-LINK-MISMATCH bin/ctr') || s.startsWith('K3SG-BUNDLE-SYMLINK-ESCAPE bin/ctr'),
    ),
    ids.join('\n'),
  );
});
