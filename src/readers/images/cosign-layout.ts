// Where cosign keeps an image's signatures, as an archive or OCI layout holds them: beside the
// image, as another "image" tagged `sha256-<hex>.sig` (hex: the signed manifest or index
// digest). That manifest's layers of media type simplesigning are the signed payloads; each
// layer descriptor's annotations carry the signature and, for keyless signing, the Fulcio
// certificate, its chain and the Rekor entry. Everything here is read from the JSON members
// readImages kept and checked (digests), so nothing is streamed again.
import { createHash } from 'node:crypto';
import { parseJsonText } from '../../io/json-text.ts';
import { type Descriptor, descriptorList, type JsonObject } from './json.ts';
import { blobPath } from './resolve-oci.ts';
import type { ImageArchiveResult, ImageInfo } from './types.ts';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';

/** The layer annotations cosign writes (sigstore/cosign pkg/oci/static). */
export const COSIGN_ANNOTATIONS = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  rfc3161: 'dev.sigstore.cosign/rfc3161timestamp',
} as const;

/** A tag `sha256-<hex>.sig`, bare or at the end of a full reference (`repo:sha256-<hex>.sig`). */
const SIG_TAG = /(?:^|:)sha256-([0-9a-f]{64})\.sig$/;
const REF_ANNOTATIONS = ['org.opencontainers.image.ref.name', 'io.containerd.image.name'];

/** An index.json entry that is a signature manifest. */
export interface SignatureManifest {
  /** The digest it signs, from its tag: `sha256:<hex>`. */
  subject: string;
  /** The tag or reference that named it. */
  ref: string;
  /** The signature manifest's own digest. */
  digest: string;
}

/** One signature: a simplesigning layer of a signature manifest. */
export interface SignatureLayer {
  /** `<tag> layer <n>`, for messages. */
  source: string;
  annotations: Record<string, string>;
  /** The payload bytes, or why they cannot be had. */
  payload: { bytes: Buffer } | { problem: string };
}

/** The signature manifests the archive's index.json lists, by the digest they sign. */
export function signatureManifests(archive: ImageArchiveResult): Map<string, SignatureManifest[]> {
  const out = new Map<string, SignatureManifest[]>();
  const index = parseKept(archive, 'index.json');
  if (!index || typeof index !== 'object' || Array.isArray(index)) return out;
  let entries: Descriptor[];
  try {
    entries = descriptorList(archive.target, 'index.json manifests', (index as JsonObject).manifests);
  } catch {
    return out; // readImages already rejected a malformed index.json; nothing to add here
  }
  for (const d of entries) {
    for (const key of REF_ANNOTATIONS) {
      const ref = d.annotations[key];
      const m = ref === undefined ? null : SIG_TAG.exec(ref);
      if (!m || ref === undefined) continue;
      const subject = `sha256:${m[1]}`;
      const list = out.get(subject) ?? [];
      if (!list.some((s) => s.digest === d.digest)) list.push({ subject, ref, digest: d.digest });
      out.set(subject, list);
    }
  }
  return out;
}

/** Whether an image readImages found is itself a signature manifest (not something to sign). */
export function isSignatureImage(image: ImageInfo, sigs: Map<string, SignatureManifest[]>): boolean {
  for (const list of sigs.values()) if (list.some((s) => s.digest === image.manifestDigest)) return true;
  return false;
}

/** The digests a signature of this image may name: its index (multi-platform) and its manifest. */
export function signedDigests(image: ImageInfo): string[] {
  if (image.via !== 'oci-index') return [];
  return [image.indexDigest, image.manifestDigest].filter((d): d is string => d !== undefined);
}

/**
 * The simplesigning layers of one signature manifest, with their payloads. Layers of any other
 * media type (attachments that are not signatures) are skipped; a payload that is missing,
 * was not kept, or does not hash to its descriptor is reported, not thrown.
 */
export function signatureLayers(archive: ImageArchiveResult, sig: SignatureManifest): SignatureLayer[] | string {
  const manifest = parseKept(archive, blobPath(sig.digest));
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) {
    return `the signature manifest ${sig.digest} is not in the archive (or not JSON)`;
  }
  let layers: Descriptor[];
  try {
    layers = descriptorList(archive.target, `${blobPath(sig.digest)} layers`, (manifest as JsonObject).layers);
  } catch (e) {
    return `the signature manifest ${sig.digest} is malformed: ${(e as Error).message}`;
  }
  const out: SignatureLayer[] = [];
  layers.forEach((l, i) => {
    if (l.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) return;
    out.push({ source: `${sig.ref} layer ${i + 1}`, annotations: l.annotations, payload: payloadOf(archive, l) });
  });
  return out;
}

function payloadOf(archive: ImageArchiveResult, l: Descriptor): SignatureLayer['payload'] {
  const path = blobPath(l.digest);
  const bytes = archive.keptJson.get(path);
  if (!bytes) {
    const stored = archive.blobs.some((b) => b.path === path);
    return { problem: stored ? `payload ${l.digest} is not a small JSON document` : `payload ${l.digest} is missing` };
  }
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (digest !== l.digest || bytes.length !== l.size) {
    return { problem: `payload ${path} is ${bytes.length} bytes hashing to ${digest}, not ${l.digest}` };
  }
  return { bytes };
}

function parseKept(archive: ImageArchiveResult, path: string): unknown {
  const bytes = archive.keptJson.get(path);
  if (!bytes) return undefined;
  try {
    return parseJsonText(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
