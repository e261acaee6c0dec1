// A K3s release folder built from real inputs, as a user would have downloaded it: the
// K3s-shaped binary as `k3s` (amd64), Debian's Go cross-compiling a K3s-module program as
// `k3s-arm64`, an image list, airgap tarballs made by GNU tar with zstd and gzip, and the
// sums files written by coreutils `sha256sum` in the folder, as the release workflow does.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type K3sShaped, k3sShaped } from '../fixtures/k3s-shaped.ts';
import { probeBinary } from '../readers/goprobe.ts';

export const IMAGES = [
  'docker.io/rancher/mirrored-pause:3.6',
  'docker.io/rancher/klipper-helm:v0.9.12-build20251215',
  'docker.io/rancher/mirrored-coredns-coredns:1.12.0',
].join('\n');

export interface ReleaseInputs {
  k3s: K3sShaped;
  arm64: string;
}

function missingTool(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? undefined : `no \`${cmd}\` on PATH`;
}

/** The real inputs, or why they are not available (the tests then skip with it). */
export async function releaseInputs(): Promise<ReleaseInputs | { skip: string }> {
  for (const [cmd, args] of [
    ['sha256sum', ['--version']],
    ['zstd', ['--version']],
    ['tar', ['--version']],
    ['gzip', ['--version']],
  ] as const) {
    const missing = missingTool(cmd, [...args]);
    if (missing) return { skip: missing };
  }
  const k3s = await k3sShaped('good');
  if ('skip' in k3s) return k3s;
  const arm64 = probeBinary('arm64');
  if ('skip' in arm64) return arm64;
  return { k3s, arm64: arm64.path };
}

export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'k3sguard-verify-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `sha256sum [--tag] NAMES` run in `dir`, written to `dir/out`. */
export function writeSums(dir: string, out: string, names: string[], opts: { tag?: boolean } = {}): string {
  const text = execFileSync('sha256sum', [...(opts.tag ? ['--tag'] : []), ...names], { cwd: dir, encoding: 'utf8' });
  writeFileSync(join(dir, out), text);
  return text;
}

/** The digest as coreutils computes it: the tests' oracle, independent of our hashing. */
export function coreutilsSha256(path: string): string {
  return execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0] as string;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Flip every bit of the byte in the middle of the file; returns its offset. */
export function flipMiddleByte(path: string): number {
  const data = readFileSync(path);
  const at = Math.floor(data.length / 2);
  data[at] = (data[at] as number) ^ 0xff;
  writeFileSync(path, data);
  return at;
}

/**
 * A release folder in `dir`: k3s, k3s-arm64, k3s-images.txt, the amd64 airgap images as
 * .tar.zst and the arm64 ones as .tar.gz, and sha256sum-amd64.txt / sha256sum-arm64.txt.
 */
export function buildRelease(dir: string, inputs: ReleaseInputs): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(inputs.k3s.path, join(dir, 'k3s'));
  copyFileSync(inputs.arm64, join(dir, 'k3s-arm64'));
  writeFileSync(join(dir, 'k3s-images.txt'), `${IMAGES}\n`);
  // An airgap tarball's content does not matter to verify; a real tar of real files does to
  // keep the fixture honest: the image list and a binary, as `ctr export` would not, but sized.
  const tarDir = mkdtempSync(join(tmpdir(), 'k3sguard-airgap-'));
  try {
    copyFileSync(join(dir, 'k3s-images.txt'), join(tarDir, 'images.txt'));
    copyFileSync(inputs.arm64, join(tarDir, 'blob'));
    execFileSync('tar', ['-cf', join(tarDir, 'images.tar'), '-C', tarDir, 'images.txt', 'blob']);
    execFileSync('zstd', [
      '-q',
      '-16',
      '--long=25',
      join(tarDir, 'images.tar'),
      '-o',
      join(dir, 'k3s-airgap-images-amd64.tar.zst'),
    ]);
    const gz = execFileSync('gzip', ['-n', '-c', join(tarDir, 'images.tar')]);
    writeFileSync(join(dir, 'k3s-airgap-images-arm64.tar.gz'), gz);
  } finally {
    rmSync(tarDir, { recursive: true, force: true });
  }
  writeSums(dir, 'sha256sum-amd64.txt', ['k3s-airgap-images-amd64.tar.zst', 'k3s']);
  writeSums(dir, 'sha256sum-arm64.txt', ['k3s-airgap-images-arm64.tar.gz', 'k3s-arm64']);
  return dir;
}
