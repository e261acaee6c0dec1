// matchRecords over inventories, on the real records: the must-hold cases and the
// K3s-specific rules (stdlib, toolchain, platforms, withdrawn, aliases, forks, devel).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildInventory } from '../../src/inventory/build.ts';
import { type Finding, walk } from '../../src/model/inventory.ts';
import { aliasLookupFromRecords, lookupFromRecords } from '../../src/scan/lookup.ts';
import { matchRecords } from '../../src/scan/match.ts';
import { GO_ORDER } from '../../src/scan/orders.ts';
import { matchPackage } from '../../src/scan/records.ts';
import { k3sShaped } from '../fixtures/k3s-shaped.ts';
import { realBinary } from '../fixtures/realbins.ts';
import { type BinarySpec, dep, goBinary, goV, k3sIdentity, mutated, realRecords, record } from './osv-fixture.ts';

const ids = (fs: Finding[]): string[] => fs.map((f) => f.id);

function scan(spec: BinarySpec, lookup = realRecordsOrThrow().lookup): Finding[] {
  return matchRecords(goBinary(spec), lookup);
}

function realRecordsOrThrow() {
  const recs = realRecords();
  if ('skip' in recs) throw new Error(recs.skip);
  return recs;
}

const RUNC = 'github.com/opencontainers/runc';

test('the K3s-shaped binary: runc GO-2024-2491 at its path inside the bundle, stdlib for Go 1.19.8', async (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const built = await k3sShaped('good');
  if ('skip' in built) return t.skip(built.skip);
  const inv = await buildInventory(built.path);
  const findings = matchRecords(inv.root, recs.lookup);
  const runc = findings.filter((f) => f.id === 'GO-2024-2491');
  assert.equal(runc.length, 1, 'one finding: the inner k3s builds runc v1.1.5 in');
  const f = runc[0] as Finding;
  assert.equal(f.location.length, 3);
  assert.equal(f.location[0], 'k3s');
  assert.match(f.location[1] as string, /^bundle:[0-9a-f]{64}$/);
  assert.equal(f.location[2], 'bin/k3s');
  const component = [...walk(inv.root)].find(({ component: c }) => c.ref === f.component)?.component;
  assert.equal(component?.type === 'go-module' && component.module.path, RUNC);
  assert.deepEqual(f.vulnerability?.ids, ['GO-2024-2491', 'GHSA-xr7r-f8xq-vfvv', 'CVE-2024-21626']);
  assert.equal(f.vulnerability?.version, '1.1.5');
  assert.equal(f.vulnerability?.fixed, '1.1.12');
  assert.equal(f.vulnerability?.via, 'module');
  assert.equal(f.vulnerability?.reachability, 'unknown');
  assert.equal(f.severity, 'unknown', 'the Go vulndb gives no CVSS; none is invented');
  assert.match(f.message, /1\.1\.5.*fixed in 1\.1\.12.*upgrade K3s \(it ships in K3s v1\.31\.4\+k3s1\)/);
  // Debian's runc, bundled as bin/runc (go1.19.8, no module list): its standard library.
  const stdlib = findings.filter((x) => x.location.at(-1) === 'bin/runc');
  assert.ok(stdlib.length > 20, `${stdlib.length} stdlib findings for bin/runc`);
  assert.ok(stdlib.every((x) => x.vulnerability?.via === 'stdlib' && x.vulnerability.version === '1.19.8'));
  assert.ok(ids(stdlib).includes('GO-2023-1751'), 'html/template, fixed in 1.19.9');
  // The wrapper's own K3s version: GO-2026-5973 (before 1.33.10) but not GO-2025-3646 (1.32 only).
  const k3s = findings.filter((x) => x.vulnerability?.via === 'k3s' && x.location.length === 1);
  assert.deepEqual(ids(k3s), ['GO-2026-5973']);
});

test('Debian binaries built by Go 1.19.8 get exactly the stdlib records whose ranges hold 1.19.8', async (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  // An independent reading of the ranges: the vulndb lists events as introduced/fixed pairs.
  const holds = (events: Array<Record<string, string>>, v: string): boolean => {
    let affected = false;
    for (const e of events) {
      if (e.introduced !== undefined && (e.introduced === '0' || GO_ORDER.compare(goV(v), goV(e.introduced)) >= 0))
        affected = true;
      if (e.fixed !== undefined && GO_ORDER.compare(goV(v), goV(e.fixed)) >= 0) affected = false;
    }
    return affected;
  };
  const expected = new Set<string>();
  for (const r of recs.govulndb('Go', 'stdlib')) {
    if (r.withdrawn) continue;
    for (const a of r.affected ?? []) {
      if (a.package?.name !== 'stdlib') continue;
      // Both Debian binaries are linux/amd64.
      const imports = (a.ecosystem_specific?.imports ?? []) as Array<{ goos?: string[]; goarch?: string[] }>;
      const elsewhere = (i: { goos?: string[]; goarch?: string[] }) =>
        (i.goos && !i.goos.includes('linux')) || (i.goarch && !i.goarch.includes('amd64'));
      if (imports.length > 0 && imports.every(elsewhere)) continue;
      if ((a.ranges ?? []).some((rg) => holds(rg.events as Array<Record<string, string>>, '1.19.8')))
        expected.add(r.id);
    }
  }
  for (const name of ['debian-runc', 'debian-containerd']) {
    const bin = realBinary(name);
    if ('skip' in bin) {
      t.diagnostic(bin.skip);
      continue;
    }
    const inv = await buildInventory(bin.path);
    const got = matchRecords(inv.root, recs.govulndb);
    assert.ok(got.length > 50, name);
    assert.ok(
      got.every((f) => f.vulnerability?.via === 'stdlib'),
      `${name}: GOPATH build, no module list`,
    );
    assert.deepEqual(new Set(ids(got)), expected, name);
    // Never toolchain records (cmd/go bugs, GO-2023-1839 covers 1.19.8), never windows-only ones.
    assert.ok(!ids(got).includes('GO-2023-1839'));
    assert.ok(!ids(got).includes('GO-2023-2185'));
    assert.ok(ids(got).includes('GO-2026-4864'), 'linux-only internal/syscall/unix');
  }
});

test('Go versions: go1.21rc2, `X:` experiment suffixes, devel toolchains', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  // GO-2023-1987: introduced 1.21.0-0, fixed 1.21.0-rc.4 on the 1.21 line.
  assert.ok(ids(scan({ goVersion: 'go1.21rc2' })).includes('GO-2023-1987'));
  assert.ok(!ids(scan({ goVersion: 'go1.21.0' })).includes('GO-2023-1987'));
  const plain = ids(scan({ goVersion: 'go1.25.1' }));
  assert.ok(plain.length > 10);
  assert.deepEqual(ids(scan({ goVersion: 'go1.25.1 X:nodwarf5' })), plain);
  assert.deepEqual(scan({ goVersion: 'devel go1.23-7f76c00 Tue Jan 2 15:04:05 2024 +0000' }), []);
});

test('toolchain records are never reported, even when the Go version is in their range', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const toolchain = recs.govulndb('Go', 'toolchain');
  assert.ok(toolchain.length >= 30);
  const tc = record(recs, 'GO-2023-1839'); // cmd/go, fixed 1.19.10: go1.19.8 is in its range
  assert.equal(matchPackage([tc], 'toolchain', goV('1.19.8'), GO_ORDER, { goos: 'linux' }).length, 0);
  const reported = new Set(ids(scan({ goVersion: 'go1.19.8' })));
  for (const r of toolchain)
    if ((r.affected ?? []).every((a) => a.package?.name === 'toolchain')) assert.ok(!reported.has(r.id), r.id);
});

test('platform limits: GOOS from the build settings (default linux), GOARCH', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const on = (goos: string | undefined, goarch: string, goVersion: string): string[] =>
    ids(scan({ goVersion, settings: [...(goos ? [['GOOS', goos] as [string, string]] : []), ['GOARCH', goarch]] }));
  assert.ok(on('windows', 'amd64', 'go1.19.8').includes('GO-2023-2185'), 'path/filepath on windows');
  assert.ok(!on('linux', 'amd64', 'go1.19.8').includes('GO-2023-2185'));
  assert.ok(!on(undefined, 'amd64', 'go1.19.8').includes('GO-2023-2185'), 'no GOOS recorded: linux');
  assert.ok(on(undefined, 'amd64', 'go1.19.8').includes('GO-2026-4864'));
  assert.ok(!on('darwin', 'arm64', 'go1.19.8').includes('GO-2026-4864'));
  // GO-2025-3447: crypto/internal/nistec on ppc64le only.
  assert.ok(on('linux', 'ppc64le', 'go1.22.5').includes('GO-2025-3447'));
  assert.ok(!on('linux', 'amd64', 'go1.22.5').includes('GO-2025-3447'));
  // A module record limited to linux (GO-2024-3302, quic-go).
  const quic = (goos: string) =>
    ids(scan({ deps: [dep('github.com/quic-go/quic-go', 'v0.48.1')], settings: [['GOOS', goos]] }));
  assert.ok(quic('linux').includes('GO-2024-3302'));
  assert.ok(!quic('darwin').includes('GO-2024-3302'));
});

test('withdrawn records never match; the same record not withdrawn does', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const withdrawn = recs.all.filter((r) => r.withdrawn);
  assert.equal(withdrawn.length, 17);
  let proven = 0;
  for (const r of withdrawn) {
    const revived = mutated(r, (c) => delete c.withdrawn);
    for (const a of r.affected ?? []) {
      const name = a.package?.name as string;
      if (name === 'stdlib' || name === 'toolchain') continue;
      const custom = (a.ecosystem_specific?.custom_ranges ?? []) as Array<{ events: Array<Record<string, string>> }>;
      const ranges = [...(a.ranges ?? []), ...custom] as Array<{ events: Array<Record<string, string>> }>;
      const candidates = ranges
        .flatMap((rg) => rg.events.map((e) => e.introduced))
        .map((v) => (v === '0' || v === undefined ? 'v0.0.0-20000101000000-000000000000' : `v${v}`));
      for (const version of candidates) {
        const spec = { deps: [dep(name, version)] };
        if (!ids(scan(spec, lookupFromRecords([revived]))).includes(r.id)) continue;
        assert.ok(!ids(scan(spec, recs.lookup)).includes(r.id), `${r.id} matched ${name}@${version}`);
        proven++;
        break;
      }
    }
  }
  assert.ok(proven >= 12, `only ${proven} withdrawn records had a version to try`);
});

test('severity from an alias record that did not match: a GO- record rated by its GHSA record', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const k3s = { k3s: k3sIdentity('v1.32.3+k3s1'), main: dep('github.com/k3s-io/k3s', '(devel)') };
  // The real GHSA record without its affected package, so it never matches a lookup by package
  // (as when its package name or ranges differ from the GO record's): it still rates the
  // vulnerability it is an alias of.
  const unreviewed = mutated(record(recs, 'GHSA-864f-7xjm-2jp2'), (r) => {
    r.affected = [];
  });
  const records = [record(recs, 'GO-2025-3646'), unreviewed];
  const [f, ...rest] = matchRecords(goBinary(k3s), lookupFromRecords(records), aliasLookupFromRecords(records)).filter(
    (x) => x.vulnerability?.ids.includes('CVE-2025-46599'),
  );
  assert.equal(rest.length, 0);
  assert.equal(f?.id, 'GO-2025-3646', 'the GO record matched; the GHSA record only rates it');
  assert.equal(f?.severity, 'medium', "the GHSA record's CVSS v3 vector");
  assert.equal(f?.vulnerability?.cvss?.score, 6.8);
  // Without the alias lookup (what the CLI passed before), it stays unknown.
  const without = matchRecords(goBinary(k3s), lookupFromRecords(records));
  assert.equal(without.find((x) => x.id === 'GO-2025-3646')?.severity, 'unknown');
  // A withdrawn alias record rates nothing.
  const withdrawn = mutated(unreviewed, (r) => {
    r.withdrawn = '2026-01-01T00:00:00Z';
  });
  const both = [record(recs, 'GO-2025-3646'), withdrawn];
  const w = matchRecords(goBinary(k3s), lookupFromRecords(both), aliasLookupFromRecords(both));
  assert.equal(w.find((x) => x.id === 'GO-2025-3646')?.severity, 'unknown');
});

test('aliases: one vulnerability is one finding listing every id, the GO id first', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const k3s = { k3s: k3sIdentity('v1.32.3+k3s1'), main: dep('github.com/k3s-io/k3s', '(devel)') };
  const both = scan(k3s).filter((f) => f.vulnerability?.ids.includes('CVE-2025-46599'));
  assert.equal(both.length, 1, 'GO-2025-3646 and GHSA-864f-7xjm-2jp2 are one vulnerability');
  assert.deepEqual(both[0]?.vulnerability?.ids, ['GO-2025-3646', 'GHSA-864f-7xjm-2jp2', 'CVE-2025-46599']);
  assert.equal(both[0]?.severity, 'medium', "from the GHSA record's CVSS v3 vector");
  assert.equal(both[0]?.vulnerability?.cvss?.score, 6.8);
  // The Go vulndb alone: same finding, the GHSA id known as an alias, severity unknown.
  const goOnly = scan(k3s, recs.govulndb).filter((f) => f.vulnerability?.ids.includes('CVE-2025-46599'));
  assert.deepEqual(ids(goOnly), ['GO-2025-3646']);
  assert.equal(goOnly[0]?.severity, 'unknown');
  // The GHSA record alone: its own id leads.
  const ghsaOnly = scan(k3s, lookupFromRecords([record(recs, 'GHSA-864f-7xjm-2jp2')]));
  assert.deepEqual(ids(ghsaOnly), ['GHSA-864f-7xjm-2jp2']);
});
