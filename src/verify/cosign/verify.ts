// Cosign signatures of the images in an archive or OCI layout, checked offline: for each image,
// the `sha256-<hex>.sig` manifests beside it (readers/images/cosign-layout.ts), each simplesigning layer made a
// Sigstore bundle (bundle.ts) and verified by @sigstore/verify against the key or the
// keyless identity policy and the trusted root, then the payload must name the image's digest
// (payload.ts). An image passes when at least one of its signatures does, as with
// `cosign verify`. Unreadable keys or roots are InputErrors (exit 2); whatever the archive says
// is a verdict: one VerifyCheck of kind 'cosign' per image.
import { createHash, type KeyObject, verify } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, Verifier } from '@sigstore/verify';
import {
  isSignatureImage,
  type SignatureLayer,
  type SignatureManifest,
  signatureLayers,
  signatureManifests,
  signedDigests,
} from '../../readers/images/cosign-layout.ts';
import type { ImageArchiveResult, ImageInfo } from '../../readers/images/types.ts';
import type { VerifyCheck, VerifyReport } from '../model.ts';
import { DigestedContent } from '../sigstore/content.ts';
import { describeFailure, type Failure } from '../sigstore/failure.ts';
import {
  libraryPolicy,
  type ResolvedPolicy,
  resolvePolicy,
  type SigstorePolicy,
  signerMatches,
  verifierOptions,
} from '../sigstore/policy.ts';
import {
  describeTrust,
  type LoadedTrust,
  resolveTrustedRoot,
  type TrustSource,
  trustMaterial,
} from '../sigstore/trust.ts';
import { CosignFormatError, cosignBundleJSON } from './bundle.ts';
import { checkPayload } from './payload.ts';

export interface VerifyImageSignaturesOptions {
  policy: SigstorePolicy;
  /** `--trusted-root FILE`; default: the root `trust update` fetched, else the shipped one. */
  trustedRootPath?: string;
  trustDir?: string;
}

export interface ImageSignatureReport extends VerifyReport {
  trust: { source: TrustSource; path: string; excluded: string[]; warnings: string[] };
}

/** Failures found here rather than by the library, with what to do about each. */
const COSIGN_HINTS: Record<string, string> = {
  NO_SIGNATURE:
    'sign the image (cosign sign) and copy its sha256-<digest>.sig tag into the archive beside it (skopeo copy docker://REPO:sha256-<hex>.sig oci:DIR:sha256-<hex>.sig)',
  NO_MANIFEST_DIGEST:
    'a docker-save archive has no manifest, so no signature can name it: export the image as OCI (ctr images export, skopeo copy ... oci-archive:)',
  SIGNED_OTHER_IMAGE:
    'this signature was made for another image and copied here: do not deploy; fetch the image and its .sig tag again by digest',
  PAYLOAD_INVALID: 'the signed document is not a cosign image signature: re-sign the image with cosign sign',
  ANNOTATION_INVALID: 'the signature layer is damaged: copy the .sig tag from the registry again',
  PAYLOAD_UNREADABLE: 'the signature payload is damaged or missing: copy the .sig tag from the registry again',
  SIGNATURE_ERROR:
    'the signature does not verify with this key or certificate: the image or signature was altered, or it was signed with another key',
  PUBLIC_KEY_ERROR: 'signed with a key: require `key:` in the policy (or --key), not a keyless identity',
  UNTRUSTED_SIGNER:
    'signed, but not by the identity the policy names: check its issuer and identity against the signer',
  UNTRUSTED_SIGNER_ERROR:
    'signed, but not by the identity the policy names: check its issuer and identity against the signer',
};

/** One check per image (signature manifests themselves are not images to check). */
export async function verifyImageSignatures(
  archive: ImageArchiveResult,
  opts: VerifyImageSignaturesOptions,
): Promise<ImageSignatureReport> {
  const policy = await resolvePolicy(opts.policy);
  const trust = await resolveTrustedRoot(opts);
  const sigs = signatureManifests(archive);
  const checks: VerifyCheck[] = [];
  for (const image of archive.images) {
    if (isSignatureImage(image, sigs)) continue;
    checks.push(checkImage(archive, image, sigs, policy, trust));
  }
  const { source, path, excluded, warnings } = trust;
  return { checks, trust: { source, path, excluded, warnings } };
}

/**
 * One signature layer against the image digest it must sign, outside any archive: what
 * verifyImageSignatures does for each layer it finds (for checking a `.sig` fetched by hand).
 */
export async function verifySignatureLayer(
  layer: SignatureLayer,
  subject: string,
  opts: VerifyImageSignaturesOptions,
): Promise<VerifyCheck> {
  const [check] = await verifySignatureLayers([layer], subject, opts);
  return check as VerifyCheck;
}

/**
 * Several signature layers of one image (a registry's `.sig` manifest), the policy and trusted
 * root read once: one check per layer, in order, up to and including the first that verifies.
 */
export async function verifySignatureLayers(
  layers: SignatureLayer[],
  subject: string,
  opts: VerifyImageSignaturesOptions,
): Promise<VerifyCheck[]> {
  const policy = await resolvePolicy(opts.policy);
  const trust = await resolveTrustedRoot(opts);
  const checks: VerifyCheck[] = [];
  for (const layer of layers) {
    const c = layerCheck(layer, subject, policy, trust);
    checks.push(c);
    if (c.status === 'ok') break;
  }
  return checks;
}

function layerCheck(layer: SignatureLayer, subject: string, policy: ResolvedPolicy, trust: LoadedTrust): VerifyCheck {
  const base = { kind: 'cosign' as const, subject, expected: policy.text };
  const r = verifyLayer(layer, subject, policy, trust);
  if (r.ok)
    return {
      ...base,
      status: 'ok',
      detail: `${layer.source}: signature over ${subject}; ${r.evidence}`,
      actual: r.signer,
    };
  return {
    ...base,
    status: 'invalid',
    detail: `${layer.source}: ${r.failure.reason} [${r.failure.code}]`,
    hint: r.failure.hint,
  };
}

export function imageLabel(image: ImageInfo): string {
  return image.names[0] ?? image.manifestDigest ?? image.configDigest ?? '(unnamed image)';
}

function checkImage(
  archive: ImageArchiveResult,
  image: ImageInfo,
  sigs: Map<string, SignatureManifest[]>,
  policy: ResolvedPolicy,
  trust: LoadedTrust,
): VerifyCheck {
  const base = { kind: 'cosign' as const, subject: imageLabel(image), expected: policy.text };
  const digests = signedDigests(image);
  if (digests.length === 0) {
    const detail = 'no manifest digest (docker-save format): a cosign signature cannot be matched to it';
    return { ...base, status: 'missing', detail, hint: COSIGN_HINTS.NO_MANIFEST_DIGEST };
  }
  const found = digests.flatMap((d) => sigs.get(d) ?? []);
  if (found.length === 0) {
    const tags = digests.map((d) => `sha256-${d.slice(7)}.sig`).join(' or ');
    return {
      ...base,
      status: 'missing',
      detail: `no cosign signature (no ${tags} tag)`,
      hint: COSIGN_HINTS.NO_SIGNATURE,
    };
  }
  const failures: Array<{ source: string; failure: Failure }> = [];
  for (const sig of found) {
    const layers = signatureLayers(archive, sig);
    if (typeof layers === 'string') {
      failures.push({ source: sig.ref, failure: fail('PAYLOAD_UNREADABLE', layers) });
      continue;
    }
    if (layers.length === 0) {
      failures.push({
        source: sig.ref,
        failure: fail('PAYLOAD_INVALID', 'the .sig manifest has no simplesigning layer'),
      });
    }
    for (const layer of layers) {
      const r = verifyLayer(layer, sig.subject, policy, trust);
      if (r.ok) {
        const ref = r.dockerReference ? `, signed as ${r.dockerReference}` : '';
        return {
          ...base,
          status: 'ok',
          detail: `${layer.source}: signature over ${sig.subject}${ref}; ${r.evidence}`,
          actual: r.signer,
        };
      }
      failures.push({ source: layer.source, failure: r.failure });
    }
  }
  const first = failures[0]?.failure ?? fail('PAYLOAD_INVALID', 'no signature');
  const detail = failures.map((f) => `${f.source}: ${f.failure.reason} [${f.failure.code}]`).join('; ');
  const note = trust.excluded.length ? `; left out of the trusted root: ${trust.excluded.join('; ')}` : '';
  return { ...base, status: 'invalid', detail, hint: `${first.hint}${note}` };
}

type LayerVerdict =
  | { ok: true; signer: string; evidence: string; dockerReference?: string }
  | { ok: false; failure: Failure };

function verifyLayer(layer: SignatureLayer, subject: string, policy: ResolvedPolicy, trust: LoadedTrust): LayerVerdict {
  if (!('bytes' in layer.payload)) return { ok: false, failure: fail('PAYLOAD_UNREADABLE', layer.payload.problem) };
  const payload = layer.payload.bytes;
  try {
    const json = cosignBundleJSON(layer.annotations, payload, policy.kind === 'key' ? policy.keyId : undefined);
    const bundle = bundleFromJSON(json);
    const material = trustMaterial(trust, policy.kind === 'key' ? policy.key : undefined);
    const entity = toSignedEntity(bundle, payload);
    entity.signature = new PayloadSignature(payload, Buffer.from(entity.signature.signature));
    const signer = new Verifier(material, verifierOptions(policy)).verify(entity, libraryPolicy(policy));
    const san = signer.identity?.subjectAlternativeName;
    const issuer = signer.identity?.extensions?.issuer;
    if (!signerMatches(policy, san, issuer)) {
      return {
        ok: false,
        failure: fail('UNTRUSTED_SIGNER', `signed by ${san ?? '(no identity)'} (issuer ${issuer ?? '?'})`),
      };
    }
    // Only now is the payload trusted enough to be read for what it says.
    const verdict = checkPayload(payload, subject);
    if (!verdict.ok) return { ok: false, failure: fail(verdict.code, verdict.reason) };
    const who = policy.kind === 'key' ? policy.text : `identity ${san ?? '?'}, issuer ${issuer ?? '?'}`;
    const tlogs = bundle.verificationMaterial.tlogEntries.length;
    const tsas = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0;
    // The trusted root matters only when it vouched for something: a certificate, a log entry.
    const evidence =
      tlogs + tsas === 0 && policy.kind === 'key'
        ? 'no transparency log entry'
        : `${tlogs} Rekor entry (SET), ${tsas} RFC 3161 timestamp; ${describeTrust(trust)}`;
    return {
      ok: true,
      signer: who,
      evidence,
      ...(verdict.dockerReference ? { dockerReference: verdict.dockerReference } : {}),
    };
  } catch (e) {
    if (e instanceof CosignFormatError) return { ok: false, failure: fail('ANNOTATION_INVALID', e.message) };
    const f = describeFailure(e);
    return { ok: false, failure: { ...f, hint: COSIGN_HINTS[f.code] ?? f.hint } };
  }
}

/**
 * The signature over the payload bytes. The library's own content passes the bundle's digest
 * name to node:crypto for every key type, which Ed25519 (a pure signature, no digest) rejects;
 * cosign and containers/image sign ECDSA keys of every curve with SHA-256.
 */
class PayloadSignature extends DigestedContent {
  readonly #payload: Buffer;

  constructor(payload: Buffer, signature: Buffer) {
    super(signature, createHash('sha256').update(payload).digest());
    this.#payload = payload;
  }
  verifySignature(key: KeyObject): boolean {
    const pure = key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448';
    try {
      return verify(pure ? null : 'sha256', this.#payload, key, this.signature);
    } catch {
      return false;
    }
  }
}

function fail(code: string, reason: string): Failure {
  return { code, reason, hint: COSIGN_HINTS[code] ?? '' };
}
