// An image's cosign signatures as its registry keeps them: the manifest tagged
// `sha256-<hex>.sig` in the image's repository (hex: the signed digest), whose simplesigning
// layers are the signed payloads and whose layer annotations carry the signature, certificate,
// chain and Rekor bundle; when there is no such tag, the OCI 1.1 referrers of the digest of
// cosign's signature artifact type (cosign's `--registry-referrers-mode=oci-1-1`), whose
// manifests hold the same layers. The same SignatureLayer readers/images/cosign-layout.ts makes
// from an archive, so verify/cosign checks both alike.
//
// Whatever the registry serves as a signature is untrusted content: a malformed manifest, a
// payload that is missing, too large or not its digest becomes a problem on the result (a
// signature that fails), never an error, so a fail-open caller cannot be steered into admitting
// by a damaged `.sig`. Only the registry failing as a service (unreachable, refusing
// credentials, timing out, unavailable) is thrown: that is no verdict on the signature.
import { InputError } from '../../model/errors.ts';
import { LIMITS } from '../../model/limits.ts';
import { SIMPLE_SIGNING_MEDIA_TYPE, type SignatureLayer } from '../images/cosign-layout.ts';
import { type CallOptions, type FetchedManifest, MEDIA_TYPES, type RegistryClient } from './client.ts';

/** The artifactType of a cosign signature manifest stored as an OCI 1.1 referrer. */
export const COSIGN_SIGNATURE_ARTIFACT = 'application/vnd.dev.cosign.artifact.sig.v1+json';

export type RegistrySignatures =
  | { found: false; tag: string }
  | {
      found: true;
      tag: string;
      via: 'tag' | 'referrers';
      /** The signature manifests read (their digests). */
      manifests: string[];
      layers: SignatureLayer[];
      /** What was wrong with what the registry served, each a failed signature. */
      problems: string[];
    };

/** Content errors: the registry answered, with something that is not a usable signature. */
const CONTENT_ERRORS = ['REGISTRY_PROTOCOL', 'DIGEST_MISMATCH', 'REGISTRY_LIMIT'];
const isContentError = (e: unknown): e is InputError => e instanceof InputError && CONTENT_ERRORS.includes(e.code);

/** The tag cosign stores an image's signatures under. */
export function signatureTag(digest: string): string {
  return `sha256-${digest.slice('sha256:'.length)}.sig`;
}

/** The signature manifests of `digest` in `repository` and their simplesigning layers with payloads. */
export async function fetchSignatures(
  client: RegistryClient,
  repository: string,
  digest: string,
  opts: CallOptions = {},
): Promise<RegistrySignatures> {
  const tag = signatureTag(digest);
  // One deadline for the manifests and every payload: a slow registry cannot multiply it.
  const call = { deadline: opts.deadline ?? client.defaultDeadline() };
  const found = {
    found: true as const,
    tag,
    manifests: [] as string[],
    layers: [] as SignatureLayer[],
    problems: [] as string[],
  };
  let tagged: FetchedManifest | undefined;
  try {
    tagged = await client.manifest(repository, tag, call);
  } catch (e) {
    if (isContentError(e)) {
      found.problems.push(`${repository}:${tag}: ${e.message}`);
      return { ...found, via: 'tag' };
    }
    if (!(e instanceof InputError && e.code === 'REGISTRY_NOT_FOUND')) throw e;
  }
  if (tagged) {
    await collect(client, repository, `${repository}:${tag}`, tagged, found, call);
    return { ...found, via: 'tag' };
  }
  let referrers: Awaited<ReturnType<RegistryClient['referrers']>>;
  try {
    referrers = await client.referrers(repository, digest, COSIGN_SIGNATURE_ARTIFACT, call);
  } catch (e) {
    if (!isContentError(e)) throw e;
    found.problems.push(`${repository}@${digest} referrers: ${e.message}`);
    return { ...found, via: 'referrers' };
  }
  if (!referrers || referrers.length === 0) return { found: false, tag };
  for (const r of referrers.slice(0, LIMITS.registrySignatureLayers)) {
    const source = `${repository}@${r.digest} (referrer)`;
    try {
      const m = await client.manifest(repository, r.digest, call);
      await collect(client, repository, source, m, found, call);
    } catch (e) {
      if (!isContentError(e) && !(e instanceof InputError && e.code === 'REGISTRY_NOT_FOUND')) throw e;
      found.problems.push(`${source}: ${(e as Error).message}`);
    }
  }
  return { ...found, via: 'referrers' };
}

/** The simplesigning layers of one signature manifest, with their payloads, into `into`. */
async function collect(
  client: RegistryClient,
  repository: string,
  source: string,
  manifest: FetchedManifest,
  into: { manifests: string[]; layers: SignatureLayer[]; problems: string[] },
  call: CallOptions,
): Promise<void> {
  into.manifests.push(manifest.digest);
  if (manifest.mediaType !== MEDIA_TYPES.ociManifest && manifest.mediaType !== MEDIA_TYPES.dockerManifest) {
    into.problems.push(`${source}: not an image manifest (${manifest.mediaType})`);
    return;
  }
  const raw = manifest.json.layers;
  if (!Array.isArray(raw)) {
    into.problems.push(`${source}: the signature manifest has no layers list`);
    return;
  }
  const wanted: Array<{ n: number; d: NonNullable<ReturnType<typeof descriptor>> }> = [];
  for (const [i, l] of raw.entries()) {
    const d = descriptor(l);
    if (!d) {
      into.problems.push(`${source} layer ${i + 1}: not a descriptor (mediaType, digest, size)`);
      continue;
    }
    if (d.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue;
    if (into.layers.length + wanted.length >= LIMITS.registrySignatureLayers) {
      into.problems.push(
        `${source}: more than ${LIMITS.registrySignatureLayers} signature layers; the rest were not verified`,
      );
      break;
    }
    wanted.push({ n: i + 1, d });
  }
  // The payloads are small and independent: fetched together, kept in layer order.
  const payloads = await Promise.all(wanted.map(({ d }) => payload(client, repository, d, call)));
  wanted.forEach(({ n, d }, k) => {
    into.layers.push({
      source: `${source} layer ${n}`,
      annotations: d.annotations,
      payload: payloads[k] as SignatureLayer['payload'],
    });
  });
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
    if (isContentError(e) || (e instanceof InputError && e.code === 'REGISTRY_NOT_FOUND')) {
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
