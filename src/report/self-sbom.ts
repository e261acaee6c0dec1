// k3sguard's own SBOM (`k3sguard sbom --self`): a supply-chain tool should say what it is made
// of. Read from the package-lock.json shipped with the tool: every runtime package (dev and
// dev-optional ones left out: they are not part of what runs), its exact version, its
// registry integrity hash, and who depends on whom.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { InputError } from '../model/errors.ts';

interface LockPackage {
  name?: string;
  version?: string;
  integrity?: string;
  license?: string;
  dev?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
}

export interface SelfPackage {
  name: string;
  version: string;
  purl: string;
  /** From the lock file's `integrity` (sha512, hex). */
  sha512?: string;
  license?: string;
  dependsOn: string[];
}

const ROOT = new URL('../../', import.meta.url);

function npmPurl(name: string, version: string): string {
  const at = name.startsWith('@') ? name.indexOf('/') : -1;
  const ns = at > 0 ? `${encodeURIComponent(name.slice(0, at))}/` : '';
  return `pkg:npm/${ns}${encodeURIComponent(at > 0 ? name.slice(at + 1) : name)}@${encodeURIComponent(version)}`;
}

/** The tool and its runtime packages, from its own package-lock.json. */
export function selfPackages(): { tool: SelfPackage; packages: SelfPackage[] } {
  const lockPath = new URL('package-lock.json', ROOT);
  let lock: { packages?: Record<string, LockPackage> };
  try {
    lock = JSON.parse(readFileSync(lockPath, 'utf8'));
  } catch (e) {
    throw new InputError(
      'UNREADABLE',
      lockPath.pathname,
      `cannot read the tool's own lock file (${(e as Error).message})`,
    );
  }
  const entries = Object.entries(lock.packages ?? {});
  const byPath = new Map(entries);
  const nameOf = (path: string, p: LockPackage): string => p.name ?? path.slice(path.lastIndexOf('node_modules/') + 13);
  // Resolve a dependency as Node would: the nearest node_modules folder up from the dependent.
  const resolve = (from: string, dep: string): string | undefined => {
    for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
      const candidate = base ? `${base}/node_modules/${dep}` : `node_modules/${dep}`;
      if (byPath.has(candidate)) return candidate;
      if (!base) return undefined;
    }
  };
  const packages: SelfPackage[] = [];
  const toPackage = (path: string, p: LockPackage): SelfPackage => {
    const name = nameOf(path, p);
    const version = p.version ?? '0.0.0';
    const pkg: SelfPackage = { name, version, purl: npmPurl(name, version), dependsOn: [] };
    const m = /^sha512-(.+)$/.exec(p.integrity ?? '');
    if (m?.[1]) pkg.sha512 = Buffer.from(m[1], 'base64').toString('hex');
    if (p.license) pkg.license = p.license;
    for (const dep of Object.keys(p.dependencies ?? {})) {
      const at = resolve(path, dep);
      const target = at ? byPath.get(at) : undefined;
      if (at && target && !target.dev && !target.devOptional)
        pkg.dependsOn.push(npmPurl(nameOf(at, target), target.version ?? '0.0.0'));
    }
    return pkg;
  };
  for (const [path, p] of entries) {
    if (path === '' || p.dev || p.devOptional) continue;
    packages.push(toPackage(path, p));
  }
  const rootEntry = byPath.get('') ?? {};
  const pkgJson = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as {
    name: string;
    version: string;
    license?: string;
  };
  const tool = toPackage('', { ...rootEntry, name: pkgJson.name, version: pkgJson.version, license: pkgJson.license });
  return { tool, packages: packages.sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0)) };
}

function cdxComponent(p: SelfPackage, type: Enums.ComponentType): Models.Component {
  const c = new Models.Component(type, p.name, { version: p.version, bomRef: p.purl });
  c.purl = p.purl;
  if (p.sha512) c.hashes.set(Enums.HashAlgorithm['SHA-512'], p.sha512);
  if (p.license) c.licenses.add(new Models.SpdxLicense(p.license));
  return c;
}

export function selfCycloneDxJson(opts: { timestamp?: Date } = {}): string {
  const { tool, packages } = selfPackages();
  const bom = new Models.Bom({ serialNumber: `urn:uuid:${randomUUID()}` });
  bom.metadata.timestamp = opts.timestamp ?? new Date();
  bom.metadata.lifecycles.add(Enums.LifecyclePhase.Build);
  const root = cdxComponent(tool, Enums.ComponentType.Application);
  bom.metadata.component = root;
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, tool.name, { version: tool.version }),
  );
  const models = new Map(packages.map((p) => [p.purl, cdxComponent(p, Enums.ComponentType.Library)]));
  for (const m of models.values()) bom.components.add(m);
  const link = (from: Models.Component, deps: string[]) => {
    for (const d of deps) {
      const target = models.get(d);
      if (target) from.dependencies.add(target.bomRef);
    }
  };
  link(root, tool.dependsOn);
  for (const p of packages) link(models.get(p.purl) as Models.Component, p.dependsOn);
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: false, space: 2 })}\n`;
}

export function selfSpdxJson(opts: { created?: Date } = {}): string {
  const { tool, packages } = selfPackages();
  const id = (p: SelfPackage) => `SPDXRef-Package-${p.purl.replace(/[^A-Za-z0-9.-]+/g, '-')}`;
  const spdxPackage = (p: SelfPackage) => ({
    SPDXID: id(p),
    name: p.name,
    versionInfo: p.version,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: p.license ?? 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    ...(p.sha512 ? { checksums: [{ algorithm: 'SHA512', checksumValue: p.sha512 }] } : {}),
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }],
  });
  const all = [tool, ...packages];
  const byPurl = new Map(all.map((p) => [p.purl, p]));
  const relationships = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: id(tool) },
  ];
  for (const p of all) {
    for (const d of p.dependsOn) {
      const target = byPurl.get(d);
      if (target)
        relationships.push({ spdxElementId: id(p), relationshipType: 'DEPENDS_ON', relatedSpdxElement: id(target) });
    }
  }
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${tool.name}-${tool.version}`,
    documentNamespace: `https://spdx.org/spdxdocs/${tool.name}-${tool.version}-${randomUUID()}`,
    creationInfo: {
      created: (opts.created ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z'),
      creators: [`Tool: ${tool.name}-${tool.version}`],
    },
    packages: all.map(spdxPackage),
    relationships,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
