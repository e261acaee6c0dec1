// The image policy's `requireLocked`: an image is allowed only when its digest is one of the
// images reviewed in k3sguard.lock (the `images` of its locked image archives). Decided from the
// lock file alone, offline: a digest is content, so a reviewed image mirrored under another
// name is still the reviewed image, and a signature (which a stolen key can make for anything)
// does not stand in for the review.
//
// The webhook holds one LockedImages for its lifetime; the file is re-read when its mtime, size
// or inode change, so a merged lock applies without a restart. A lock that cannot be read
// throws (the caller's failure policy applies) rather than admitting everything.
import { statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Finding } from '../../model/inventory.ts';
import { POLICY_RULES } from '../../model/rules/policy.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import type { ImagePolicy } from '../../policy/image-policy.ts';
import { describeArtifact, type LockImage, readLock } from './format.ts';

/** The lock `requireLocked` names, a relative path taken from the policy file's directory. */
export function lockedImagesPath(policy: ImagePolicy): string | undefined {
  const p = policy.requireLocked;
  if (p === undefined) return undefined;
  return isAbsolute(p) ? p : join(dirname(policy.file), p);
}

export interface LockedImage extends LockImage {
  /** The locked artifact (image archive) it was reviewed in. */
  artifact: string;
}

export class LockedImages {
  readonly path: string;
  #stamp = '';
  #byDigest = new Map<string, LockedImage[]>();
  #all: LockedImage[] = [];

  constructor(path: string) {
    this.path = path;
  }

  /** Where the digest was reviewed; empty when it was not. Throws InputError when the lock cannot be read. */
  lookup(digest: string): LockedImage[] {
    this.#refresh();
    return this.#byDigest.get(digest) ?? [];
  }

  /** Locked images named like `repository` (any tag), for a message's "the lock has ..." */
  named(repository: string): LockedImage[] {
    this.#refresh();
    return this.#all.filter((i) => i.name !== undefined && nameRepository(i.name) === repository);
  }

  get size(): number {
    this.#refresh();
    return this.#all.length;
  }

  #refresh(): void {
    let stamp = '';
    try {
      const s = statSync(this.path);
      stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      // readLock names the problem (NOT_FOUND) below.
    }
    if (stamp !== '' && stamp === this.#stamp) return;
    const lock = readLock(this.path, { create: false });
    const all: LockedImage[] = [];
    for (const a of lock.artifacts) for (const i of a.images ?? []) all.push({ ...i, artifact: describeArtifact(a) });
    const byDigest = new Map<string, LockedImage[]>();
    for (const i of all) byDigest.set(i.digest, [...(byDigest.get(i.digest) ?? []), i]);
    this.#all = all;
    this.#byDigest = byDigest;
    this.#stamp = stamp;
  }
}

/** `docker.io/rancher/x:1.0@sha256:…` -> `docker.io/rancher/x`. */
function nameRepository(name: string): string {
  const noDigest = name.split('@')[0] as string;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** Why `repository@digest` is not locked, or undefined when it is. */
export function notLockedMessage(locked: LockedImages, repository: string, digest: string): string | undefined {
  if (locked.lookup(digest).length > 0) return undefined;
  const same = locked.named(repository);
  const aside =
    same.length > 0 ? `; the lock has ${repository} only as ${[...new Set(same.map((i) => i.digest))].join(', ')}` : '';
  return `its digest is none of the ${locked.size} image(s) reviewed in ${locked.path}${aside}`;
}

/** K3SG-POLICY-LOCK for each image of an archive whose digest the policy's lock does not hold. */
export function lockedImageFindings(
  policy: ImagePolicy,
  images: ReadonlyArray<{ names: string[]; manifestDigest?: string; configDigest?: string }>,
  target: string,
): Finding[] {
  const path = lockedImagesPath(policy);
  if (!path) return [];
  const locked = new LockedImages(path);
  const findings: Finding[] = [];
  for (const i of images) {
    // What `lock add` records: the manifest digest, the config's for a Docker-only archive.
    const digest = i.manifestDigest ?? i.configDigest;
    if (!digest) continue;
    const name = i.names[0] ?? digest;
    const repository = nameRepository(name);
    const why = notLockedMessage(locked, repository, digest);
    if (why)
      findings.push(ruleFinding(POLICY_RULES['K3SG-POLICY-LOCK'], `${name} (${digest}): ${why}`, [target, name]));
  }
  return findings;
}
