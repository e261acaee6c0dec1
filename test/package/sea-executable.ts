// The amd64 single executable, for the tests that package it (the image): the one named by
// K3SGUARD_IMAGE_EXECUTABLE, else built now from the work tree (`tools/sea/build.ts --arch
// amd64`, as `npm run build:sea` runs it) into the caller's folder, so a test never packages a
// stale dist/k3sguard-linux-amd64.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface SeaExecutable {
  path: string;
  /** What it answers to --version. */
  version: string;
}

export function seaExecutable(outDir: string): SeaExecutable {
  let path = process.env.K3SGUARD_IMAGE_EXECUTABLE;
  if (!path) {
    const build = join(ROOT, 'tools', 'sea', 'build.ts');
    execFileSync(process.execPath, [build, '--arch', 'amd64', '--out-dir', outDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    path = join(outDir, 'k3sguard-linux-amd64');
  }
  return { path, version: execFileSync(path, ['--version'], { encoding: 'utf8' }).trim() };
}
