// verify --lock: a file passes only if its digest is in k3sguard.lock under its name. A digest
// the lock holds under another name is still a failure (a renamed file is not the reviewed
// artifact), but the message says so, as it is the likely explanation.
import { basename, join } from 'node:path';
import { type FileDigest, Hasher } from '../../io/hashing.ts';
import { requireFile } from '../checksums.ts';
import { HINTS } from '../hints.ts';
import type { VerifyCheck, VerifyReport } from '../model.ts';
import { listFolder, unexpected } from '../release.ts';
import { RELEASE_ARCHES } from '../release-layout.ts';
import { describeArtifact, readLock } from './format.ts';

// install.sh installs every arch's binary as `k3s`: an installed k3s may be any of them.
const K3S_BINARIES = new Set(RELEASE_ARCHES.map((r) => r.binary));

/** Each file's digest must be locked under its name: else 'not-listed', or 'mismatch'. */
export async function verifyAgainstLock(
  lockPath: string,
  target: readonly string[] | { release: string },
  opts: { hasher?: Hasher } = {},
): Promise<VerifyReport> {
  const lock = readLock(lockPath, { create: false });
  const label = basename(lockPath);
  const checks: VerifyCheck[] = [];
  let files: string[];
  if ('release' in target) {
    files = [];
    for (const e of listFolder(target.release)) {
      const path = join(target.release, e.name);
      if (e.isFile()) files.push(path);
      else checks.push(unexpected(path, 'not a regular file'));
    }
  } else {
    files = [...target];
    for (const f of files) requireFile(f);
  }
  const digests = await (opts.hasher ?? new Hasher()).digestAll(files.map((path) => ({ path })));
  files.forEach((f, i) => {
    const digest = digests[i] as FileDigest;
    const name = basename(f);
    const named = lock.artifacts.filter((a) => a.name === name || (name === 'k3s' && K3S_BINARIES.has(a.name)));
    const match = named.find((a) => a.sha256 === digest.sha256);
    if (match) {
      const sources = match.sources.map((s) => s.name).join(', ');
      checks.push({
        kind: 'lock',
        subject: f,
        status: 'ok',
        detail: `locked as ${describeArtifact(match)} (sources: ${sources})`,
        actual: digest.sha256,
      });
      return;
    }
    const elsewhere = lock.artifacts.find((a) => a.sha256 === digest.sha256);
    const aside = elsewhere ? `; ${label} has this digest as ${describeArtifact(elsewhere)}` : '';
    checks.push(
      named.length === 0
        ? {
            kind: 'lock',
            subject: f,
            status: 'not-listed',
            detail: `no ${name} in ${label}${aside}`,
            actual: digest.sha256,
            hint: HINTS.lockNotListed(label),
          }
        : {
            kind: 'lock',
            subject: f,
            status: 'mismatch',
            detail: `sha256 is none of the ${named.length} locked for ${name}${aside}`,
            expected: named.map((a) => a.sha256).join(' or '),
            actual: digest.sha256,
            hint: HINTS.lockMismatch(label),
          },
    );
  });
  return { checks };
}
