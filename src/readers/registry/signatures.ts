// An image's cosign signatures as its registry keeps them: the manifest tagged
// `sha256-<hex>.sig` in the image's repository (hex: the signed digest), whose simplesigning
// layers are the signed payloads and whose layer annotations carry the signature, certificate,
// chain and Rekor bundle. The same SignatureLayer readers/images/cosign-layout.ts makes from an
// archive, so verify/cosign checks both alike. Payloads are fetched by digest (checked) and
// bounded; what cannot be fetched is reported on the layer, not thrown, except when the
// registry itself fails (unreachable, auth, timeout), which is no verdict on the signature.
// The OCI 1.1 referrers API is not asked: cosign writes `.sig` tags unless told otherwise.
import { InputError } from '../../model/errors.ts';
import { LIMITS } from '../../model/limits.ts';
import { SIMPLE_SIGNING_MEDIA_TYPE, type SignatureLayer } from '../images/cosign-layout.ts';
import { type CallOptions, MEDIA_TYPES, type RegistryClient } from './client.ts';

export type RegistrySignatures =
  | { found: false; tag: string }
  | { found: true; tag: string; manifestDigest: string; layers: SignatureLayer[]; problems: string[] };

/** The tag cosign stores an image's signatures under. */
export function signatureTag(digest: string): string {
  return `sha256-${digest.slice('sha256:'.length)}.sig`;
}

/** The `.sig` manifest of `digest` in `repository` and its simplesigning layers with their payloads. */
export async function fetchSignatures(
  client: RegistryClient,
  repository: string,
  digest: string,
  opts: CallOptions = {},
): Promise<RegistrySignatures> {
  const tag = signatureTag(digest);
  // One deadline for the manifest and every payload: a slow registry cannot multiply it.
  opts = { deadline: opts.deadline ?? client.defaultDeadline() };
  let manifest: Awaited<ReturnType<RegistryClient['manifest']>>;
  try {
    manifest = await client.manifest(repository, tag, opts);
  } catch (e) {
    if (e instanceof InputError && e.code === 'REGISTRY_NOT_FOUND') return { found: false, tag };
    throw e;
  }
  const source = `${repository}:${tag}`;
  if (manifest.mediaType !== MEDIA_TYPES.ociManifest && manifest.mediaType !== MEDIA_TYPES.dockerManifest) {
    throw new InputError(
      'REGISTRY_PROTOCOL',
      source,
      `a signature tag that is not an image manifest (${manifest.mediaType})`,
    );
  }
  const raw = manifest.json.layers;
  if (!Array.isArray(raw))
    throw new InputError('REGISTRY_PROTOCOL', source, 'the signature manifest has no layers list');
  const layers: SignatureLayer[] = [];
  const problems: string[] = [];
  for (const [i, l] of raw.entries()) {
    const d = descriptor(l);
    if (!d) {
      problems.push(`${source} layer ${i + 1}: not a descriptor (mediaType, digest, size)`);
      continue;
    }
    if (d.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue;
    if (layers.length >= LIMITS.registrySignatureLayers) {
      problems.push(
        `${source}: more than ${LIMITS.registrySignatureLayers} signature layers; the rest were not verified`,
      );
      break;
    }
    layers.push({
      source: `${source} layer ${i + 1}`,
      annotations: d.annotations,
      payload: await payload(client, repository, d, opts),
    });
  }
  return { found: true, tag, manifestDigest: manifest.digest, layers, problems };
}

async function payload(
  client: RegistryClient,
  repository: string,
  d: { digest: string; size: number },
  opts: CallOptions,
): Promise<SignatureLayer['payload']> {
  if (d.size > LIMITS.registrySignatureBlobBytes) {
    return {
      problem: `payload ${d.digest} declares ${d.size} bytes, over the limit of ${LIMITS.registrySignatureBlobBytes}`,
    };
  }
  try {
    const bytes = await client.blob(repository, d.digest, d.size, opts);
    if (bytes.length !== d.size) return { problem: `payload ${d.digest} is ${bytes.length} bytes, not ${d.size}` };
    return { bytes };
  } catch (e) {
    // A payload missing or damaged is a failed signature; the registry failing is no verdict.
    if (e instanceof InputError && ['REGISTRY_NOT_FOUND', 'DIGEST_MISMATCH', 'REGISTRY_LIMIT'].includes(e.code)) {
      return { problem: `payload ${d.digest}: ${e.message}` };
    }
    throw e;
  }
}

function descriptor(
  v: unknown,
): { mediaType: string; digest: string; size: number; annotations: Record<string, string> } | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (
    typeof o.mediaType !== 'string' ||
    typeof o.digest !== 'string' ||
    !Number.isSafeInteger(o.size) ||
    (o.size as number) < 0
  ) {
    return undefined;
  }
  const annotations: Record<string, string> = {};
  if (typeof o.annotations === 'object' && o.annotations !== null) {
    for (const [k, val] of Object.entries(o.annotations)) if (typeof val === 'string') annotations[k] = val;
  }
  return { mediaType: o.mediaType, digest: o.digest, size: o.size as number, annotations };
}
