// Is a node file one that was reviewed? The same rule as `verify --lock`: its digest must be
// locked under its name (a digest locked under another name is not the reviewed artifact,
// though the message says so, as it is the likely explanation).

import { describeArtifact, type Lockfile } from '../../verify/lock/format.ts';
import { RELEASE_ARCHES } from '../../verify/release-layout.ts';

// install.sh installs every arch's binary as `k3s`: an installed k3s may be any of them.
const K3S_BINARIES = new Set(RELEASE_ARCHES.map((r) => r.binary));

export type LockStatus = { kind: 'locked' } | { kind: 'not-locked'; why: string };

/** `name`: the file's base name; `lockName`: how messages name the lock file. */
export function lockStatus(lock: Lockfile, lockName: string, name: string, sha256: string): LockStatus {
  const named = lock.artifacts.filter((a) => a.name === name || (name === 'k3s' && K3S_BINARIES.has(a.name)));
  if (named.some((a) => a.sha256 === sha256)) return { kind: 'locked' };
  const elsewhere = lock.artifacts.find((a) => a.sha256 === sha256);
  const aside = elsewhere ? `; ${lockName} has this digest as ${describeArtifact(elsewhere)}` : '';
  if (named.length === 0) return { kind: 'not-locked', why: `no ${name} in ${lockName}${aside}` };
  const which = named.length === 1 ? 'not the one' : `none of the ${named.length}`;
  return { kind: 'not-locked', why: `its sha256 ${sha256} is ${which} locked for ${name} in ${lockName}${aside}` };
}
