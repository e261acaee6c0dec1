// Inputs for the vulnerability database tests: the real OSV records in ../shared/data, zips
// made by real tools (Info-ZIP's `zip`, python3's zipfile), and temp dirs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_DIR, SHARED_DATA } from '../fixtures/realbins.ts';

export const GOVULNDB = join(SHARED_DATA, 'govulndb');
export const GHSA_K3S = join(SHARED_DATA, 'ghsa-k3s');

/** Why the shared records cannot be used, or undefined when they can. */
export const noSharedData: string | undefined =
  existsSync(join(GOVULNDB, 'GO-2024-2491.json')) && existsSync(join(GHSA_K3S, 'GHSA-m4hf-6vgr-75r2.json'))
    ? undefined
    : `../shared/data/govulndb and ghsa-k3s are not present (looked in ${SHARED_DATA})`;

const has = (cmd: string, arg: string): boolean => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
export const noZipTool: string | undefined = has('zip', '-v')
  ? undefined
  : 'Info-ZIP `zip` is not installed (apt-get install zip)';
export const noPython: string | undefined = has('python3', '--version') ? undefined : 'python3 is not on PATH';

/** A fresh temp dir, removed when the test process ends. */
export function tempDir(prefix = 'k3sguard-vulndb-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `zip -q ARGS` in `cwd` (Info-ZIP). */
export function zip(cwd: string, args: string[]): void {
  execFileSync('zip', ['-q', ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A zip written by python3's zipfile: entries as [name, utf-8 text], names kept verbatim. */
export function pythonZip(dest: string, entries: [string, string][], method: 'stored' | 'deflated' = 'deflated'): void {
  const script = [
    'import json, sys, zipfile',
    'dest, method, entries = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())',
    'm = zipfile.ZIP_STORED if method == "stored" else zipfile.ZIP_DEFLATED',
    'with zipfile.ZipFile(dest, "w", m) as z:',
    '    for name, text in entries: z.writestr(zipfile.ZipInfo(name), text.encode(), compress_type=m)',
  ].join('\n');
  execFileSync('python3', ['-c', script, dest, method], { input: JSON.stringify(entries) });
}

/** The govulndb folder as an all.zip (flat names, as OSV's export), made once per process. */
let allZip: string | undefined;
export function govulndbZip(): string {
  if (allZip) return allZip;
  const dir = tempDir('k3sguard-allzip-');
  zip(GOVULNDB, ['-r', '-D', join(dir, 'all.zip'), '.']);
  allZip = join(dir, 'all.zip');
  return allZip;
}

/**
 * 2 GiB of zeros, deflated by Info-ZIP `zip` into a ~2 MB archive: a zip bomb. Made once (about
 * 10 s, from a sparse file, so no disk is used for the zeros) and cached in the test cache.
 */
export function zipBomb(): string {
  const dir = join(CACHE_DIR, 'vulndb');
  const dest = join(dir, 'bomb-2gib-zeros.zip');
  if (existsSync(dest)) return dest;
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(dir, 'make-'));
  try {
    execFileSync('truncate', ['-s', '2G', 'GO-2099-0001.json'], { cwd: work });
    zip(work, ['bomb.zip', 'GO-2099-0001.json']);
    renameSync(join(work, 'bomb.zip'), dest);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dest;
}

/** A minimal valid OSV record for a Go module. */
export function osv(id: string, module: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: '1.3.1',
    id,
    modified: '2024-01-01T00:00:00Z',
    affected: [
      { package: { ecosystem: 'Go', name: module }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] },
    ],
    ...extra,
  };
}
