// The image policy's `requireSignature`, enforced on an image archive or OCI layout: every
// image in it must carry a cosign signature (a `sha256-<hex>.sig` tag beside it) that verifies
// with the policy's key, or was made keyless by the policy's identity and issuer. The result is
// both the verification checks (for `k3sguard verify`) and one K3SG-POLICY-SIGNATURE finding per
// image that fails (for policy reports).
import { dirname, isAbsolute, join } from 'node:path';
import type { Finding } from '../../model/inventory.ts';
import { POLICY_RULES } from '../../model/rules/policy.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import type { ImagePolicy, SignatureRequirement } from '../../policy/image-policy.ts';
import { isSignatureImage, signatureManifests } from '../../readers/images/cosign-layout.ts';
import type { ImageArchiveResult } from '../../readers/images/types.ts';
import type { VerifyCheck } from '../model.ts';
import type { SigstorePolicy } from '../sigstore/policy.ts';
import { verifyImageSignatures } from './verify.ts';

export interface SignaturePolicyOptions {
  /** `--trusted-root FILE` for keyless requirements; default: `trust update`'s root, else the shipped one. */
  trustedRootPath?: string;
  trustDir?: string;
}

export interface SignaturePolicyResult {
  checks: VerifyCheck[];
  findings: Finding[];
  /** Trusted-root warnings (a cached root passed over), for stderr. */
  warnings: string[];
}

/**
 * The Sigstore policy a requirement stands for. A relative `key:` is relative to the policy
 * file's directory, so a policy and its key can be moved together.
 */
export function signaturePolicy(policyFile: string, req: SignatureRequirement): SigstorePolicy {
  if (req.kind === 'key') return { keyPath: isAbsolute(req.key) ? req.key : join(dirname(policyFile), req.key) };
  return 'exact' in req.identity
    ? { identity: req.identity.exact, issuer: req.issuer }
    : { identityRegexp: req.identity.regexp, issuer: req.issuer };
}

/** Checks `requireSignature` for every image of the archive; nothing when the policy has none. */
export async function checkSignaturePolicy(
  policy: ImagePolicy,
  archive: ImageArchiveResult,
  opts: SignaturePolicyOptions = {},
): Promise<SignaturePolicyResult> {
  const req = policy.requireSignature;
  if (!req) return { checks: [], findings: [], warnings: [] };
  const report = await verifyImageSignatures(archive, {
    policy: signaturePolicy(policy.file, req),
    ...(opts.trustedRootPath ? { trustedRootPath: opts.trustedRootPath } : {}),
    ...(opts.trustDir ? { trustDir: opts.trustDir } : {}),
  });
  const findings = report.checks
    .filter((c) => c.status !== 'ok')
    .map((c) =>
      ruleFinding(
        POLICY_RULES['K3SG-POLICY-SIGNATURE'],
        `${c.subject}: ${c.detail}; ${policy.file} requires a signature by ${c.expected ?? 'its signer'}. ${c.hint ?? ''}`.trim(),
        [archive.target, c.subject],
      ),
    );
  return { checks: report.checks, findings, warnings: report.trust.warnings };
}

/** The images of an archive that policy rules apply to: not the signature manifests beside them. */
export function policyImages(archive: ImageArchiveResult): ImageArchiveResult['images'] {
  const sigs = signatureManifests(archive);
  return archive.images.filter((i) => !isSignatureImage(i, sigs));
}
