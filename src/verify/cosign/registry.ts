// The image policy's `requireSignature` for an image in a registry, by digest: its `.sig` tag
// (or OCI 1.1 signature referrers) fetched over the distribution API (readers/registry/signatures.ts) and each signature layer
// verified by the same code as an archive's (verify.ts verifySignatureLayers, with the policy's
// key or keyless identity as policy-signatures.ts reads it). A requirement is met when one
// layer verifies and names this digest, as `cosign verify` decides.
//
// Verdicts are cached by repository, digest and requirement (the key's id, or the identity and
// issuer, and the trusted root asked for): a met one for long (a valid signature of a digest
// stays valid until the policy changes, and a changed policy is another cache key), an unmet
// one briefly, so an image signed a minute after a refusal is admitted soon. A registry that
// fails (unreachable, refuses, times out) gives no verdict and nothing is cached: the error is
// thrown for the caller's failure policy. Offline, only the cache answers.
import { InputError } from '../../model/errors.ts';
import type { ImagePolicy } from '../../policy/image-policy.ts';
import type { RegistryCache } from '../../readers/registry/cache.ts';
import type { CallOptions, RegistryClient } from '../../readers/registry/client.ts';
import { fetchSignatures } from '../../readers/registry/signatures.ts';
import { type ResolvedPolicy, resolvePolicy, type SigstorePolicy } from '../sigstore/policy.ts';
import { signaturePolicy } from './policy-signatures.ts';
import { verifySignatureLayers } from './verify.ts';

/** Failure codes by how much they tell, least first (others rank below all of these). */
const TELLING = ['UNTRUSTED_SIGNER_ERROR', 'UNTRUSTED_SIGNER', 'SIGNED_OTHER_IMAGE'];

export const VERDICT_TTL_MS = 60 * 60_000;
export const UNMET_TTL_MS = 60_000;

export interface RequirementVerdict {
  /** What the policy asks for, as `verify` prints it: `ECDSA P-256 key <id>` or `identity ..., issuer ...`. */
  requirement: string;
  met: boolean;
  /** Which layer verified and by what evidence, or every layer's failure with its code. */
  reason: string;
  /** Who signed, when met. */
  signer?: string;
  /** What to do, when not met. */
  hint?: string;
}

export interface RegistrySignatureVerdict {
  repository: string;
  digest: string;
  /** One per signature requirement of the policy (none when it requires no signature). */
  requirements: RequirementVerdict[];
  /** When the signatures were read from the registry (ISO 8601). */
  checkedAt: string;
  fromCache: boolean;
}

export interface RegistrySignatureOptions extends CallOptions {
  /** Needed unless offline. */
  client?: RegistryClient;
  cache?: RegistryCache;
  /** Answer from the cache only: REGISTRY_OFFLINE when it has no fresh verdict. */
  offline?: boolean;
  verdictTtlMs?: number;
  unmetTtlMs?: number;
  /** For keyless requirements, as `verify --trusted-root`. */
  trustedRootPath?: string;
  trustDir?: string;
  /**
   * Resolved requirements kept across calls, by the requirement (a long-running caller, the
   * webhook, reads the key file once instead of at every decision). Absent: read each time.
   */
  resolvedPolicies?: Map<string, Promise<ResolvedPolicy>>;
}

function resolveOnce(
  p: SigstorePolicy,
  memo: Map<string, Promise<ResolvedPolicy>> | undefined,
): Promise<ResolvedPolicy> {
  if (!memo) return resolvePolicy(p);
  const key = JSON.stringify(p);
  let r = memo.get(key);
  if (!r) {
    r = resolvePolicy(p);
    memo.set(key, r);
    // A failure (an unreadable key) is not kept: the next decision tries again.
    r.catch(() => memo.delete(key));
  }
  return r;
}

/** Whether the image `repository@digest` meets the policy's signature requirement. */
export async function verifyRegistrySignatures(
  policy: ImagePolicy,
  repository: string,
  digest: string,
  opts: RegistrySignatureOptions = {},
): Promise<RegistrySignatureVerdict> {
  const req = policy.requireSignature;
  const now = () => opts.cache?.now() ?? Date.now();
  if (!req) return { repository, digest, requirements: [], checkedAt: new Date(now()).toISOString(), fromCache: false };
  const sigPolicy = signaturePolicy(policy.file, req);
  const resolved = await resolveOnce(sigPolicy, opts.resolvedPolicies);
  const key = `${repository}@${digest}\0${resolved.text}\0${opts.trustedRootPath ?? ''}`;
  const hit = await opts.cache?.get('verdict', key, isVerdict);
  if (hit && hit.value.repository === repository && hit.value.digest === digest)
    return { ...hit.value, fromCache: true };
  if (opts.offline || !opts.client) {
    const why = opts.cache ? 'the cache holds no fresh signature verdict for it' : 'there is no cache';
    throw new InputError('REGISTRY_OFFLINE', `${repository}@${digest}`, `offline, and ${why}`);
  }
  const checkedAt = new Date(now()).toISOString();
  const sigs = await fetchSignatures(
    opts.client,
    repository,
    digest,
    opts.deadline !== undefined ? { deadline: opts.deadline } : {},
  );
  let verdict: RequirementVerdict;
  if (!sigs.found) {
    verdict = {
      requirement: resolved.text,
      met: false,
      reason: `no cosign signature (no ${sigs.tag} tag in ${repository})`,
      hint: `sign the image by digest (cosign sign ${repository}@${digest}), which pushes ${sigs.tag} beside it`,
    };
  } else {
    const verifyOpts = {
      policy: sigPolicy,
      ...(opts.trustedRootPath ? { trustedRootPath: opts.trustedRootPath } : {}),
      ...(opts.trustDir ? { trustDir: opts.trustDir } : {}),
    };
    const failures: string[] = [...sigs.problems];
    let hint: string | undefined;
    let hintRank = -1;
    let ok: RequirementVerdict | undefined;
    for (const c of await verifySignatureLayers(sigs.layers, digest, verifyOpts)) {
      if (c.status === 'ok') {
        ok = { requirement: resolved.text, met: true, reason: c.detail, ...(c.actual ? { signer: c.actual } : {}) };
        break;
      }
      failures.push(c.detail);
      // The most telling failure gives the hint: a valid signature of another image or by another
      // signer says more than a layer that does not verify at all.
      const rank = TELLING.findIndex((code) => c.detail.includes(`[${code}]`));
      if (c.hint && (hint === undefined || rank > hintRank)) {
        hint = c.hint;
        hintRank = rank;
      }
    }
    if (sigs.layers.length === 0 && sigs.problems.length === 0) {
      failures.push(
        `no simplesigning layer in ${sigs.via === 'tag' ? `${repository}:${sigs.tag}` : 'the signature referrers'}`,
      );
    }
    verdict = ok ?? {
      requirement: resolved.text,
      met: false,
      reason: failures.join('; '),
      hint:
        hint ??
        'what the registry holds as the signature is damaged or no cosign signature: sign the image again (cosign sign)',
    };
  }
  const result: RegistrySignatureVerdict = { repository, digest, requirements: [verdict], checkedAt, fromCache: false };
  const ttl = verdict.met ? (opts.verdictTtlMs ?? VERDICT_TTL_MS) : (opts.unmetTtlMs ?? UNMET_TTL_MS);
  await opts.cache?.put('verdict', key, { ...result, fromCache: false }, ttl);
  return result;
}

function isVerdict(v: unknown): v is RegistrySignatureVerdict {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as RegistrySignatureVerdict;
  return (
    typeof o.repository === 'string' &&
    typeof o.digest === 'string' &&
    typeof o.checkedAt === 'string' &&
    Array.isArray(o.requirements) &&
    o.requirements.every(
      (r) =>
        typeof r === 'object' &&
        r !== null &&
        typeof r.requirement === 'string' &&
        typeof r.met === 'boolean' &&
        typeof r.reason === 'string',
    )
  );
}
