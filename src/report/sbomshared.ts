// What the CycloneDX and SPDX writers say the same way: the `k3sguard:*` facts about each
// component that neither format has a field for, the K3s fork note, unique ids, and which
// file a symlink points at. One place, so the two SBOMs of one inventory always agree.
import { posix } from 'node:path';
import type {
  BinaryInfo,
  Component,
  GoModule,
  GoModuleComponent,
  Inventory,
  K3sIdentity,
  Location,
  SymlinkComponent,
} from '../model/inventory.ts';
import { hasChildren, walk } from '../model/inventory.ts';
import { builtModule } from '../model/purl.ts';

/** A name/value pair; names are namespaced `k3sguard:...` and may repeat (e.g. bundle links). */
export type SbomProperty = readonly [name: string, value: string];

/** A location as one line: `k3s > bundle:<hash> > bin/runc`. */
export function locationText(location: Location): string {
  return location.join(' > ');
}

function moduleText(m: GoModule): string {
  return m.version ? `${m.path}@${m.version}` : m.path;
}

function binaryProperties(b: BinaryInfo): SbomProperty[] {
  const p: SbomProperty[] = [['k3sguard:binary:format', b.format]];
  switch (b.format) {
    case 'go':
      p.push(['k3sguard:binary:arch', b.arch.name], ['k3sguard:go:version', b.buildInfo.goVersion]);
      if (b.buildInfo.path) p.push(['k3sguard:go:main-package', b.buildInfo.path]);
      for (const s of b.buildInfo.settings) p.push([`k3sguard:go:setting:${s.key}`, s.value]);
      break;
    case 'go-no-buildinfo':
      p.push(['k3sguard:binary:arch', b.arch.name]);
      if (b.goVersion) p.push(['k3sguard:go:version', b.goVersion]);
      p.push(['k3sguard:go:buildinfo-missing', b.reason]);
      break;
    case 'elf':
      p.push(['k3sguard:binary:arch', b.arch.name]);
      break;
    case 'packed':
      p.push(['k3sguard:binary:packer', b.packer]);
      break;
    case 'other':
      p.push(['k3sguard:binary:detail', b.detail]);
      break;
  }
  return p;
}

function k3sProperties(k: K3sIdentity): SbomProperty[] {
  const p: SbomProperty[] = [['k3sguard:k3s:module', k.modulePath]];
  if (k.version) p.push(['k3sguard:k3s:version', k.version]);
  if (k.commit) p.push(['k3sguard:k3s:commit', k.commit]);
  p.push(['k3sguard:k3s:source', k.source]);
  return p;
}

function moduleProperties(c: GoModuleComponent): SbomProperty[] {
  const p: SbomProperty[] = [
    ['k3sguard:go-module:role', c.role],
    ['k3sguard:go-module:required', moduleText(c.module)],
  ];
  if (c.replacement) p.push(['k3sguard:go-module:replacement', moduleText(c.replacement)]);
  if (c.upstream) p.push(['k3sguard:go-module:upstream', moduleText(c.upstream)]);
  const sum = builtModule(c).sum;
  if (sum) p.push(['k3sguard:go-module:sum', sum]);
  return p;
}

/** Every fact about a component that has no field of its own in CycloneDX or SPDX, in a fixed order. */
export function componentProperties(c: Component): SbomProperty[] {
  const p: SbomProperty[] = [
    ['k3sguard:kind', c.type],
    ['k3sguard:location', locationText(c.location)],
  ];
  switch (c.type) {
    case 'file':
      p.push(['k3sguard:path', c.path], ['k3sguard:size', String(c.size)]);
      if (c.mode !== undefined) p.push(['k3sguard:mode', c.mode.toString(8).padStart(4, '0')]);
      p.push(...binaryProperties(c.binary));
      if (c.k3s) p.push(...k3sProperties(c.k3s));
      if (c.layer) p.push(['k3sguard:image:layer', c.layer]);
      break;
    case 'symlink':
      p.push(['k3sguard:path', c.path], ['k3sguard:symlink:target', c.target]);
      break;
    case 'go-module':
      p.push(...moduleProperties(c));
      break;
    case 'go-stdlib':
      p.push(['k3sguard:go:version', c.goVersion]);
      break;
    case 'k3s-bundle':
      p.push(['k3sguard:bundle:declared-sha256', c.declaredHash]);
      if (c.offset !== undefined) p.push(['k3sguard:bundle:offset', String(c.offset)]);
      if (c.compressedSize !== undefined) p.push(['k3sguard:bundle:compressed-size', String(c.compressedSize)]);
      p.push(['k3sguard:bundle:uncompressed-size', String(c.uncompressedSize)]);
      for (const l of c.links) p.push(['k3sguard:bundle:link', `${l.name} -> ${l.target}`]);
      break;
    case 'directory':
      p.push(['k3sguard:path', c.path]);
      break;
    case 'os-package':
      p.push(['k3sguard:package:manager', c.manager], ['k3sguard:package:db', c.db]);
      if (c.arch) p.push(['k3sguard:package:arch', c.arch]);
      p.push(['k3sguard:package:source', `${c.source.name} ${c.source.version}`]);
      if (c.license) p.push(['k3sguard:package:license', c.license]);
      break;
    case 'image':
      for (const n of c.names) p.push(['k3sguard:image:name', n]);
      if (c.manifestDigest) p.push(['k3sguard:image:manifest-digest', c.manifestDigest]);
      if (c.configDigest) p.push(['k3sguard:image:config-digest', c.configDigest]);
      if (c.indexDigest) p.push(['k3sguard:image:index-digest', c.indexDigest]);
      if (c.platform) {
        const { os, architecture, variant } = c.platform;
        p.push(['k3sguard:image:platform', [os, architecture, variant].filter((x) => x).join('/')]);
      }
      if (c.os) p.push(['k3sguard:image:os', [c.os.id, c.os.versionId].filter((x) => x).join(' ')]);
      for (const l of c.layers) p.push(['k3sguard:image:layer', `${l.digest} ${l.diffId ?? '-'} ${l.size}`]);
      break;
    case 'image-archive':
      p.push(['k3sguard:path', c.path], ['k3sguard:image-archive:format', c.format]);
      p.push(['k3sguard:image-archive:compression', c.compression]);
      if (c.size !== undefined) p.push(['k3sguard:size', String(c.size)]);
      break;
  }
  return p;
}

/** Facts about the whole inventory: what was inspected, and the notes that are not findings. */
export function inventoryProperties(inv: Inventory): SbomProperty[] {
  const p: SbomProperty[] = [
    ['k3sguard:target', inv.target],
    ['k3sguard:target-kind', inv.targetKind],
  ];
  for (const n of inv.notes) p.push(['k3sguard:note', `${locationText(n.location)}: ${n.message}`]);
  return p;
}

/** For a K3s fork: the upstream it stands for (K3S-FACTS §4), else undefined. */
export function forkOf(c: Component): { path: string; version: string } | undefined {
  return c.type === 'go-module' && c.replacement ? c.upstream : undefined;
}

/** Why the fork matters, in one sentence for the SBOM reader. */
export function forkNote(c: GoModuleComponent, upstream: { path: string; version: string }): string {
  const built = builtModule(c);
  return (
    `${moduleText(built)} is a fork of ${moduleText(upstream)}, compiled in through the go.mod ` +
    `replace of ${moduleText(c.module)}; advisories published for ${moduleText(upstream)} concern ` +
    'this component unless the fork carries their fix.'
  );
}

/**
 * A unique id for every component, in walk order. Refs are unique in a well-formed inventory;
 * should one repeat (a hostile build info listing a module twice), the later ones get `~2`,
 * `~3`, ... so the SBOM stays valid and the output stays deterministic.
 */
export function uniqueRefs(root: Component): Map<Component, string> {
  const ids = new Map<Component, string>();
  const taken = new Set<string>();
  for (const { component } of walk(root)) {
    if (ids.has(component)) continue; // the same object listed twice is one component
    const base = component.ref || component.type; // an empty bom-ref is no ref at all
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}~${n}`;
    taken.add(id);
    ids.set(component, id);
  }
  return ids;
}

/**
 * The file (or link, or directory) each relative symlink points at, looked up among the paths
 * of the same container: a directory target or a bundle (their members' paths are relative to
 * it). Absolute and dangling targets are left out: they point outside what was inspected.
 */
export function symlinkTargets(root: Component): Map<SymlinkComponent, Component> {
  const out = new Map<SymlinkComponent, Component>();
  const scope = (children: readonly Component[]): void => {
    const byPath = new Map<string, Component>();
    const links: SymlinkComponent[] = [];
    const collect = (list: readonly Component[]): void => {
      for (const c of list) {
        if (c.type === 'k3s-bundle') {
          scope(c.children);
          continue;
        }
        if (c.type === 'file' || c.type === 'symlink' || c.type === 'directory') {
          if (!byPath.has(c.path)) byPath.set(c.path, c);
        }
        if (c.type === 'symlink') links.push(c);
        if (hasChildren(c)) collect(c.children);
      }
    };
    collect(children);
    for (const link of links) {
      if (link.target === '' || link.target.startsWith('/')) continue;
      const target = byPath.get(posix.normalize(posix.join(posix.dirname(link.path), link.target)));
      if (target && target !== link) out.set(link, target);
    }
  };
  scope([root]);
  return out;
}
