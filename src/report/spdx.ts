// The inventory as an SPDX 2.3 JSON document, written by hand (the format is plain JSON and
// needs no library). docs/sbom.md gives the mapping field by field.
//
// Every component is a package (filesAnalyzed false: k3sguard lists what a binary is made of,
// it does not list a package's files). The tree is CONTAINS relationships, a Go binary also
// DEPENDS_ON its modules and stdlib, and a K3s fork is DESCENDANT_OF an extra package standing
// for the upstream module it was forked from. Findings are not packages and stay out.
import { randomUUID } from 'node:crypto';
import type { Component, Inventory } from '../model/inventory.ts';
import { walk } from '../model/inventory.ts';
import { componentPurl, goModulePurl } from '../model/purl.ts';
import {
  componentProperties,
  forkNote,
  forkOf,
  inventoryProperties,
  type SbomProperty,
  uniqueRefs,
} from './sbomshared.ts';

export interface SpdxOptions {
  /** creationInfo.created; default now. */
  created?: Date;
  /** A URI unique to this document (no `#`); default one with a random UUID. */
  documentNamespace?: string;
}

type Purpose = 'APPLICATION' | 'LIBRARY' | 'CONTAINER' | 'OPERATING_SYSTEM' | 'ARCHIVE' | 'FILE' | 'OTHER';
type RelationshipType = 'DESCRIBES' | 'CONTAINS' | 'DEPENDS_ON' | 'DESCENDANT_OF';

interface SpdxPackage {
  name: string;
  SPDXID: string;
  versionInfo?: string | undefined;
  packageFileName?: string | undefined;
  supplier: 'NOASSERTION';
  downloadLocation: 'NOASSERTION';
  filesAnalyzed: false;
  checksums?: Array<{ algorithm: 'SHA256'; checksumValue: string }> | undefined;
  licenseConcluded: 'NOASSERTION';
  licenseDeclared: 'NOASSERTION';
  copyrightText: 'NOASSERTION';
  externalRefs?:
    | Array<{ referenceCategory: 'PACKAGE-MANAGER'; referenceType: 'purl'; referenceLocator: string }>
    | undefined;
  primaryPackagePurpose: Purpose;
  comment: string;
}

interface SpdxRelationship {
  spdxElementId: string;
  relationshipType: RelationshipType;
  relatedSpdxElement: string;
  comment?: string;
}

const DOCUMENT_ID = 'SPDXRef-DOCUMENT';
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * SPDX ids may only hold `[A-Za-z0-9.-]` after `SPDXRef-`. Each seed is squeezed into that set
 * and numbered when the squeezed form is taken (`a/b` and `a:b` both become `a-b`).
 */
export class SpdxIds {
  readonly #taken = new Set<string>([DOCUMENT_ID]);

  make(seed: string): string {
    const base = `SPDXRef-${seed.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'component'}`;
    let id = base;
    for (let n = 2; this.#taken.has(id); n++) id = `${base}-${n}`;
    this.#taken.add(id);
    return id;
  }
}

function purpose(c: Component): Purpose {
  switch (c.type) {
    case 'file':
      return c.binary.format === 'other' ? 'FILE' : 'APPLICATION';
    case 'go-module':
    case 'go-stdlib':
    case 'os-package':
      return 'LIBRARY';
    case 'image':
      return 'CONTAINER';
    case 'k3s-bundle':
    case 'image-archive':
      return 'ARCHIVE';
    case 'symlink':
      return 'FILE';
    case 'directory':
      return 'OTHER';
  }
}

/** `name=value` lines: the same `k3sguard:*` facts CycloneDX carries as properties. */
function commentOf(properties: readonly SbomProperty[]): string {
  return properties.map(([name, value]) => `${name}=${value}`).join('\n');
}

interface PackageFacts {
  name: string;
  id: string;
  purpose: Purpose;
  version?: string | undefined;
  fileName?: string | undefined;
  sha256?: string | undefined;
  purl?: string | undefined;
  properties: readonly SbomProperty[];
}

/**
 * One package, its keys in the order of the SPDX 2.3 package clause; absent facts are undefined,
 * which JSON.stringify leaves out.
 */
function spdxPackage(f: PackageFacts): SpdxPackage {
  return {
    name: f.name,
    SPDXID: f.id,
    versionInfo: f.version || undefined,
    packageFileName: f.fileName,
    supplier: 'NOASSERTION',
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    checksums: f.sha256 && SHA256_HEX.test(f.sha256) ? [{ algorithm: 'SHA256', checksumValue: f.sha256 }] : undefined,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    externalRefs: f.purl
      ? [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: f.purl }]
      : undefined,
    primaryPackagePurpose: f.purpose,
    comment: commentOf(f.properties),
  };
}

function toPackage(c: Component, id: string): SpdxPackage {
  return spdxPackage({
    name: c.name || c.ref,
    id,
    purpose: purpose(c),
    version: c.version,
    fileName: c.type === 'file' || c.type === 'symlink' || c.type === 'directory' ? c.path : undefined,
    sha256: c.type === 'file' || c.type === 'k3s-bundle' || c.type === 'image-archive' ? c.sha256 : undefined,
    purl: c.purl ?? componentPurl(c),
    properties: componentProperties(c),
  });
}

/** SPDX timestamps are `YYYY-MM-DDThh:mm:ssZ`: UTC, no fraction. */
function spdxDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function defaultNamespace(inv: Inventory): string {
  const name = inv.root.name.replace(/[^A-Za-z0-9._-]+/g, '-') || 'target';
  return `https://spdx.org/spdxdocs/k3sguard-${name}-${randomUUID()}`;
}

export function toSpdxJson(inv: Inventory, opts: SpdxOptions = {}): string {
  const documentNamespace = opts.documentNamespace ?? defaultNamespace(inv);
  if (documentNamespace.includes('#') || !URL.canParse(documentNamespace)) {
    throw new TypeError(`documentNamespace must be a URI without '#': ${documentNamespace}`);
  }

  const spdxIds = new SpdxIds();
  const refs = uniqueRefs(inv.root);
  const idOf = new Map<Component, string>();
  const packages: SpdxPackage[] = [];
  const relationships: SpdxRelationship[] = [];
  const upstreams = new Map<string, SpdxPackage>(); // `path@version` -> its package, one per upstream
  const forkRelationships: SpdxRelationship[] = [];

  for (const { component, parent } of walk(inv.root)) {
    if (idOf.has(component)) continue; // the same object listed twice is one package
    const id = spdxIds.make(refs.get(component) ?? component.ref);
    idOf.set(component, id);
    packages.push(toPackage(component, id));
    const parentId = parent ? idOf.get(parent) : undefined;
    if (parent && parentId) {
      relationships.push({ spdxElementId: parentId, relationshipType: 'CONTAINS', relatedSpdxElement: id });
      // A Go binary is built from its modules and the standard library: a dependency, not only nesting.
      if (parent.type === 'file' && (component.type === 'go-module' || component.type === 'go-stdlib')) {
        relationships.push({ spdxElementId: parentId, relationshipType: 'DEPENDS_ON', relatedSpdxElement: id });
      }
    }
    if (component.type === 'image' && component.os) {
      // The image's distribution, as SPDX's OPERATING_SYSTEM purpose.
      const os = spdxPackage({
        name: component.os.id,
        id: spdxIds.make(`${refs.get(component) ?? component.ref}-os`),
        purpose: 'OPERATING_SYSTEM',
        version: component.os.versionId,
        properties: component.os.prettyName ? [['k3sguard:os:pretty-name', component.os.prettyName]] : [],
      });
      packages.push(os);
      relationships.push({ spdxElementId: id, relationshipType: 'CONTAINS', relatedSpdxElement: os.SPDXID });
    }
    const upstream = forkOf(component);
    if (upstream && component.type === 'go-module') {
      const key = `${upstream.path}@${upstream.version}`;
      let up = upstreams.get(key);
      if (!up) {
        up = spdxPackage({
          name: upstream.path,
          id: spdxIds.make(`upstream-${key}`),
          purpose: 'LIBRARY',
          version: upstream.version,
          purl: goModulePurl(upstream.path, upstream.version),
          properties: [
            ['k3sguard:kind', 'upstream-go-module'],
            ['k3sguard:note', 'the upstream module a K3s fork stands for; not itself compiled into the target'],
          ],
        });
        upstreams.set(key, up);
      }
      // DESCENDANT_OF: "same lineage but post-dates", which a fork of a released upstream is
      // (VARIANT_OF is for when it is not clear which came first).
      forkRelationships.push({
        spdxElementId: id,
        relationshipType: 'DESCENDANT_OF',
        relatedSpdxElement: up.SPDXID,
        comment: forkNote(component, upstream),
      });
    }
  }

  const rootId = idOf.get(inv.root) ?? DOCUMENT_ID;
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: DOCUMENT_ID,
    name: inv.root.name || inv.target,
    documentNamespace,
    creationInfo: {
      creators: [`Tool: ${inv.tool.name}-${inv.tool.version}`],
      created: spdxDate(opts.created ?? new Date()),
    },
    comment: commentOf(inventoryProperties(inv)),
    packages: [...packages, ...upstreams.values()],
    relationships: [
      { spdxElementId: DOCUMENT_ID, relationshipType: 'DESCRIBES', relatedSpdxElement: rootId },
      ...relationships,
      ...forkRelationships,
    ],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
