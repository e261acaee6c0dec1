// A reference to the digest it names, the way a decision needs it: a digest reference is its
// own answer (no request); a tag is answered from the cache while its entry is fresh (tags move,
// so the time to live is short), else from the registry, and the answer is cached. Offline,
// only the cache answers, and a tag it does not hold is REGISTRY_OFFLINE, saying so.
import { InputError } from '../../model/errors.ts';
import { formatImageRef, type ImageRef, parseImageRef } from '../images/refs.ts';
import type { RegistryCache } from './cache.ts';
import type { CallOptions, RegistryClient } from './client.ts';

/** Default time a tag resolution is reused: long enough for a burst of pods, short enough for a re-push. */
export const TAG_TTL_MS = 60_000;

export interface ImageDigest {
  /** Normalized: `docker.io/library/debian`. */
  repository: string;
  /** The tag or digest the reference gave. */
  reference: string;
  digest: string;
  /** Where the digest came from. */
  source: 'reference' | 'cache' | 'registry';
}

export interface ResolveImageOptions extends CallOptions {
  cache?: RegistryCache;
  /** Answer from the cache only; no client needed. */
  offline?: boolean;
  tagTtlMs?: number;
}

interface CachedTag {
  digest: string;
}

const isCachedTag = (v: unknown): v is CachedTag =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as CachedTag).digest === 'string' &&
  /^sha256:[0-9a-f]{64}$/.test((v as CachedTag).digest);

export async function resolveImage(
  client: RegistryClient | undefined,
  ref: ImageRef | string,
  opts: ResolveImageOptions = {},
): Promise<ImageDigest> {
  const parsed = typeof ref === 'string' ? parseImageRef(ref) : ref;
  if (!parsed) throw new InputError('USAGE', String(ref), 'not an image reference');
  const { repository } = parsed;
  if (parsed.digest) return { repository, reference: parsed.digest, digest: parsed.digest, source: 'reference' };
  const tag = parsed.tag ?? 'latest';
  const key = `${repository}:${tag}`;
  const hit = await opts.cache?.get('tag', key, isCachedTag);
  if (hit) return { repository, reference: tag, digest: hit.value.digest, source: 'cache' };
  if (opts.offline || !client) {
    const why = opts.cache ? 'the cache holds no fresh resolution of it' : 'there is no cache';
    throw new InputError(
      'REGISTRY_OFFLINE',
      formatImageRef(parsed),
      `offline, and ${why}: pin the digest (@sha256:...)`,
    );
  }
  const r = await client.resolve(parsed, opts.deadline !== undefined ? { deadline: opts.deadline } : {});
  await opts.cache?.put('tag', key, { digest: r.digest } satisfies CachedTag, opts.tagTtlMs ?? TAG_TTL_MS);
  return { repository, reference: tag, digest: r.digest, source: 'registry' };
}
