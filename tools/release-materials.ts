// The materials of a release, as SLSA ResourceDescriptors (provenance v1 resolvedDependencies):
// the source commit, every npm package of package-lock.json by its registry integrity hash,
// the Node binaries the executables are made of (package and binary sha256, from
// dist/sea/materials.json) and the bundler. Whoever checks the provenance can compare each with
// what the registry serves.
import { readFileSync } from 'node:fs';
import { ReleaseError } from './release-error.ts';
import { ARCHES } from './release-inputs.ts';
import type { SourceState } from './release-source.ts';

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest: Record<string, string>;
  annotations?: Record<string, unknown>;
}

export function npmPurl(name: string, version: string): string {
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  const ns = slash > 0 ? `${encodeURIComponent(name.slice(0, slash))}/` : '';
  return `pkg:npm/${ns}${encodeURIComponent(slash > 0 ? name.slice(slash + 1) : name)}@${encodeURIComponent(version)}`;
}

/** An SRI string (`sha512-<base64>`, possibly several) as a digest set: algorithm -> hex. */
export function integrityDigest(integrity: string): Record<string, string> {
  const digest: Record<string, string> = {};
  for (const part of integrity.trim().split(/\s+/)) {
    const m = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/]+=*)$/.exec(part);
    if (m?.[1] && m[2]) digest[m[1]] = Buffer.from(m[2], 'base64').toString('hex');
  }
  return digest;
}

/** The source as a git ResourceDescriptor. */
export function sourceDescriptor(source: SourceState): ResourceDescriptor {
  return {
    uri: `git+${source.remote ?? 'file:.'}@${source.commit}`,
    digest: { gitCommit: source.commit },
  };
}

interface LockEntry {
  name?: string;
  version?: string;
  integrity?: string;
  resolved?: string;
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
}

/**
 * Every package in package-lock.json (lockfile v2/v3 `packages`), runtime and build alike: the
 * dev tools (TypeScript, the bundler) made the artifacts too. The root entry is the source
 * itself; a package without an integrity hash (a link, a git dependency) is refused, since it
 * could not be checked by anyone.
 */
export function lockDescriptors(lockPath: string): ResourceDescriptor[] {
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as {
    lockfileVersion?: number;
    packages?: Record<string, LockEntry>;
  };
  if (!lock.packages) throw new ReleaseError(`${lockPath}: no "packages" (lockfile v2 or later needed)`);
  const out: ResourceDescriptor[] = [];
  for (const [path, p] of Object.entries(lock.packages)) {
    if (path === '') continue;
    const name = p.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!p.version || !p.integrity || p.link) {
      throw new ReleaseError(
        `${lockPath}: ${path} has no version and integrity hash: a release material must be checkable`,
      );
    }
    const digest = integrityDigest(p.integrity);
    if (Object.keys(digest).length === 0)
      throw new ReleaseError(`${lockPath}: ${path}: unreadable integrity ${p.integrity}`);
    out.push({
      name,
      uri: npmPurl(name, p.version),
      digest,
      annotations: {
        lockPath: path,
        ...(p.resolved ? { resolved: p.resolved } : {}),
        scope: p.dev ? 'build' : 'runtime',
      },
    });
  }
  return out;
}

interface NodeMaterial {
  package: string;
  version: string;
  integrity: string;
  sha256: string;
}

interface NpmTool {
  name: string;
  version: string;
}

/** What tools/sea/build.ts writes (its `Materials`), checked field by field. */
interface SeaMaterials {
  node: Record<string, NodeMaterial>;
  bundler: NpmTool;
  injector: NpmTool;
}

function field(value: unknown, what: string, file: string): string {
  if (typeof value !== 'string' || value === '') throw new ReleaseError(`${file}: no ${what}`);
  return value;
}

/** dist/sea/materials.json: each arch's Node package and binary, the bundler and the injector. */
export function readSeaMaterials(file: string): SeaMaterials {
  let json: { node?: Record<string, Partial<NodeMaterial>>; bundler?: Partial<NpmTool>; injector?: Partial<NpmTool> };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ReleaseError(`${file}: not JSON (${(e as Error).message})`);
  }
  const node: Record<string, NodeMaterial> = {};
  for (const arch of ARCHES) {
    const n = json.node?.[arch];
    node[arch] = {
      package: field(n?.package, `node.${arch}.package`, file),
      version: field(n?.version, `node.${arch}.version`, file),
      integrity: field(n?.integrity, `node.${arch}.integrity`, file),
      sha256: field(n?.sha256, `node.${arch}.sha256`, file),
    };
    if (!/^[0-9a-f]{64}$/.test(node[arch].sha256))
      throw new ReleaseError(`${file}: node.${arch}.sha256 is not a sha256`);
  }
  const tool = (key: 'bundler' | 'injector') => ({
    name: field(json[key]?.name, `${key}.name`, file),
    version: field(json[key]?.version, `${key}.version`, file),
  });
  return { node, bundler: tool('bundler'), injector: tool('injector') };
}

/**
 * The Node binaries inside the executables: the binary as injected (sha256; the purl's subpath
 * names it inside its package) and the npm package it came from (its integrity, as the registry
 * serves it), unless the lock already lists that package. The bundler and the injector are among
 * the lock's packages; they are marked so a reader need not know which ones they are.
 */
export function seaDescriptors(m: SeaMaterials, lock: ResourceDescriptor[]): ResourceDescriptor[] {
  const out: ResourceDescriptor[] = [];
  for (const [arch, n] of Object.entries(m.node)) {
    const purl = npmPurl(n.package, n.version);
    out.push({
      name: `${n.package}/bin/node`,
      uri: `${purl}#bin/node`,
      digest: { sha256: n.sha256 },
      annotations: { role: `the Node runtime inside k3sguard-linux-${arch}` },
    });
    if (!lock.some((d) => d.uri === purl)) {
      out.push({ name: n.package, uri: purl, digest: integrityDigest(n.integrity), annotations: { scope: 'build' } });
    }
  }
  for (const [tool, role] of [
    [m.bundler, 'the bundler'],
    [m.injector, 'the SEA blob injector'],
  ] as const) {
    const locked = lock.find((d) => d.uri === npmPurl(tool.name, tool.version));
    if (!locked) throw new ReleaseError(`${role}, ${tool.name}@${tool.version}, is not in package-lock.json`);
    locked.annotations = { ...locked.annotations, role };
  }
  return out;
}
