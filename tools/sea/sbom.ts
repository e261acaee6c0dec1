// The executable's CycloneDX SBOM (dist/sea/k3sguard-linux-<arch>.cdx.json, also embedded for
// `sbom --self`): k3sguard, the Node binary it runs on (version, the binary's sha256, and a CPE
// for vulnerability matching), and every npm package the bundler actually took a file from,
// with its version and the sha512 of its registry tarball from package-lock.json. A package
// that is installed but not bundled (a dev tool, an optional plug-in left out) is not in it.
// Reproducible: the time is the build's SOURCE_DATE_EPOCH and the serial number is derived
// from the content, so the same commit gives the same bytes.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cycloneDxJson, npmPurl, type SelfPackage } from '../../src/report/self-sbom.ts';
import { ROOT } from './bundle.ts';
import type { NodeBinary } from './node-binary.ts';

interface Manifest {
  name: string;
  version: string;
  license?: unknown;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const PACKAGE_DIR = /^((?:.*\/)?node_modules\/(?:@[^/]+\/)?[^/]+)\//;

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;
}

/** The folder (relative to the repository) Node would load `dep` from, for a package in `dir`. */
function resolvedDir(dir: string, dep: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const candidate = join(d === '.' ? '' : d, 'node_modules', dep);
    if (existsSync(join(ROOT, candidate, 'package.json'))) return candidate;
    if (d === '.' || d === dirname(d)) return undefined;
  }
}

function dependsOn(dir: string, m: Manifest, bundled: Map<string, SelfPackage>): string[] {
  const names = Object.keys({ ...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies });
  const found = names.map((n) => bundled.get(resolvedDir(dir, n) ?? '')?.purl).filter((p) => p !== undefined);
  return [...new Set(found)].sort();
}

/** The npm packages the bundle took files from, by folder, with their lock-file hashes. */
export function bundledPackages(inputs: readonly string[]): Map<string, SelfPackage> {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { integrity?: string; version?: string }>;
  };
  const bundled = new Map<string, SelfPackage>();
  for (const input of inputs) {
    const dir = PACKAGE_DIR.exec(input)?.[1];
    if (!dir || bundled.has(dir)) continue;
    const m = manifest(dir);
    const locked = lock.packages[dir];
    const integrity = /^sha512-(.+)$/.exec(locked?.integrity ?? '')?.[1];
    if (!integrity || locked?.version !== m.version)
      throw new Error(`${dir}: ${m.name}@${m.version} has no sha512 integrity in package-lock.json (npm ci?)`);
    const p: SelfPackage = { name: m.name, version: m.version, purl: npmPurl(m.name, m.version), dependsOn: [] };
    p.sha512 = Buffer.from(integrity, 'base64').toString('hex');
    if (typeof m.license === 'string') p.license = m.license;
    bundled.set(dir, p);
  }
  for (const [dir, p] of bundled) p.dependsOn = dependsOn(dir, manifest(dir), bundled);
  return bundled;
}

/** A version 5 (name-based) UUID, as CycloneDX's serialNumber wants one. */
export function nameUuid(name: string): string {
  const URL_NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
  const h = createHash('sha1').update(URL_NAMESPACE).update(name).digest().subarray(0, 16);
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function executableSbom(inputs: readonly string[], node: NodeBinary, timestamp: Date): string {
  const bundled = bundledPackages(inputs);
  const m = manifest('.');
  const tool: SelfPackage = {
    name: m.name,
    version: m.version,
    purl: npmPurl(m.name, m.version),
    dependsOn: dependsOn('.', { ...m, peerDependencies: {} }, bundled),
  };
  if (typeof m.license === 'string') tool.license = m.license;
  const platform = {
    name: 'node',
    version: node.package.version,
    purl: npmPurl(node.package.name, node.package.version),
    sha256: node.sha256,
    license: 'MIT',
    dependsOn: [],
    cpe: `cpe:2.3:a:nodejs:node.js:${node.package.version}:*:*:*:*:*:*:*`,
  };
  const packages = [...bundled.values()].sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0));
  const parts = { tool, packages, platform };
  const serialNumber = `urn:uuid:${nameUuid(`k3sguard-sea:${node.arch}:${JSON.stringify(parts)}`)}`;
  return cycloneDxJson(parts, { timestamp, serialNumber });
}
