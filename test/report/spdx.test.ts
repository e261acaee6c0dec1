import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Component, Inventory } from '../../src/model/inventory.ts';
import { walk } from '../../src/model/inventory.ts';
import { SpdxIds, toSpdxJson } from '../../src/report/spdx.ts';
import { dataDirInventory, directoryInventory, K3S_VERSION, k3sInventory, sha } from './inventories.ts';
import { validateSpdx } from './schemas.ts';

interface Pkg {
  name: string;
  SPDXID: string;
  versionInfo?: string;
  packageFileName?: string;
  supplier: string;
  downloadLocation: string;
  filesAnalyzed: boolean;
  checksums?: Array<{ algorithm: string; checksumValue: string }>;
  licenseConcluded: string;
  licenseDeclared: string;
  copyrightText: string;
  externalRefs?: Array<{ referenceCategory: string; referenceType: string; referenceLocator: string }>;
  primaryPackagePurpose: string;
  comment: string;
}
interface Rel {
  spdxElementId: string;
  relationshipType: string;
  relatedSpdxElement: string;
  comment?: string;
}
interface Doc {
  spdxVersion: string;
  dataLicense: string;
  SPDXID: string;
  name: string;
  documentNamespace: string;
  creationInfo: { creators: string[]; created: string };
  comment: string;
  packages: Pkg[];
  relationships: Rel[];
}

const FIXED = {
  created: new Date('2026-01-02T03:04:05.678Z'),
  documentNamespace: 'https://k3sguard.test/spdx/k3s-fixed',
};

function spdx(inv: Inventory): { json: string; doc: Doc; pkgOf: (c: Component) => Pkg } {
  const json = toSpdxJson(inv, FIXED);
  const doc = JSON.parse(json) as Doc;
  // Components are written in walk order, so the n-th package is the n-th component.
  const order = new Map([...walk(inv.root)].map(({ component }, i) => [component, i]));
  const pkgOf = (c: Component): Pkg => {
    const p = doc.packages[order.get(c) ?? -1];
    assert.ok(p, `no package for ${c.ref}`);
    return p;
  };
  return { json, doc, pkgOf };
}

function rels(doc: Doc, type: string, from?: string): Rel[] {
  return doc.relationships.filter(
    (r) => r.relationshipType === type && (from === undefined || r.spdxElementId === from),
  );
}

function purlOf(p: Pkg | undefined): string | undefined {
  return p?.externalRefs?.find((r) => r.referenceType === 'purl')?.referenceLocator;
}

function find(inv: Inventory, pred: (c: Component) => boolean): Component {
  for (const { component } of walk(inv.root)) if (pred(component)) return component;
  assert.fail('no such component in the inventory');
}

test('every document validates against the SPDX 2.3 schema, ids and relationships resolving', (t) => {
  for (const inv of [k3sInventory(), directoryInventory(), dataDirInventory()]) {
    const result = validateSpdx(toSpdxJson(inv));
    if ('skip' in result) return t.skip(result.skip);
    assert.deepEqual(result, [], inv.target);
  }
});

test('document creation info, namespace and the DESCRIBES root', () => {
  const inv = k3sInventory();
  const { doc, pkgOf } = spdx(inv);
  assert.equal(doc.spdxVersion, 'SPDX-2.3');
  assert.equal(doc.dataLicense, 'CC0-1.0');
  assert.equal(doc.SPDXID, 'SPDXRef-DOCUMENT');
  assert.deepEqual(doc.creationInfo, { creators: ['Tool: k3sguard-0.1.0'], created: '2026-01-02T03:04:05Z' });
  assert.equal(doc.documentNamespace, FIXED.documentNamespace);
  assert.deepEqual(rels(doc, 'DESCRIBES'), [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: pkgOf(inv.root).SPDXID },
  ]);
  assert.match(doc.comment, /^k3sguard:target=k3s$/m);
  // Default namespace: unique per document.
  const a = (JSON.parse(toSpdxJson(inv)) as Doc).documentNamespace;
  const b = (JSON.parse(toSpdxJson(inv)) as Doc).documentNamespace;
  assert.notEqual(a, b);
  assert.match(a, /^https:\/\/spdx\.org\/spdxdocs\/k3sguard-k3s-[0-9a-f-]{36}$/);
  assert.throws(() => toSpdxJson(inv, { documentNamespace: 'https://x.test/doc#part' }), TypeError);
});

test('one package per component, with ids from refs, NOASSERTION where unknown, hashes and purls', () => {
  const inv = k3sInventory();
  const { doc, pkgOf } = spdx(inv);
  const components = [...walk(inv.root)].map(({ component }) => component);
  const upstreams = doc.packages.slice(components.length);
  assert.equal(upstreams.length, 4, 'kubernetes, client-go (shared by two forks), containerd, etcd');
  for (const c of components) {
    const p = pkgOf(c);
    assert.equal(p.name, c.name);
    assert.match(p.SPDXID, /^SPDXRef-[A-Za-z0-9.-]+$/);
    assert.equal(p.versionInfo, c.version);
    assert.equal(p.downloadLocation, 'NOASSERTION');
    assert.equal(p.supplier, 'NOASSERTION');
    assert.equal(p.licenseConcluded, 'NOASSERTION');
    assert.equal(p.licenseDeclared, 'NOASSERTION');
    assert.equal(p.filesAnalyzed, false);
    assert.match(p.comment, new RegExp(`^k3sguard:kind=${c.type}$`, 'm'));
    if (c.type === 'file') {
      assert.deepEqual(p.checksums, [{ algorithm: 'SHA256', checksumValue: c.sha256 }]);
      assert.equal(p.packageFileName, c.path);
    }
    if (c.type === 'go-module' || c.type === 'go-stdlib') {
      assert.equal(p.primaryPackagePurpose, 'LIBRARY');
      assert.equal(purlOf(p), c.purl);
      assert.equal(p.externalRefs?.[0]?.referenceCategory, 'PACKAGE-MANAGER');
    }
  }
  const root = pkgOf(inv.root);
  assert.equal(root.primaryPackagePurpose, 'APPLICATION');
  assert.equal(root.versionInfo, K3S_VERSION);
  assert.equal(purlOf(root), 'pkg:golang/github.com/k3s-io/k3s@v1.31.4%2Bk3s1');
  assert.equal(root.checksums?.[0]?.checksumValue, sha('file:k3s'));
  const bundle = pkgOf(find(inv, (c) => c.type === 'k3s-bundle'));
  assert.equal(bundle.primaryPackagePurpose, 'ARCHIVE');
  assert.equal(bundle.checksums?.[0]?.checksumValue, sha('bundle frame'));
  const kubectl = pkgOf(find(inv, (c) => c.type === 'symlink'));
  assert.equal(kubectl.externalRefs, undefined);
  assert.match(kubectl.comment, /^k3sguard:symlink:target=k3s$/m);
});

test('CONTAINS mirrors the tree; a Go binary DEPENDS_ON its modules and stdlib, nothing else does', () => {
  const inv = k3sInventory();
  const { doc, pkgOf } = spdx(inv);
  const contains = new Set(rels(doc, 'CONTAINS').map((r) => `${r.spdxElementId} ${r.relatedSpdxElement}`));
  let edges = 0;
  for (const { component, parent } of walk(inv.root)) {
    if (!parent) continue;
    edges++;
    assert.ok(contains.has(`${pkgOf(parent).SPDXID} ${pkgOf(component).SPDXID}`), component.ref);
  }
  assert.equal(contains.size, edges);
  const goBinaries = [...walk(inv.root)]
    .map(({ component }) => component)
    .filter((c) => c.type === 'file' && c.binary.format === 'go');
  assert.equal(goBinaries.length, 4);
  const isGoPart = (c: Component): boolean => c.type === 'go-module' || c.type === 'go-stdlib';
  let parts = 0;
  for (const bin of goBinaries) {
    assert.ok(bin.type === 'file');
    const want = bin.children.filter(isGoPart);
    assert.ok(want.length > 0);
    parts += want.length;
    assert.deepEqual(
      rels(doc, 'DEPENDS_ON', pkgOf(bin).SPDXID).map((r) => r.relatedSpdxElement),
      want.map((c) => pkgOf(c).SPDXID),
    );
  }
  // The outer binary holds the bundle: CONTAINS, not DEPENDS_ON.
  assert.equal(rels(doc, 'DEPENDS_ON').length, parts);
});

test('a K3s fork is DESCENDANT_OF a package for its upstream module', () => {
  const inv = k3sInventory();
  const { doc, pkgOf } = spdx(inv);
  const byId = new Map(doc.packages.map((p) => [p.SPDXID, p]));
  const descendant = rels(doc, 'DESCENDANT_OF');
  assert.equal(descendant.length, 5);
  const kube = find(inv, (c) => c.type === 'go-module' && c.name === 'github.com/k3s-io/kubernetes');
  const [rel] = rels(doc, 'DESCENDANT_OF', pkgOf(kube).SPDXID);
  assert.ok(rel);
  const upstream = byId.get(rel.relatedSpdxElement);
  assert.equal(upstream?.name, 'k8s.io/kubernetes');
  assert.equal(upstream?.versionInfo, 'v1.31.4');
  assert.equal(purlOf(upstream), 'pkg:golang/k8s.io/kubernetes@v1.31.4');
  assert.match(rel.comment ?? '', /fork of k8s\.io\/kubernetes@v1\.31\.4/);
  assert.equal(purlOf(pkgOf(kube)), 'pkg:golang/github.com/k3s-io/kubernetes@v1.31.4-k3s1');
  // Two client-go forks (k3s, containerd) point at one upstream package.
  const clientGo = descendant.filter((r) => byId.get(r.relatedSpdxElement)?.name === 'k8s.io/client-go');
  assert.equal(clientGo.length, 2);
  assert.equal(new Set(clientGo.map((r) => r.relatedSpdxElement)).size, 1);
  assert.equal(byId.get(clientGo[0]?.relatedSpdxElement ?? '')?.versionInfo, 'v0.31.4');
  // The runc version pin is no fork.
  const pin = find(
    inv,
    (c) => c.type === 'go-module' && c.name === 'github.com/opencontainers/runc' && !!c.replacement,
  );
  assert.deepEqual(rels(doc, 'DESCENDANT_OF', pkgOf(pin).SPDXID), []);
  assert.match(pkgOf(pin).comment, /^k3sguard:go-module:replacement=github\.com\/opencontainers\/runc@v1\.2\.3$/m);
});

test('findings stay out; output is deterministic with fixed options', () => {
  const inv = k3sInventory();
  const { json } = spdx(inv);
  const finding = inv.findings[0];
  assert.ok(finding);
  assert.ok(!json.includes(finding.id) && !json.includes(finding.message));
  assert.equal(toSpdxJson(k3sInventory(), FIXED), json);
});

test('SPDX ids: only [A-Za-z0-9.-], unique even when refs squeeze to the same text', () => {
  const ids = new SpdxIds();
  assert.equal(
    ids.make('k3s!bundle:ab12!bin/runc#go:github.com/x/y@v1.0.0+incompatible'),
    'SPDXRef-k3s-bundle-ab12-bin-runc-go-github.com-x-y-v1.0.0-incompatible',
  );
  assert.equal(ids.make('a/b'), 'SPDXRef-a-b');
  assert.equal(ids.make('a:b'), 'SPDXRef-a-b-2');
  assert.equal(ids.make('a-b-2'), 'SPDXRef-a-b-2-2');
  assert.equal(ids.make('DOCUMENT'), 'SPDXRef-DOCUMENT-2');
  assert.equal(ids.make('///'), 'SPDXRef-component');
  assert.equal(ids.make('ü'), 'SPDXRef-component-2');
});

test('the validator is no rubber stamp: it rejects a broken document', (t) => {
  const doc = JSON.parse(toSpdxJson(k3sInventory(), FIXED)) as Doc;
  const first: Partial<Pkg> | undefined = doc.packages[0];
  const second = doc.packages[1];
  assert.ok(first && second);
  delete first.downloadLocation; // schema: required
  second.SPDXID = 'SPDXRef-has space';
  doc.relationships.push({
    spdxElementId: 'SPDXRef-nowhere',
    relationshipType: 'CONTAINS',
    relatedSpdxElement: 'NONE',
  });
  const errors = validateSpdx(JSON.stringify(doc));
  if ('skip' in errors) return t.skip(errors.skip);
  assert.ok(
    errors.some((e) => e.startsWith('schema:') && e.includes('downloadLocation')),
    errors.join('\n'),
  );
  assert.ok(errors.some((e) => e.includes('SPDXRef-has space has characters')));
  assert.ok(errors.some((e) => e.includes('SPDXRef-nowhere is no element')));
});
