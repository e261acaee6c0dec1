// The platform manifests of a multi-platform image (an OCI index or a Docker manifest list) by
// its digest, as a decision about what nodes would run needs them: a pod that names an index
// runs, on each node, the manifest for that node's platform. Content-addressed, so the answer
// (including "not an index") is cached for long; offline, only the cache answers.
import { InputError } from '../../model/errors.ts';
import type { RegistryCache } from './cache.ts';
import { type CallOptions, MEDIA_TYPES, type RegistryClient } from './client.ts';

/** A digest's content never changes: a day bounds only the cache's size. */
export const INDEX_TTL_MS = 24 * 60 * 60_000;

export interface PlatformManifest {
  digest: string;
  /** `linux/arm64/v8`, or `unknown` when the index does not say. */
  platform: string;
}

export interface PlatformOptions extends CallOptions {
  cache?: RegistryCache;
  offline?: boolean;
}

interface Cached {
  index: boolean;
  platforms: PlatformManifest[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

const isCached = (v: unknown): v is Cached =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Cached).index === 'boolean' &&
  Array.isArray((v as Cached).platforms) &&
  (v as Cached).platforms.every(
    (p) => typeof p?.platform === 'string' && typeof p?.digest === 'string' && DIGEST.test(p.digest),
  );

/**
 * The runnable platform manifests of `repository@digest` when it is an index; undefined when it
 * is a single image manifest. Attestation manifests (platform `unknown/unknown`, which BuildKit
 * adds) are left out: no node runs them.
 */
export async function indexPlatforms(
  client: RegistryClient | undefined,
  repository: string,
  digest: string,
  opts: PlatformOptions = {},
): Promise<PlatformManifest[] | undefined> {
  const key = `${repository}@${digest}`;
  const hit = await opts.cache?.get('index', key, isCached);
  if (hit) return hit.value.index ? hit.value.platforms : undefined;
  if (opts.offline || !client) {
    const why = opts.cache ? 'the cache does not hold its manifest' : 'there is no cache';
    throw new InputError('REGISTRY_OFFLINE', key, `offline, and ${why}`);
  }
  const m = await client.manifest(repository, digest, opts.deadline !== undefined ? { deadline: opts.deadline } : {});
  const index = m.mediaType === MEDIA_TYPES.ociIndex || m.mediaType === MEDIA_TYPES.dockerList;
  const platforms: PlatformManifest[] = [];
  if (index) {
    const list = Array.isArray(m.json.manifests) ? (m.json.manifests as unknown[]) : [];
    for (const entry of list) {
      const e = entry as { digest?: unknown; platform?: { os?: unknown; architecture?: unknown; variant?: unknown } };
      if (typeof e?.digest !== 'string' || !DIGEST.test(e.digest)) {
        throw new InputError('REGISTRY_PROTOCOL', key, 'an index entry has no sha256 digest');
      }
      const p = e.platform;
      const parts = [p?.os, p?.architecture, p?.variant].filter((x): x is string => typeof x === 'string' && x !== '');
      const platform = parts.length >= 2 ? parts.join('/') : 'unknown';
      if (p?.os === 'unknown' && p?.architecture === 'unknown') continue;
      platforms.push({ digest: e.digest, platform });
    }
  }
  await opts.cache?.put('index', key, { index, platforms } satisfies Cached, INDEX_TTL_MS);
  return index ? platforms : undefined;
}
