// `k3sguard verify FILE --bundle B.sigstore.json`: a Sigstore bundle checked fully offline
// with @sigstore/verify, the reference JS verifier, plus what it leaves to the caller: the
// artifact's digest against the bundle (message signatures) or the in-toto subject (DSSE),
// an exact identity match, a stricter trusted root (trust.ts), and a clean failure instead of
// a crash for any bundle, however malformed. Unreadable inputs throw InputError (exit 2);
// everything the bundle says becomes one VerifyCheck of kind 'sigstore'.
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { type Signer, toSignedEntity, Verifier } from '@sigstore/verify';
import { InputError } from '../../model/errors.ts';
import type { VerifyCheck, VerifyReport } from '../model.ts';
import {
  checkDsseSubject,
  checkMessageDigest,
  MessageDigestContent,
  messageAlgorithm,
  neededAlgorithms,
} from './content.ts';
import { describeFailure, SigstoreCheckError } from './failure.ts';
import {
  type ArtifactRef,
  checkArtifactReadable,
  type Digests,
  hashFile,
  parseArtifactRef,
  readBundleJSON,
} from './input.ts';
import {
  libraryPolicy,
  type ResolvedPolicy,
  resolvePolicy,
  type SigstorePolicy,
  signerMatches,
  verifierOptions,
} from './policy.ts';
import { describeTrust, type LoadedTrust, resolveTrustedRoot, type TrustSource, trustMaterial } from './trust.ts';

export type { KeylessPolicy, KeyPolicy, SigstorePolicy } from './policy.ts';

export interface VerifySigstoreOptions {
  /** The artifact: a file path, or `sha256:<64 hex>` when only its digest is at hand. */
  artifact: string;
  /** The Sigstore bundle (`.sigstore.json`, any media type version 0.1 to 0.3). */
  bundlePath: string;
  policy: SigstorePolicy;
  /** `--trusted-root FILE`; default: the root `trust update` fetched, else the shipped one. */
  trustedRootPath?: string;
  /** Where `trust update` keeps its root (default: defaultTrustDir()). */
  trustDir?: string;
}

export interface SigstoreReport extends VerifyReport {
  /** Which trusted root was used, what it left out, and why a cached root was passed over. */
  trust: { source: TrustSource; path: string; excluded: string[]; warnings: string[] };
}

export async function verifySigstore(opts: VerifySigstoreOptions): Promise<SigstoreReport> {
  // Everything that can be unreadable is read first, so exit 2 never hides behind a verdict.
  const ref = parseArtifactRef(opts.artifact);
  await checkArtifactReadable(ref);
  const json = await readBundleJSON(opts.bundlePath);
  const policy = await resolvePolicy(opts.policy);
  const trust = await resolveTrustedRoot(opts);
  const base = { kind: 'sigstore' as const, subject: opts.artifact, expected: policy.text };
  let check: VerifyCheck;
  try {
    const verified = await verifyBundle(json, ref, policy, trust);
    check = {
      ...base,
      status: 'ok',
      detail: describeSuccess(verified, policy),
      actual: signerText(verified.signer, policy),
    };
  } catch (e) {
    if (e instanceof InputError) throw e; // the artifact became unreadable while being hashed
    const f = describeFailure(e);
    const note = trust.excluded.length ? `; left out of the trusted root: ${trust.excluded.join('; ')}` : '';
    check = { ...base, status: 'invalid', detail: `${f.reason} [${f.code}]`, hint: `${f.hint}${note}` };
  }
  const { source, path, excluded, warnings } = trust;
  return { checks: [check], trust: { source, path, excluded, warnings } };
}

interface Verified {
  bundle: Bundle;
  signer: Signer;
  digests: Digests;
  trust: LoadedTrust;
}

async function verifyBundle(
  json: unknown,
  ref: ArtifactRef,
  policy: ResolvedPolicy,
  trust: LoadedTrust,
): Promise<Verified> {
  const bundle = bundleFromJSON(json);
  checkBundleShape(bundle, policy);
  const digests: Digests = ref.kind === 'file' ? hashFile(ref.path, neededAlgorithms(bundle)) : { sha256: ref.sha256 };
  // No artifact bytes go to the library: the message-signature content is replaced by one
  // that works from the digest, so a multi-GB file is never held in memory.
  const entity = toSignedEntity(bundle);
  if (bundle.content.$case === 'messageSignature') {
    const ms = bundle.content.messageSignature;
    const algorithm = messageAlgorithm(ms);
    const digest = checkMessageDigest(ms, algorithm, digests);
    entity.signature = new MessageDigestContent(ms, algorithm, digest, ref.kind === 'file' ? ref.path : undefined);
  }
  const material = trustMaterial(trust, policy.kind === 'key' ? policy.key : undefined);
  const signer = new Verifier(material, verifierOptions(policy)).verify(entity, libraryPolicy(policy));
  const san = signer.identity?.subjectAlternativeName;
  const issuer = signer.identity?.extensions?.issuer;
  if (!signerMatches(policy, san, issuer)) {
    throw new SigstoreCheckError('UNTRUSTED_SIGNER', `signed by ${san ?? '(no identity)'} (issuer ${issuer ?? '?'})`);
  }
  if (bundle.content.$case === 'dsseEnvelope') checkDsseSubject(bundle.content.dsseEnvelope, digests);
  return { bundle, signer, digests, trust };
}

/** What the library does not check before it would trip over it, or what the policy rules out. */
function checkBundleShape(bundle: Bundle, policy: ResolvedPolicy): void {
  bundle.verificationMaterial.tlogEntries.forEach((entry, i) => {
    // A v0.1 bundle is only required to carry a promise; a proof without its checkpoint makes
    // the library throw a TypeError (conformance bundle-with-root-cert_fail).
    if (entry.inclusionProof && !entry.inclusionProof.checkpoint?.envelope) {
      throw new SigstoreCheckError('BUNDLE_INVALID', `log entry ${i} has an inclusion proof without a checkpoint`);
    }
  });
  const material = bundle.verificationMaterial.content.$case;
  if (policy.kind === 'keyless' && material === 'publicKey') {
    throw new SigstoreCheckError('KEY_MATERIAL_MISMATCH', 'the bundle is signed with a key, not a certificate');
  }
  if (policy.kind === 'key' && material !== 'publicKey') {
    throw new SigstoreCheckError('KEY_MATERIAL_MISMATCH', 'the bundle carries a signing certificate, not a key hint');
  }
}

function signerText(signer: Signer, policy: ResolvedPolicy): string {
  if (policy.kind === 'key') return policy.text;
  const id = signer.identity;
  return `identity ${id?.subjectAlternativeName ?? '?'}, issuer ${id?.extensions?.issuer ?? '?'}`;
}

function describeSuccess(v: Verified, policy: ResolvedPolicy): string {
  const content =
    v.bundle.content.$case === 'dsseEnvelope'
      ? `DSSE ${v.bundle.content.dsseEnvelope.payloadType}`
      : 'message signature';
  const tlogs = v.bundle.verificationMaterial.tlogEntries.length;
  const tsas = v.bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0;
  const evidence =
    tlogs + tsas === 0
      ? 'no transparency log or timestamp (organisation signature)'
      : `${plural(tlogs, 'log entry', 'log entries')}, ${plural(tsas, 'RFC 3161 timestamp', 'RFC 3161 timestamps')}`;
  return `${content} by ${signerText(v.signer, policy)}; ${evidence}; ${describeTrust(v.trust)}`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
