// One container's image against the image policy, as an admission decision needs it: the name
// rules first (registry, repository, digest; no registry is asked for a name the policy refuses),
// then the digest (the reference's own, or its tag resolved at the registry or from the cache),
// the lock (offline, from the file) and the signature (fetched and verified, or the cached
// verdict). Each problem names the container, the image, the rule and what to do.
//
// With `resolveTags` (the mutating endpoint) a tag is resolved even where digests are required:
// the mutation pins it, and the digest rule is then met by the image as admitted. The digest
// that was checked is returned so the caller can pin exactly what was verified.
import { isInputError } from '../model/errors.ts';
import { checkImageReferences } from '../policy/evaluate.ts';
import { formatImageRef, parseImageRef } from '../readers/images/refs.ts';
import type { RegistryCache } from '../readers/registry/cache.ts';
import { indexPlatforms } from '../readers/registry/platforms.ts';
import { resolveImage } from '../readers/registry/resolve.ts';
import { verifyRegistrySignatures } from '../verify/cosign/registry.ts';
import { LockedImages, lockedImagesPath, notLockedMessage } from '../verify/lock/images.ts';
import type { DecisionContext } from './decide.ts';
import type { ContainerImage } from './review.ts';

/** The rule label of a registry that could not be asked (the failure policy applies). */
export const UNAVAILABLE = 'registry-unavailable';

export interface Problem {
  text: string;
  /** The rule id (K3SG-POLICY-...), or UNAVAILABLE. */
  rule: string;
}

export interface CacheLookup {
  kind: 'tag' | 'verdict';
  hit: boolean;
}

export interface ImageOutcome {
  problems: Problem[];
  /** The digest checked, when the image got that far. */
  digest?: string;
  /** Whether the reference itself pinned it (nothing to mutate). */
  pinned: boolean;
  lookups: CacheLookup[];
}

/** Who the container is in messages: `container "app"`, `init container "setup"`. */
export function containerLabel(c: ContainerImage): string {
  return `${c.field === 'containers' ? 'container' : c.field.replace(/Containers$/, ' container')} "${c.name}"`;
}

// The lock file read once per path and re-read when it changes (LockedImages).
const locks = new Map<string, LockedImages>();
function lockFor(path: string): LockedImages {
  let l = locks.get(path);
  if (!l) {
    l = new LockedImages(path);
    locks.set(path, l);
  }
  return l;
}

export async function checkImage(
  c: ContainerImage,
  ctx: DecisionContext,
  deadline: number,
  opts: { resolveTags?: boolean } = {},
): Promise<ImageOutcome> {
  const who = containerLabel(c);
  const lookups: CacheLookup[] = [];
  const ref = parseImageRef(c.image);
  if (!ref) {
    const text = `${who}: "${c.image}" is not an image reference [K3SG-POLICY-REFERENCE]; write it in full: registry/repository[:tag][@sha256:<digest>]`;
    return { problems: [{ text, rule: 'K3SG-POLICY-REFERENCE' }], pinned: false, lookups };
  }
  const image = formatImageRef(ref);
  const pinned = ref.digest !== undefined;
  const { policy } = ctx;
  const problems: Problem[] = checkImageReferences(policy, [{ text: c.image }], { target: 'admission' })
    .filter((f) => !(opts.resolveTags && f.id === 'K3SG-POLICY-DIGEST'))
    .map((f) => ({ text: `${who} image ${image}: ${f.message} [${f.id}]; ${todo(f.id)}`, rule: f.id }));
  // Registry or repository refused: nothing to fetch from a registry the policy does not trust.
  if (problems.some((p) => p.rule !== 'K3SG-POLICY-DIGEST')) return { problems, pinned, lookups };
  if (!pinned && policy.requireDigest && !opts.resolveTags) return { problems, pinned, lookups };
  const lockPath = lockedImagesPath(policy);
  // Nothing needs the digest: no registry is asked.
  if (!policy.requireSignature && !lockPath && (pinned || !opts.resolveTags)) return { problems, pinned, lookups };
  const call = { deadline, ...(ctx.cache ? { cache: ctx.cache } : {}), ...(ctx.offline ? { offline: true } : {}) };
  let digest: string | undefined;
  try {
    const resolved = await resolveImage(ctx.client, ref, call);
    digest = resolved.digest;
    if (ctx.cache && resolved.source !== 'reference') lookups.push({ kind: 'tag', hit: resolved.source === 'cache' });
    const at = `${resolved.repository}@${resolved.digest}`;
    if (lockPath) {
      const why = await lockProblem(lockPath, resolved.repository, resolved.digest, ctx, call);
      if (why) {
        problems.push({
          text: `${who} image ${at}: ${why} [K3SG-POLICY-LOCK]; review it and record it (k3sguard lock add of its archive, then commit the lock), or use a digest the lock lists`,
          rule: 'K3SG-POLICY-LOCK',
        });
      }
    }
    if (policy.requireSignature) {
      const verdict = await verifyRegistrySignatures(policy, resolved.repository, resolved.digest, {
        ...call,
        ...(ctx.client ? { client: ctx.client } : {}),
        ...(ctx.trustedRootPath ? { trustedRootPath: ctx.trustedRootPath } : {}),
        ...(ctx.resolvedPolicies ? { resolvedPolicies: ctx.resolvedPolicies } : {}),
      });
      if (ctx.cache) lookups.push({ kind: 'verdict', hit: verdict.fromCache });
      for (const r of verdict.requirements) {
        if (r.met) continue;
        problems.push({
          text: `${who} image ${at}: signature required (${r.requirement}) but ${r.reason} [K3SG-POLICY-SIGNATURE]; ${r.hint ?? 'sign it (cosign sign)'}`,
          rule: 'K3SG-POLICY-SIGNATURE',
        });
      }
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (ctx.cache && code === 'REGISTRY_OFFLINE') lookups.push({ kind: digest ? 'verdict' : 'tag', hit: false });
    const late = Date.now() >= deadline;
    const rule = policy.requireSignature
      ? 'K3SG-POLICY-SIGNATURE'
      : lockPath
        ? 'K3SG-POLICY-LOCK'
        : 'K3SG-POLICY-DIGEST';
    problems.push({
      text: `${who} image ${image}: ${digest ? 'its signature' : 'its digest'} could not be checked: ${late ? 'the deadline passed' : (e as Error).message}${code ? ` (${code})` : ''} [${rule}, registry unavailable]; make the registry reachable, or pre-fill the cache (the webhook decides offline from it)`,
      rule: UNAVAILABLE,
    });
  }
  return { problems, pinned, lookups, ...(digest ? { digest } : {}) };
}

/**
 * Why `repository@digest` is not reviewed in the lock, or undefined. A multi-platform index is
 * reviewed when every platform manifest it lists is (the lock records the platform manifests of
 * the archives it reviewed; each node runs the one for its platform). Every problem here is the
 * policy's, never forgiven by fail-open: a lock that cannot be read, or an index that cannot be
 * read, admits nothing.
 */
async function lockProblem(
  lockPath: string,
  repository: string,
  digest: string,
  ctx: DecisionContext,
  call: { deadline: number; cache?: RegistryCache; offline?: boolean },
): Promise<string | undefined> {
  let locked: LockedImages;
  let why: string | undefined;
  try {
    locked = lockFor(lockPath);
    why = notLockedMessage(locked, repository, digest);
  } catch (e) {
    return `the lock cannot be read: ${isInputError(e) ? e.oneLine() : (e as Error).message}`;
  }
  if (!why) return undefined;
  let platforms: Awaited<ReturnType<typeof indexPlatforms>>;
  try {
    platforms = await indexPlatforms(ctx.client, repository, digest, call);
  } catch (e) {
    return `${why} (and whether it is a multi-platform index of reviewed images could not be read: ${(e as Error).message})`;
  }
  if (!platforms) return why;
  const missing = platforms.filter((p) => locked.lookup(p.digest).length === 0);
  if (platforms.length > 0 && missing.length === 0) return undefined;
  const list = missing.map((p) => `${p.platform} ${p.digest}`).join(', ');
  return `it is a multi-platform index, and not every platform it lists is among the ${locked.size} image(s) reviewed in ${locked.path}: ${list || 'it lists none'}; review each platform's image (lock add of each arch's archive), or name the digest of your nodes' platform manifest`;
}

function todo(rule: string): string {
  switch (rule) {
    case 'K3SG-POLICY-DIGEST':
      return 'reference it by digest (image@sha256:...), e.g. from `crane digest` or `skopeo inspect`';
    case 'K3SG-POLICY-REGISTRY':
    case 'K3SG-POLICY-REPOSITORY':
      return "use an image from an allowed registry and repository (mirror it there), or widen the policy's allow-list";
    default:
      return 'fix the image reference';
  }
}
