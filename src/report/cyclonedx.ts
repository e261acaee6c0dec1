// The inventory as a CycloneDX 1.6 JSON SBOM, built with @cyclonedx/cyclonedx-library's models
// and serialised by its JSON normaliser. docs/sbom.md gives the mapping field by field.
//
// The target is metadata.component; its children are the top-level components, nested as found
// (file -> modules, stdlib, bundle -> bundled files -> their modules). Findings are not
// components and stay out. Output is deterministic but for the timestamp and serial number,
// which the options can fix.
import { randomUUID } from 'node:crypto';
import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import type { Component, GoModuleComponent, Inventory } from '../model/inventory.ts';
import { hasChildren, walk } from '../model/inventory.ts';
import { componentPurl, goModulePurl } from '../model/purl.ts';
import {
  componentProperties,
  forkNote,
  forkOf,
  inventoryProperties,
  type SbomProperty,
  symlinkTargets,
  uniqueRefs,
} from './sbomshared.ts';

export interface CycloneDxOptions {
  /** metadata.timestamp; default now. */
  timestamp?: Date;
  /** `urn:uuid:<uuid>`; default a random one. */
  serialNumber?: string;
}

const SERIAL_NUMBER = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

type NormalizedBom = Serialize.JSON.Types.Normalized.Bom;
type NormalizedComponent = Serialize.JSON.Types.Normalized.Component;

/** CycloneDX `pedigree` as the 1.6 schema has it; the library (10.x) has no model for it. */
interface Pedigree {
  ancestors: NormalizedComponent[];
  notes: string;
}

function componentType(c: Component): Enums.ComponentType {
  switch (c.type) {
    case 'file':
      // Anything executable is an application; data files, scripts and the like are files.
      return c.binary.format === 'other' ? Enums.ComponentType.File : Enums.ComponentType.Application;
    case 'go-module':
    case 'go-stdlib':
      return Enums.ComponentType.Library;
    case 'os-package':
      return Enums.ComponentType.Library;
    case 'image':
      return Enums.ComponentType.Container;
    case 'k3s-bundle':
    case 'symlink':
    case 'directory':
    case 'image-archive':
      return Enums.ComponentType.File;
  }
}

function sha256Of(c: Component): string | undefined {
  const hex = c.type === 'file' || c.type === 'k3s-bundle' || c.type === 'image-archive' ? c.sha256 : undefined;
  return hex !== undefined && SHA256_HEX.test(hex) ? hex : undefined;
}

function toProperties(list: readonly SbomProperty[]): Models.PropertyRepository {
  return new Models.PropertyRepository(list.map(([name, value]) => new Models.Property(name, value)));
}

function toModel(c: Component, bomRef: string): Models.Component {
  const model = new Models.Component(componentType(c), c.name, {
    bomRef,
    properties: toProperties(componentProperties(c)),
  });
  if (c.version) model.version = c.version;
  const purl = c.purl ?? componentPurl(c);
  if (purl) model.purl = purl;
  const sha256 = sha256Of(c);
  if (sha256) model.hashes.set(Enums.HashAlgorithm['SHA-256'], sha256);
  return model;
}

function pedigreeOf(c: GoModuleComponent, upstream: { path: string; version: string }): Pedigree {
  return {
    ancestors: [
      {
        type: Enums.ComponentType.Library,
        name: upstream.path,
        version: upstream.version,
        purl: goModulePurl(upstream.path, upstream.version),
      },
    ],
    notes: forkNote(c, upstream),
  };
}

/**
 * The library's JSON serialiser with one addition: `pedigree` on the components that have one,
 * keyed by bom-ref, grafted onto the normalised tree before it is stringified.
 */
class PedigreeJsonSerializer extends Serialize.JsonSerializer {
  readonly #pedigrees: ReadonlyMap<string, Pedigree>;

  constructor(factory: Serialize.JSON.Normalize.Factory, pedigrees: ReadonlyMap<string, Pedigree>) {
    super(factory);
    this.#pedigrees = pedigrees;
  }

  protected override _normalize(bom: Models.Bom, options?: Serialize.Types.NormalizerOptions): NormalizedBom {
    const normalized = super._normalize(bom, options);
    const graft = (list: readonly NormalizedComponent[] | undefined): void => {
      for (const c of list ?? []) {
        const pedigree = c['bom-ref'] === undefined ? undefined : this.#pedigrees.get(c['bom-ref']);
        if (pedigree) Object.assign(c, { pedigree });
        graft(c.components);
      }
    };
    graft(normalized.metadata?.component ? [normalized.metadata.component] : []);
    graft(normalized.components);
    return normalized;
  }
}

export function toCycloneDxJson(inv: Inventory, opts: CycloneDxOptions = {}): string {
  const serialNumber = opts.serialNumber ?? `urn:uuid:${randomUUID()}`;
  if (!SERIAL_NUMBER.test(serialNumber)) throw new TypeError(`serialNumber must be urn:uuid:<uuid>: ${serialNumber}`);

  const refs = uniqueRefs(inv.root);
  const models = new Map<Component, Models.Component>();
  const pedigrees = new Map<string, Pedigree>();
  for (const { component } of walk(inv.root)) {
    const ref = refs.get(component) ?? component.ref;
    models.set(component, toModel(component, ref));
    const upstream = forkOf(component);
    if (upstream && component.type === 'go-module') pedigrees.set(ref, pedigreeOf(component, upstream));
  }
  const model = (c: Component): Models.Component => {
    const m = models.get(c);
    if (!m) throw new Error(`component ${c.ref} missing from the walk`); // cannot happen: every model comes from walk()
    return m;
  };

  // Nesting mirrors the tree; the root's own children are the BOM's top-level components.
  // Dependencies: whatever holds children depends on each of them (a binary on its main module,
  // deps, stdlib and bundle; a bundle or directory on its members); a symlink on its target.
  for (const { component, parent } of walk(inv.root)) {
    if (parent && hasChildren(parent)) {
      if (parent !== inv.root) model(parent).components.add(model(component));
      model(parent).dependencies.add(model(component).bomRef);
    }
  }
  for (const [link, target] of symlinkTargets(inv.root)) model(link).dependencies.add(model(target).bomRef);
  // An image's distribution as CycloneDX's operating-system component: what OS-level tooling
  // (Dependency-Track, scanners) keys distro advisories on.
  for (const { component } of walk(inv.root)) {
    if (component.type !== 'image' || !component.os) continue;
    const os = new Models.Component(Enums.ComponentType.OperatingSystem, component.os.id, {
      bomRef: `${model(component).bomRef.value ?? component.ref}!os`,
      ...(component.os.versionId ? { version: component.os.versionId } : {}),
      ...(component.os.prettyName ? { description: component.os.prettyName } : {}),
    });
    model(component).components.add(os);
    model(component).dependencies.add(os.bomRef);
  }

  const bom = new Models.Bom({ serialNumber });
  bom.metadata.timestamp = opts.timestamp ?? new Date();
  bom.metadata.lifecycles.add(Enums.LifecyclePhase.PostBuild);
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, inv.tool.name, { version: inv.tool.version }),
  );
  bom.metadata.component = model(inv.root);
  bom.metadata.properties = toProperties(inventoryProperties(inv));
  if (hasChildren(inv.root)) for (const child of inv.root.children) bom.components.add(model(child));

  const serializer = new PedigreeJsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6), pedigrees);
  // sortLists off: components keep the inventory's order (main module first), which is itself
  // deterministic; sorting would use localeCompare, whose order depends on the locale.
  return `${serializer.serialize(bom, { sortLists: false, space: 2 })}\n`;
}
