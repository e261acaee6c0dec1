// K3s-aware matching on the real records: the K3s identity in K3s order (placeholders
// ignored), forks matched as their upstream, staging modules never matched as Kubernetes,
// `(devel)` and missing versions never guessed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Component, type Finding, walk } from '../../src/model/inventory.ts';
import { lookupFromRecords } from '../../src/scan/lookup.ts';
import { matchRecords } from '../../src/scan/match.ts';
import { GO_ORDER } from '../../src/scan/orders.ts';
import { matchPackage } from '../../src/scan/records.ts';
import { k3sInventory } from '../report/inventories.ts';
import { type BinarySpec, dep, goBinary, goV, k3sIdentity, mutated, realRecords, record } from './osv-fixture.ts';

const ids = (fs: Finding[]): string[] => fs.map((f) => f.id);
const RUNC = 'github.com/opencontainers/runc';

function k3sFindings(version: string, lookup: Parameters<typeof matchRecords>[1]): Finding[] {
  const spec: BinarySpec = { k3s: k3sIdentity(version), main: dep('github.com/k3s-io/k3s', '(devel)') };
  return matchRecords(goBinary(spec), lookup).filter((f) => f.vulnerability?.via === 'k3s');
}

test('K3s versions against the Go vulndb custom ranges: the placeholder never flags every K3s', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const k = (v: string) => ids(k3sFindings(v, recs.govulndb));
  // GO-2026-5973: before 1.33.10, 1.34.0-rc1 to 1.34.6, 1.35.0-rc1 to 1.35.3.
  assert.deepEqual(k('v1.33.9+k3s2'), ['GO-2026-5973']);
  assert.deepEqual(k('v1.33.10+k3s1'), [], 'equal to a fixed version');
  assert.deepEqual(k('v1.34.0-rc1+k3s1'), ['GO-2026-5973']);
  assert.deepEqual(k('v1.34.6+k3s1'), []);
  assert.deepEqual(k('v1.35.3+k3s1'), []);
  assert.deepEqual(k('v1.36.0+k3s1'), [], 'a naive match of {introduced: "0"} flags this');
  // GO-2025-3646: 1.32.0-rc1 to 1.32.4-rc1 only.
  assert.deepEqual(k('v1.32.3+k3s1'), ['GO-2025-3646', 'GO-2026-5973']);
  assert.deepEqual(k('v1.32.4-rc1+k3s1'), ['GO-2026-5973']);
  // The mutation that proves it: the same records without custom ranges flag everything.
  const naive = ['GO-2025-3646', 'GO-2026-5973'].map((id) =>
    mutated(record(recs, id), (r) => {
      for (const a of r.affected ?? []) delete a.ecosystem_specific?.custom_ranges;
    }),
  );
  assert.deepEqual(ids(k3sFindings('v1.36.0+k3s1', lookupFromRecords(naive))), ['GO-2025-3646', 'GO-2026-5973']);
  // The finding says what to do: the fix on the line, or the next line when there is none.
  const [onLine] = k3sFindings('v1.33.9+k3s2', recs.govulndb);
  assert.equal(onLine?.vulnerability?.fixed, 'v1.33.10+k3s1');
  assert.equal(onLine?.vulnerability?.version, 'v1.33.9+k3s2');
  assert.match(onLine?.message ?? '', /upgrade K3s to v1\.33\.10\+k3s1 or a later v1\.33 release/);
  const [offLine] = k3sFindings('v1.31.4+k3s1', recs.govulndb);
  assert.match(offLine?.message ?? '', /no v1\.31 release fixes it: upgrade K3s to v1\.33\.10\+k3s1/);
});

test('K3s versions against the GHSA ECOSYSTEM ranges, +k3sN counted', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const m4hf = (v: string) => ids(k3sFindings(v, recs.lookup)).includes('GHSA-m4hf-6vgr-75r2');
  assert.ok(m4hf('v1.28.0+k3s1'));
  assert.ok(!m4hf('v1.28.1+k3s1'));
  assert.ok(m4hf('v1.27.4+k3s2'));
  assert.ok(!m4hf('v1.27.5+k3s1'));
  assert.ok(m4hf('v1.20.0+k3s1'), 'introduced "0"');
  assert.ok(!m4hf('v1.29.0+k3s1'));
  const f = k3sFindings('v1.28.0+k3s1', recs.lookup).find((x) => x.id === 'GHSA-m4hf-6vgr-75r2');
  assert.equal(f?.severity, 'high');
  assert.equal(f?.component, 'bin', 'the file carrying the K3s identity');
  // The main module (github.com/k3s-io/k3s, whose version the inventory takes from the identity)
  // is the same K3s: one finding, not two.
  assert.equal(
    matchRecords(
      goBinary({ k3s: k3sIdentity('v1.28.0+k3s1'), main: dep('github.com/k3s-io/k3s', '(devel)') }),
      recs.lookup,
    ).filter((x) => x.id === 'GHSA-m4hf-6vgr-75r2').length,
    1,
  );
});

test('forks are matched as built AND as their upstream; staging modules only as themselves', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const file = goBinary({
    deps: [
      dep('k8s.io/kubernetes', 'v1.31.4', ['github.com/k3s-io/kubernetes', 'v1.31.4-k3s1']),
      dep('k8s.io/client-go', 'v0.31.4', ['github.com/k3s-io/kubernetes/staging/src/k8s.io/client-go', 'v1.31.4-k3s1']),
      dep('k8s.io/apiserver', 'v0.31.4'),
    ],
  });
  const findings = matchRecords(file, recs.lookup);
  const by = (path: string) =>
    findings.filter((f) => f.component === `bin#go:${path}@${path === 'k8s.io/kubernetes' ? 'v1.31.4' : 'v0.31.4'}`);
  const kube = by('k8s.io/kubernetes');
  for (const id of ['GO-2025-3465', 'GO-2025-3522']) assert.ok(ids(kube).includes(id), id);
  assert.ok(kube.every((f) => f.vulnerability?.via === 'upstream' && f.vulnerability.module === 'k8s.io/kubernetes'));
  assert.ok(kube.every((f) => f.vulnerability?.version === '1.31.4'));
  assert.equal(kube.find((f) => f.id === 'GO-2025-3522')?.vulnerability?.fixed, '1.31.5');
  assert.match(
    kube[0]?.message ?? '',
    /github\.com\/k3s-io\/kubernetes v1\.31\.4-k3s1, a fork of k8s\.io\/kubernetes 1\.31\.4/,
  );
  // k8s.io/client-go v0.31.4 and k8s.io/apiserver v0.31.4: no k8s.io/kubernetes record applies.
  assert.deepEqual(by('k8s.io/client-go'), []);
  assert.deepEqual(by('k8s.io/apiserver'), []);
  // What that avoids: read against the k8s.io/kubernetes ranges (1.x), v0.31.4 is "before every fix".
  const asKubernetes = matchPackage(
    recs.lookup('Go', 'k8s.io/kubernetes'),
    'k8s.io/kubernetes',
    goV('v0.31.4'),
    GO_ORDER,
    { goos: 'linux' },
  );
  assert.ok(asKubernetes.length > 10, `${asKubernetes.length} false positives avoided`);
  // A staging module is matched on its own records, at its own v0 version.
  const old = matchRecords(goBinary({ deps: [dep('k8s.io/client-go', 'v0.19.0')] }), recs.lookup);
  assert.ok(ids(old).includes('GO-2021-0064'));
  // The upstream mapping is what finds them: the same fork without `upstream` finds nothing.
  const noUpstream = structuredClone(file);
  for (const { component } of walk(noUpstream)) if (component.type === 'go-module') delete component.upstream;
  assert.deepEqual(ids(matchRecords(noUpstream, recs.lookup).filter((f) => f.vulnerability?.via !== 'stdlib')), []);
});

test('what was built is matched: a same-path pin, never the required version', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const runc = (required: string, built?: string) =>
    ids(matchRecords(goBinary({ deps: [dep(RUNC, required, built ? [RUNC, built] : undefined)] }), recs.lookup));
  assert.ok(runc('v1.1.14', 'v1.1.5').includes('GO-2024-2491'), 'pinned down to 1.1.5');
  assert.ok(!runc('v1.1.5', 'v1.1.12').includes('GO-2024-2491'), 'pinned up to the fix');
  assert.ok(runc('v1.1.5').includes('GO-2024-2491'));
});

test('(devel), missing versions and local replacements are skipped, never guessed', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const run = (spec: BinarySpec) =>
    ids(matchRecords(goBinary(spec), recs.lookup)).filter((id) => id === 'GO-2024-2491');
  assert.deepEqual(run({ main: dep(RUNC, 'v1.1.5') }), ['GO-2024-2491'], 'the control: a real version matches');
  assert.deepEqual(run({ main: dep(RUNC, '(devel)') }), []);
  assert.deepEqual(run({ deps: [dep(RUNC, '')] }), []);
  assert.deepEqual(run({ deps: [dep(RUNC, 'v1.1.5', ['../runc', ''])] }), [], 'built from a local directory');
  assert.deepEqual(run({ deps: [dep(RUNC, 'v1.1.5', ['../runc', '(devel)'])] }), []);
  // A K3s identity without a version (a `(devel)` K3s): nothing K3s-specific is reported.
  const noVersion = goBinary({
    main: dep('github.com/k3s-io/k3s', '(devel)'),
    k3s: { modulePath: 'github.com/k3s-io/k3s', source: 'strings' },
  });
  assert.deepEqual(
    matchRecords(noVersion, recs.lookup).filter((f) => f.vulnerability?.via === 'k3s'),
    [],
  );
});

test('every finding of a K3s inventory: one per vulnerability per component, well formed', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const inv = k3sInventory();
  const findings = matchRecords(inv.root, recs.lookup);
  const refs = new Map<string, Component>([...walk(inv.root)].map(({ component }) => [component.ref, component]));
  const seen = new Set<string>();
  for (const f of findings) {
    const v = f.vulnerability;
    assert.ok(v && refs.has(f.component as string), f.id);
    assert.equal(f.id, v.ids[0]);
    assert.equal(new Set(v.ids).size, v.ids.length, `${f.id}: ids repeated`);
    assert.deepEqual(f.location, refs.get(f.component as string)?.location);
    assert.equal(v.reachability, 'unknown');
    assert.ok(f.title.length > 0 && f.message.includes(v.version));
    for (const id of v.ids) {
      const key = `${f.component} ${id}`;
      assert.ok(!seen.has(key), `${key}: twice`);
      seen.add(key);
    }
  }
  // The stripped shim (no build info, go1.23.8 found): its standard library, on the file.
  const shim = findings.filter((f) => f.location.at(-1) === 'bin/containerd-shim-runc-v2');
  assert.ok(
    shim.length > 0 && shim.every((f) => f.vulnerability?.via === 'stdlib' && f.component === f.location.join('!')),
  );
});
