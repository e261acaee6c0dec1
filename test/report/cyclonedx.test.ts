import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Component, Inventory } from '../../src/model/inventory.ts';
import { walk } from '../../src/model/inventory.ts';
import { toCycloneDxJson } from '../../src/report/cyclonedx.ts';
import { toSpdxJson } from '../../src/report/spdx.ts';
import { realBinary } from '../fixtures/realbins.ts';
import {
  dataDirInventory,
  directoryInventory,
  K3S_VERSION,
  k3sInventory,
  realGoInventory,
  sha,
} from './inventories.ts';
import { cycloneDxComponents, validateCycloneDx, validateSpdx } from './schemas.ts';

interface CdxProperty {
  name: string;
  value: string;
}
interface CdxComponent {
  type: string;
  name: string;
  version?: string;
  'bom-ref': string;
  purl?: string;
  hashes?: Array<{ alg: string; content: string }>;
  properties?: CdxProperty[];
  components?: CdxComponent[];
  pedigree?: { ancestors: Array<{ type: string; name: string; version?: string; purl?: string }>; notes: string };
}
interface Bom {
  specVersion: string;
  serialNumber: string;
  metadata: {
    timestamp: string;
    tools: { components: Array<{ name: string; version: string }> };
    component: CdxComponent;
    properties?: CdxProperty[];
  };
  components: CdxComponent[];
  dependencies: Array<{ ref: string; dependsOn?: string[] }>;
}

const FIXED = {
  timestamp: new Date('2026-01-02T03:04:05.678Z'),
  serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
};

function sbom(inv: Inventory): { json: string; bom: Bom; byRef: Map<string, CdxComponent> } {
  const json = toCycloneDxJson(inv, FIXED);
  const bom = JSON.parse(json) as Bom;
  const byRef = new Map<string, CdxComponent>();
  for (const c of cycloneDxComponents(bom) as CdxComponent[]) byRef.set(c['bom-ref'], c);
  return { json, bom, byRef };
}

function prop(c: CdxComponent | undefined, name: string): string[] {
  return (c?.properties ?? []).filter((p) => p.name === name).map((p) => p.value);
}

function dependsOn(bom: Bom, ref: string): string[] {
  const entry = bom.dependencies.find((d) => d.ref === ref);
  assert.ok(entry, `no dependencies entry for ${ref}`);
  return entry.dependsOn ?? [];
}

function find(inv: Inventory, pred: (c: Component) => boolean): Component {
  for (const { component } of walk(inv.root)) if (pred(component)) return component;
  assert.fail('no such component in the inventory');
}

test('every SBOM validates against the CycloneDX 1.6 schema', () => {
  for (const inv of [k3sInventory(), directoryInventory(), dataDirInventory()]) {
    assert.deepEqual(validateCycloneDx(toCycloneDxJson(inv)), [], inv.target);
  }
});

test('each component appears once, with its ref as bom-ref, nested as in the inventory', () => {
  const inv = k3sInventory();
  const { bom, byRef } = sbom(inv);
  const all = cycloneDxComponents(bom);
  const refs = [...walk(inv.root)].map(({ component }) => component.ref);
  assert.equal(all.length, refs.length);
  assert.deepEqual(new Set(byRef.keys()), new Set(refs));
  assert.equal(bom.metadata.component['bom-ref'], inv.root.ref);
  assert.equal(bom.metadata.component.components, undefined, 'the target is described, its parts are components');
  // Top level: the outer binary's modules, stdlib and bundle; below: bundled files, their modules.
  assert.deepEqual(
    bom.components.map((c) => c['bom-ref']),
    inv.root.type === 'file' ? inv.root.children.map((c) => c.ref) : [],
  );
  const bundle = bom.components.find((c) => c.type === 'file' && c.name.endsWith('.tar.zst'));
  assert.ok(bundle);
  assert.deepEqual(
    bundle.components?.map((c) => c.name),
    ['k3s', 'runc', 'containerd', 'containerd-shim-runc-v2', 'check-config', 'kubectl'],
  );
  const innerK3s = bundle.components?.[0];
  assert.ok(innerK3s?.components?.some((c) => c.name === 'github.com/k3s-io/kubernetes'));
});

test('the dependency graph: binaries on their modules, files on their bundle, the bundle on its files', () => {
  const inv = k3sInventory();
  const { bom, byRef } = sbom(inv);
  assert.equal(bom.dependencies.length, byRef.size, 'one entry per component');
  assert.ok(inv.root.type === 'file');
  assert.deepEqual(
    dependsOn(bom, inv.root.ref),
    inv.root.children.map((c) => c.ref),
  );
  const bundle = find(inv, (c) => c.type === 'k3s-bundle');
  assert.ok(bundle.type === 'k3s-bundle');
  assert.deepEqual(
    dependsOn(bom, bundle.ref),
    bundle.children.map((c) => c.ref),
  );
  const inner = find(inv, (c) => c.type === 'file' && c.path === 'bin/k3s');
  assert.ok(inner.type === 'file');
  const innerDeps = dependsOn(bom, inner.ref);
  assert.deepEqual(
    innerDeps,
    inner.children.map((c) => c.ref),
  );
  assert.ok(inner.children.some((c) => c.type === 'go-module' && c.role === 'main'));
  assert.ok(inner.children.some((c) => c.type === 'go-stdlib'));
  // The symlink depends on the file it points at (kubectl -> k3s, in the same bin/).
  const kubectl = find(inv, (c) => c.type === 'symlink' && c.name === 'kubectl');
  assert.deepEqual(dependsOn(bom, kubectl.ref), [inner.ref]);
  // Modules depend on nothing we know of.
  const mod = find(inv, (c) => c.type === 'go-module');
  assert.deepEqual(dependsOn(bom, mod.ref), []);
});

test('purls, versions and hashes', () => {
  const inv = k3sInventory();
  const { bom, byRef } = sbom(inv);
  const root = bom.metadata.component;
  assert.equal(root.type, 'application');
  assert.equal(root.version, K3S_VERSION);
  assert.equal(root.purl, 'pkg:golang/github.com/k3s-io/k3s@v1.31.4%2Bk3s1');
  assert.deepEqual(root.hashes, [{ alg: 'SHA-256', content: sha('file:k3s') }]);
  // The (devel) main module of a K3s binary takes the K3s version from the ldflags.
  const main = bom.components[0];
  assert.equal(main?.name, 'github.com/k3s-io/k3s');
  assert.equal(main?.purl, 'pkg:golang/github.com/k3s-io/k3s@v1.31.4%2Bk3s1');
  // A (devel) main module of another binary has no version at all.
  const containerdMain = [...byRef.values()].find((c) => c.name === 'github.com/containerd/containerd');
  assert.equal(containerdMain?.purl, 'pkg:golang/github.com/containerd/containerd');
  assert.equal(containerdMain?.version, undefined);
  const stdlib = bom.components.find((c) => c.name === 'stdlib');
  assert.equal(stdlib?.purl, 'pkg:golang/stdlib@1.23.8');
  const bundle = find(inv, (c) => c.type === 'k3s-bundle');
  assert.ok(bundle.type === 'k3s-bundle' && bundle.sha256);
  assert.deepEqual(byRef.get(bundle.ref)?.hashes, [{ alg: 'SHA-256', content: bundle.sha256 }]);
  for (const { component } of walk(inv.root)) {
    const c = byRef.get(component.ref);
    if (component.type === 'file')
      assert.deepEqual(c?.hashes, [{ alg: 'SHA-256', content: component.sha256 }], component.ref);
    if (component.type === 'go-module' || component.type === 'go-stdlib') {
      assert.equal(c?.type, 'library');
      assert.equal(c?.purl, component.purl, component.ref);
    }
  }
  const script = find(inv, (c) => c.type === 'file' && c.name === 'check-config');
  assert.equal(byRef.get(script.ref)?.type, 'file');
  const docker = [...byRef.values()].find((c) => c.name === 'github.com/docker/docker');
  assert.equal(docker?.purl, 'pkg:golang/github.com/docker/docker@v27.1.1%2Bincompatible');
});

test('K3s forks carry their upstream as pedigree; a version pin is recorded but is no fork', () => {
  const { byRef } = sbom(k3sInventory());
  const all = [...byRef.values()];
  const kube = all.find((c) => c.name === 'github.com/k3s-io/kubernetes');
  assert.equal(kube?.purl, 'pkg:golang/github.com/k3s-io/kubernetes@v1.31.4-k3s1');
  assert.deepEqual(kube?.pedigree?.ancestors, [
    { type: 'library', name: 'k8s.io/kubernetes', version: 'v1.31.4', purl: 'pkg:golang/k8s.io/kubernetes@v1.31.4' },
  ]);
  assert.match(kube?.pedigree?.notes ?? '', /fork of k8s\.io\/kubernetes@v1\.31\.4/);
  assert.deepEqual(prop(kube, 'k3sguard:go-module:required'), ['k8s.io/kubernetes@v1.31.4']);
  assert.deepEqual(prop(kube, 'k3sguard:go-module:replacement'), ['github.com/k3s-io/kubernetes@v1.31.4-k3s1']);
  // A staging module: the fork is at v1.31.4-k3s1, the upstream release is v0.31.4.
  const clientGo = all.filter((c) => c.name === 'github.com/k3s-io/kubernetes/staging/src/k8s.io/client-go');
  assert.equal(clientGo.length, 2, 'in k3s and in containerd');
  for (const c of clientGo) assert.equal(c.pedigree?.ancestors[0]?.purl, 'pkg:golang/k8s.io/client-go@v0.31.4');
  const runcPin = all.find(
    (c) => c.name === 'github.com/opencontainers/runc' && prop(c, 'k3sguard:go-module:replacement').length,
  );
  assert.ok(runcPin);
  assert.equal(runcPin.pedigree, undefined);
  assert.equal(runcPin.purl, 'pkg:golang/github.com/opencontainers/runc@v1.2.3');
  assert.deepEqual(prop(runcPin, 'k3sguard:go-module:required'), ['github.com/opencontainers/runc@v1.1.14']);
  assert.equal(all.filter((c) => c.pedigree).length, 5);
});

test('metadata: timestamp, tool, K3s identity and locations as k3sguard properties; no findings', () => {
  const inv = k3sInventory();
  const { json, bom, byRef } = sbom(inv);
  assert.equal(bom.metadata.timestamp, '2026-01-02T03:04:05.678Z');
  assert.equal(bom.serialNumber, FIXED.serialNumber);
  assert.deepEqual(bom.metadata.tools.components, [{ type: 'application', name: 'k3sguard', version: '0.1.0' }]);
  const root = bom.metadata.component;
  assert.deepEqual(prop(root, 'k3sguard:k3s:version'), [K3S_VERSION]);
  assert.deepEqual(prop(root, 'k3sguard:k3s:commit'), ['a1b2c3d4']);
  assert.deepEqual(prop(root, 'k3sguard:k3s:source'), ['ldflags']);
  const runcMod = find(inv, (c) => c.type === 'go-module' && c.name === 'github.com/cilium/ebpf');
  assert.deepEqual(prop(byRef.get(runcMod.ref), 'k3sguard:location'), [runcMod.location.join(' > ')]);
  const shim = find(inv, (c) => c.name === 'containerd-shim-runc-v2');
  assert.deepEqual(prop(byRef.get(shim.ref), 'k3sguard:binary:format'), ['go-no-buildinfo']);
  assert.equal(prop(byRef.get(shim.ref), 'k3sguard:go:buildinfo-missing').length, 1);
  for (const c of byRef.values()) {
    for (const p of c.properties ?? []) assert.match(p.name, /^k3sguard:/);
  }
  assert.deepEqual(prop(bom.metadata as unknown as CdxComponent, 'k3sguard:note'), [
    `${inv.notes[0]?.location.join(' > ')}: module list missing (build info stripped)`,
  ]);
  const finding = inv.findings[0];
  assert.ok(finding);
  assert.ok(!json.includes(finding.id) && !json.includes(finding.message));
  assert.equal((bom as unknown as Record<string, unknown>).vulnerabilities, undefined);
});

test('a folder: directories nest, links resolve across folders, an absolute link resolves to nothing', () => {
  const inv = directoryInventory();
  const { bom, byRef } = sbom(inv);
  assert.equal(bom.metadata.component.type, 'file');
  assert.deepEqual(dependsOn(bom, 'bins!current'), ['bins!runc']);
  assert.deepEqual(dependsOn(bom, 'bins!sub/up'), ['bins!runc']);
  assert.deepEqual(dependsOn(bom, 'bins!etc'), []);
  assert.deepEqual(dependsOn(bom, 'bins!sub'), ['bins!sub/tool', 'bins!sub/up']);
  assert.deepEqual(prop(byRef.get('bins!etc'), 'k3sguard:symlink:target'), ['/etc']);
  assert.equal(byRef.get('bins!etc')?.purl, undefined);
});

test('an extracted data dir: the bundle is the described component, without a hash', () => {
  const inv = dataDirInventory();
  const { bom } = sbom(inv);
  assert.equal(bom.metadata.component.name, inv.root.name);
  assert.equal(bom.metadata.component.hashes, undefined);
  assert.equal(bom.components.length, inv.root.type === 'k3s-bundle' ? inv.root.children.length : -1);
});

test('deterministic: the same inventory gives the same bytes; only timestamp and serial vary by default', () => {
  assert.equal(toCycloneDxJson(k3sInventory(), FIXED), toCycloneDxJson(k3sInventory(), FIXED));
  const a = JSON.parse(toCycloneDxJson(k3sInventory())) as Bom;
  const b = JSON.parse(toCycloneDxJson(k3sInventory())) as Bom;
  assert.notEqual(a.serialNumber, b.serialNumber);
  assert.match(a.serialNumber, /^urn:uuid:[0-9a-f-]{36}$/);
  for (const bom of [a, b]) {
    bom.serialNumber = '';
    bom.metadata.timestamp = '';
  }
  assert.deepEqual(a, b);
  assert.throws(() => toCycloneDxJson(k3sInventory(), { serialNumber: 'not-a-urn' }), TypeError);
});

test('repeated refs (a build info listing a module twice) get unique ids; both SBOMs stay valid', () => {
  const inv = k3sInventory();
  assert.ok(inv.root.type === 'file');
  const dep = inv.root.children.find((c) => c.type === 'go-module' && c.role === 'dep');
  assert.ok(dep);
  inv.root.children.splice(1, 0, { ...dep });
  // A tar naming one member twice can make the very same object appear twice: one component.
  const bundle = inv.root.children.find((c) => c.type === 'k3s-bundle');
  assert.ok(bundle?.type === 'k3s-bundle' && bundle.children[0]);
  bundle.children.push(bundle.children[0]);
  const json = toCycloneDxJson(inv, FIXED);
  assert.deepEqual(validateCycloneDx(json), []);
  assert.ok(json.includes(`"${dep.ref}~2"`));
  assert.ok(!json.includes(`"${bundle.children[0].ref}~2"`));
  const spdx = validateSpdx(toSpdxJson(inv));
  if (!('skip' in spdx)) assert.deepEqual(spdx, []);
});

test('a real module list (lefthook 2.2.2, `go version -m` of the npm binary): every module, valid', (t) => {
  const bin = realBinary('lefthook-2.2.2');
  const inv = realGoInventory('lefthook-2.2.2', 'path' in bin ? bin.path : undefined);
  if ('skip' in inv) return t.skip(inv.skip);
  if ('skip' in bin) t.diagnostic(`file hash not from the real binary: ${bin.skip}`);
  const json = toCycloneDxJson(inv, FIXED);
  assert.deepEqual(validateCycloneDx(json), []);
  const bom = JSON.parse(json) as Bom;
  assert.ok(inv.root.type === 'file' && inv.root.binary.format === 'go');
  const info = inv.root.binary.buildInfo;
  assert.equal(bom.components.length, info.deps.length + 2, 'main module, every dep, stdlib');
  assert.equal(bom.components[0]?.purl, 'pkg:golang/github.com/evilmartians/lefthook/v2@v2.2.2');
  for (const d of info.deps) {
    const [namespace, name] = [d.path.slice(0, d.path.lastIndexOf('/')), d.path.slice(d.path.lastIndexOf('/') + 1)];
    assert.ok(
      bom.components.some((c) => c.purl === `pkg:golang/${namespace}/${name}@${d.version.replaceAll('+', '%2B')}`),
      d.path,
    );
  }
  assert.equal(bom.components.at(-1)?.purl, `pkg:golang/stdlib@${info.goVersion.slice(2)}`);
});

test('the validator is no rubber stamp: it rejects a broken document', () => {
  const bom = JSON.parse(toCycloneDxJson(k3sInventory(), FIXED)) as Bom;
  const first: Partial<CdxComponent> | undefined = bom.components[0];
  const second = bom.components[1];
  assert.ok(first && second);
  delete first.name; // schema: name is required
  second['bom-ref'] = bom.metadata.component['bom-ref']; // integrity: refs must be unique
  bom.dependencies.push({ ref: 'nowhere', dependsOn: ['nothing'] }); // integrity: refs must resolve
  const errors = validateCycloneDx(JSON.stringify(bom));
  assert.ok(
    errors.some((e) => e.startsWith('schema:') && e.includes("'name'")),
    errors.join('\n'),
  );
  assert.ok(errors.some((e) => e.includes('is not unique')));
  assert.ok(errors.some((e) => e.includes('nowhere is no')));
  assert.ok(errors.some((e) => e.includes('nothing is no')));
});
