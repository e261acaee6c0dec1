// k3sguard's own SBOM (`k3sguard sbom --self`): a supply-chain tool should say what it is made
// of. The packages are the ones that run: from the tool's package.json, each runtime
// dependency where Node finds it (the nearest node_modules folder up), its own dependencies in
// turn; dev tools are never reached. The installed package.json files say what is there, so a
// git clone after `npm ci` and an installed package (whose dependencies npm may have hoisted
// or resolved afresh) both get their own truth. The registry integrity hash is not in an
// installed package: it comes from the tool's lock file, package-lock.json in a clone, the
// npm-shrinkwrap.json that `npm pack` ships (npm never publishes package-lock.json), and only
// for a package whose installed version is the locked one.
// The single executable has no installed packages: it was bundled from them, and carries the
// SBOM its build wrote (tools/sea/sbom.ts: k3sguard, the Node it runs on, every bundled
// package); `sbom --self` prints exactly that, and the SPDX form is made from it.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { packageRoot } from '../io/package-root.ts';
import { IN_SEA, SEA_ASSET, seaAssetText } from '../io/sea.ts';
import { InputError } from '../model/errors.ts';

interface Manifest {
  name?: string;
  version?: string;
  license?: unknown;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface LockPackage {
  name?: string;
  version?: string;
  integrity?: string;
}

export interface SelfPackage {
  name: string;
  version: string;
  purl: string;
  /** From the lock file's `integrity` (sha512, hex), when the installed version is the locked one. */
  sha512?: string;
  /** The file's own hash, for what is not an npm package (the executable's Node). */
  sha256?: string;
  license?: string;
  dependsOn: string[];
}

export function npmPurl(name: string, version: string): string {
  const at = name.startsWith('@') ? name.indexOf('/') : -1;
  const ns = at > 0 ? `${encodeURIComponent(name.slice(0, at))}/` : '';
  return `pkg:npm/${ns}${encodeURIComponent(at > 0 ? name.slice(at + 1) : name)}@${encodeURIComponent(version)}`;
}

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new InputError('UNREADABLE', file, `cannot read ${what} (${(e as Error).message})`);
  }
}

/** sha512 (hex) by `name@version`, from the tool's lock file (none when it has none). */
function lockedHashes(): Map<string, string> {
  const hashes = new Map<string, string>();
  const root = fileURLToPath(packageRoot());
  const file = ['npm-shrinkwrap.json', 'package-lock.json'].map((f) => join(root, f)).find((f) => existsSync(f));
  if (!file) return hashes;
  const lock = readJson<{ packages?: Record<string, LockPackage> }>(file, "the tool's own lock file");
  for (const [path, p] of Object.entries(lock.packages ?? {})) {
    const m = /^sha512-(.+)$/.exec(p.integrity ?? '');
    const name = p.name ?? path.slice(path.lastIndexOf('node_modules/') + 13);
    if (m?.[1] && p.version) hashes.set(`${name}@${p.version}`, Buffer.from(m[1], 'base64').toString('hex'));
  }
  return hashes;
}

/** Where Node finds package `dep` for the package in `dir`: the nearest node_modules up. */
function installedAt(dir: string, dep: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', dep);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(d) === d) return undefined;
  }
}

/** The runtime dependencies a package needs installed (optional ones only when they are). */
function runtimeDeps(m: Manifest): Array<{ name: string; optional: boolean }> {
  const optionalPeer = (n: string) => m.peerDependenciesMeta?.[n]?.optional === true;
  return [
    ...Object.keys(m.dependencies ?? {}).map((name) => ({ name, optional: false })),
    ...Object.keys(m.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
    ...Object.keys(m.peerDependencies ?? {})
      .filter((n) => !optionalPeer(n))
      .map((name) => ({ name, optional: false })),
  ];
}

/** The tool and the runtime packages installed with it (bundled into it, in the executable). */
export function selfPackages(): { tool: SelfPackage; packages: SelfPackage[] } {
  if (IN_SEA) return packagesOfSbom(seaAssetText(SEA_ASSET.sbom));
  const hashes = lockedHashes();
  const byDir = new Map<string, SelfPackage>();
  const queue: string[] = [];
  const visit = (dir: string): SelfPackage => {
    const known = byDir.get(dir);
    if (known) return known;
    const m = readJson<Manifest>(join(dir, 'package.json'), 'an installed package.json');
    const name = m.name ?? dir.slice(dir.lastIndexOf('node_modules/') + 13);
    const version = m.version ?? '0.0.0';
    const pkg: SelfPackage = { name, version, purl: npmPurl(name, version), dependsOn: [] };
    const sha512 = hashes.get(`${name}@${version}`);
    if (sha512) pkg.sha512 = sha512;
    if (typeof m.license === 'string') pkg.license = m.license;
    byDir.set(dir, pkg);
    queue.push(dir);
    return pkg;
  };
  const root = realpathSync(fileURLToPath(packageRoot()));
  const tool = visit(root);
  delete tool.sha512; // the tool's own tarball is not in its lock file
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    const from = byDir.get(dir) as SelfPackage;
    const m = readJson<Manifest>(join(dir, 'package.json'), 'an installed package.json');
    for (const dep of runtimeDeps(m)) {
      const at = installedAt(dir, dep.name);
      if (!at) {
        if (dep.optional) continue;
        throw new InputError('UNREADABLE', join(dir, 'package.json'), `needs ${dep.name}, which is not installed`);
      }
      const target = visit(at);
      if (!from.dependsOn.includes(target.purl)) from.dependsOn.push(target.purl);
    }
  }
  const unique = new Map<string, SelfPackage>();
  for (const [dir, p] of byDir) if (dir !== root) unique.set(p.purl, p);
  const packages = [...unique.values()];
  return { tool, packages: packages.sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0)) };
}

interface CdxComponentJson {
  name: string;
  version?: string;
  purl?: string;
  'bom-ref'?: string;
  hashes?: Array<{ alg: string; content: string }>;
  licenses?: Array<{ license?: { id?: string } }>;
}

/** The tool and its packages, read back from a CycloneDX SBOM this module's cdxComponent wrote. */
function packagesOfSbom(text: string): { tool: SelfPackage; packages: SelfPackage[] } {
  const bom = JSON.parse(text) as {
    metadata: { component: CdxComponentJson };
    components?: CdxComponentJson[];
    dependencies?: Array<{ ref: string; dependsOn?: string[] }>;
  };
  const deps = new Map((bom.dependencies ?? []).map((d) => [d.ref, d.dependsOn ?? []]));
  const pkg = (c: CdxComponentJson): SelfPackage => {
    const purl = c.purl ?? c['bom-ref'] ?? c.name;
    const p: SelfPackage = { name: c.name, version: c.version ?? '0.0.0', purl, dependsOn: deps.get(purl) ?? [] };
    const hash = (alg: string) => c.hashes?.find((h) => h.alg === alg)?.content;
    const [sha512, sha256, license] = [hash('SHA-512'), hash('SHA-256'), c.licenses?.[0]?.license?.id];
    if (sha512) p.sha512 = sha512;
    if (sha256) p.sha256 = sha256;
    if (license) p.license = license;
    return p;
  };
  return { tool: pkg(bom.metadata.component), packages: (bom.components ?? []).map(pkg) };
}

function cdxComponent(p: SelfPackage, type: Enums.ComponentType): Models.Component {
  const c = new Models.Component(type, p.name, { version: p.version, bomRef: p.purl });
  c.purl = p.purl;
  if (p.sha512) c.hashes.set(Enums.HashAlgorithm['SHA-512'], p.sha512);
  if (p.sha256) c.hashes.set(Enums.HashAlgorithm['SHA-256'], p.sha256);
  if (p.license) c.licenses.add(new Models.SpdxLicense(p.license));
  return c;
}

export function selfCycloneDxJson(opts: { timestamp?: Date } = {}): string {
  if (IN_SEA) return seaAssetText(SEA_ASSET.sbom);
  return cycloneDxJson(selfPackages(), {
    timestamp: opts.timestamp ?? new Date(),
    serialNumber: `urn:uuid:${randomUUID()}`,
  });
}

export interface SelfSbomParts {
  tool: SelfPackage;
  packages: SelfPackage[];
  /** The runtime the tool carries inside it (the single executable's Node), with its CPE. */
  platform?: SelfPackage & { cpe: string };
}

/** A CycloneDX 1.6 SBOM of the tool: a library component per package, dependencies linked. */
export function cycloneDxJson(parts: SelfSbomParts, opts: { timestamp: Date; serialNumber: string }): string {
  const { tool, packages, platform } = parts;
  const bom = new Models.Bom({ serialNumber: opts.serialNumber });
  bom.metadata.timestamp = opts.timestamp;
  bom.metadata.lifecycles.add(Enums.LifecyclePhase.Build);
  const root = cdxComponent(tool, Enums.ComponentType.Application);
  bom.metadata.component = root;
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, tool.name, { version: tool.version }),
  );
  const models = new Map(packages.map((p) => [p.purl, cdxComponent(p, Enums.ComponentType.Library)]));
  if (platform) {
    const c = cdxComponent(platform, Enums.ComponentType.Platform);
    c.cpe = platform.cpe;
    models.set(platform.purl, c);
  }
  for (const m of models.values()) bom.components.add(m);
  const link = (from: Models.Component, deps: string[]) => {
    for (const d of deps) {
      const target = models.get(d);
      if (target) from.dependencies.add(target.bomRef);
    }
  };
  link(root, platform ? [platform.purl, ...tool.dependsOn] : tool.dependsOn);
  for (const p of packages) link(models.get(p.purl) as Models.Component, p.dependsOn);
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: false, space: 2 })}\n`;
}

function spdxChecksums(p: SelfPackage): Array<{ algorithm: string; checksumValue: string }> {
  const sums = [];
  if (p.sha256) sums.push({ algorithm: 'SHA256', checksumValue: p.sha256 });
  if (p.sha512) sums.push({ algorithm: 'SHA512', checksumValue: p.sha512 });
  return sums;
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
    ...(p.sha512 || p.sha256 ? { checksums: spdxChecksums(p) } : {}),
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
