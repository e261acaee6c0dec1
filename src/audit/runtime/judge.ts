// The image policy and the lock, held against what containerd lists: the names of each image
// (registries, repositories, and tags a reviewed airgap tarball brought, which must still
// point where the lock says) and the image each live container was created from (also by
// digest when the policy wants it). The names are judged by the policy's own evaluation
// (src/policy/evaluate.ts); its findings are re-issued under the runtime rules, which say that
// the subject is an image stored on the node, or a container running there.
import type { Finding, Location } from '../../model/inventory.ts';
import type { PolicyRuleId } from '../../model/rules/policy.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import { RUNTIME_RULES, type RuntimeRuleId } from '../../model/rules/runtime.ts';
import { evaluateImagePolicy } from '../../policy/evaluate.ts';
import type { ImagePolicy } from '../../policy/image-policy.ts';
import { formatImageRef, normalizeImageRef, parseImageRef } from '../../readers/images/refs.ts';
import type { Lockfile } from '../../verify/lock/format.ts';

/** CRI keeps a record named by the bare image id beside the named ones: it names no registry. */
const DIGEST_ONLY = /^sha256:[0-9a-f]{64}$/;
/** Cosign's signature, attestation and SBOM tags are artifacts stored as images, not images to run. */
const COSIGN_TAG = /:sha256-[0-9a-f]{64}\.(?:sig|att|sbom)$/;

/** The names of an image the policy speaks about. */
export function judgedNames(names: readonly string[]): string[] {
  return names.filter((n) => !DIGEST_ONLY.test(n) && !COSIGN_TAG.test(n));
}

/** `repo:tag@sha256:...`: a name and the content it points at now (a stable subject). */
export function nameAtDigest(name: string, digest: string): string {
  const ref = parseImageRef(name);
  if (!ref) return `${name}@${digest}`;
  return ref.digest ? formatImageRef(ref) : `${formatImageRef(ref)}@${digest}`;
}

/** `repo@sha256:...`: how an image is named in locations, whatever tags point at it. */
export function imageSubject(names: readonly string[], digest: string): string {
  for (const n of judgedNames(names)) {
    const ref = parseImageRef(n);
    if (ref) return `${ref.repository}@${digest}`;
  }
  return digest;
}

const IMAGE_IDS: Partial<Record<PolicyRuleId, RuntimeRuleId>> = {
  'K3SG-POLICY-REGISTRY': 'K3SG-RUNTIME-IMAGE-REGISTRY',
  'K3SG-POLICY-REPOSITORY': 'K3SG-RUNTIME-IMAGE-REPOSITORY',
  'K3SG-POLICY-REFERENCE': 'K3SG-RUNTIME-REFERENCE',
};

const CONTAINER_IDS: Partial<Record<PolicyRuleId, RuntimeRuleId>> = {
  'K3SG-POLICY-REGISTRY': 'K3SG-RUNTIME-CONTAINER-REGISTRY',
  'K3SG-POLICY-REPOSITORY': 'K3SG-RUNTIME-CONTAINER-REPOSITORY',
  'K3SG-POLICY-DIGEST': 'K3SG-RUNTIME-CONTAINER-DIGEST',
  'K3SG-POLICY-REFERENCE': 'K3SG-RUNTIME-REFERENCE',
};

function reissue(
  found: readonly Finding[],
  ids: Partial<Record<PolicyRuleId, RuntimeRuleId>>,
  prefix: string,
  location: Location,
): Finding[] {
  const out: Finding[] = [];
  for (const f of found) {
    const id = ids[f.id as PolicyRuleId];
    if (id) out.push(ruleFinding(RUNTIME_RULES[id], `${prefix}${f.message}`, location));
  }
  return out;
}

/**
 * The policy's registry and repository rules for each name of an image. Tags are not judged
 * here: importing an airgap tarball tags its images, and what runs by tag is reported on the
 * container.
 */
export function judgeImageNames(
  policy: ImagePolicy,
  names: readonly string[],
  digest: string,
  scope: Location,
): Finding[] {
  const namesOnly: ImagePolicy = { ...policy, requireDigest: false };
  return judgedNames(names).flatMap((name) => {
    const found = evaluateImagePolicy(namesOnly, [{ names: [name], manifestDigest: digest }], { target: '' });
    return reissue(found, IMAGE_IDS, '', [...scope, 'image', nameAtDigest(name, digest)]);
  });
}

export interface JudgedContainer {
  id: string;
  image: string;
  imageDigest?: string;
  pod?: { name: string; namespace: string };
}

/** The policy's rules for the image a live container was created from, digest rule included. */
export function judgeContainer(policy: ImagePolicy, c: JudgedContainer, scope: Location): Finding[] {
  const pod = c.pod ? ` (pod ${c.pod.namespace}/${c.pod.name})` : '';
  const prefix = `container ${c.id}${pod} runs ${c.image || '(no image)'}: `;
  const found = evaluateImagePolicy(
    policy,
    [{ names: [c.image], ...(c.imageDigest ? { manifestDigest: c.imageDigest } : {}) }],
    { target: '' },
  );
  return reissue(found, CONTAINER_IDS, prefix, [...scope, 'container', c.id]);
}

/** The digests the lock records for each image name of its image archives (names normalized). */
export function lockedImageDigests(lock: Lockfile): Map<string, { digests: Set<string>; archives: Set<string> }> {
  const out = new Map<string, { digests: Set<string>; archives: Set<string> }>();
  for (const a of lock.artifacts) {
    for (const i of a.images ?? []) {
      const name = i.name && normalizeImageRef(i.name);
      if (!name) continue;
      const entry = out.get(name) ?? { digests: new Set(), archives: new Set() };
      entry.digests.add(i.digest);
      entry.archives.add(a.name);
      out.set(name, entry);
    }
  }
  return out;
}

/**
 * A name the lock knows from a reviewed archive must point at a digest the lock records for
 * it: the target itself, or (an index target) the platform manifest the lock names.
 */
export function judgeLockedTags(
  locked: ReturnType<typeof lockedImageDigests>,
  lockName: string,
  names: readonly string[],
  digests: { target: string; manifest?: string },
  scope: Location,
): Finding[] {
  const out: Finding[] = [];
  for (const name of judgedNames(names)) {
    const normalized = normalizeImageRef(name);
    const entry = normalized ? locked.get(normalized) : undefined;
    if (!entry) continue;
    if (entry.digests.has(digests.target) || (digests.manifest && entry.digests.has(digests.manifest))) continue;
    const now = digests.manifest && digests.manifest !== digests.target ? ` (manifest ${digests.manifest})` : '';
    out.push(
      ruleFinding(
        RUNTIME_RULES['K3SG-RUNTIME-TAG-MOVED'],
        `${normalized} points at ${digests.target}${now}, but ${lockName} records ${[...entry.digests].sort().join(', ')} for it (from ${[...entry.archives].sort().join(', ')})`,
        [...scope, 'image', nameAtDigest(name, digests.target)],
      ),
    );
  }
  return out;
}
