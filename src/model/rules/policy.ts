// The rules of the image policy (docs/policy.md): which registries and repositories a cluster
// may run images from, whether references must pin a digest, and who must have signed the
// images. Checked by `verify --policy` on image archives; the checks are in
// src/policy/evaluate.ts (names) and src/verify/cosign/policy-signatures.ts (signatures).
import { type RuleText, ruleTable } from './rule.ts';

const REFERENCES = ['image archive (the names of its images)', 'image references (k3s-images.txt lines)'];

const texts = {
  'K3SG-POLICY-REGISTRY': {
    severity: 'high',
    title: 'Image comes from a registry the policy does not allow',
    explanation:
      '`allowedRegistries` lists the registries the cluster may run images from: the mirrors and ' +
      'registries whose contents are reviewed and controlled. An image from any other registry is content ' +
      'nobody in that chain vouched for, and its owner can change it.',
    fix: 'Mirror the image into an allowed registry and reference it there, or add the registry to `images.allowedRegistries` after review.',
    appliesTo: REFERENCES,
  },
  'K3SG-POLICY-REPOSITORY': {
    severity: 'high',
    title: 'Image repository is not allowed by the policy',
    explanation:
      '`allowedRepositories` narrows the allowed registries to the repositories that were reviewed: a ' +
      "registry like docker.io hosts anyone's images, and a look-alike name in an allowed registry is the " +
      'usual way to slip one in.',
    fix: 'Use an image from an allowed repository, or add a glob for it to `images.allowedRepositories` after review.',
    appliesTo: REFERENCES,
  },
  'K3SG-POLICY-DIGEST': {
    severity: 'medium',
    title: 'Image is referenced by tag where the policy requires a digest',
    explanation:
      'With `requireDigest: true` every reference must pin `@sha256:`. A tag is a movable name: whoever can ' +
      'push to the repository (or answer for a mirror) can point it at other content, and the nodes pull ' +
      'that on the next start.',
    fix: 'Reference the image by digest: `registry/repo:tag@sha256:<digest>` (the finding suggests the digest when the archive has it).',
    appliesTo: REFERENCES,
  },
  'K3SG-POLICY-SIGNATURE': {
    severity: 'high',
    title: 'Image lacks a valid signature by the signer the policy requires',
    explanation:
      '`requireSignature` names who must have signed every image (a key, or a keyless identity and issuer). ' +
      'An image without a cosign signature by that signer that verifies against its digest was not released ' +
      'by them, or was changed since: a valid signature is the only evidence of where the bytes come from.',
    fix: "Use the image as its publisher signed it (check that the `sha256-<hex>.sig` signature travels with the archive), sign it with the required key or identity after review, or fix the policy's signer.",
    appliesTo: ['image archive (its images and their cosign signatures)'],
  },
  'K3SG-POLICY-LOCK': {
    severity: 'high',
    title: 'Image digest is not among the images reviewed in the lock',
    explanation:
      '`requireLocked` names a k3sguard.lock: the images an operator reviewed and recorded by digest (`lock ' +
      'add` of an image archive). An image whose digest the lock does not hold was never reviewed, whatever ' +
      'its name, registry or signature: a signing key can sign anything, a review is of these bytes.',
    fix: 'Review the image and record it (`k3sguard lock add` of its archive, then commit the lock), or use one of the digests the lock lists.',
    appliesTo: ['image archive (its images)', 'admission review (the images a pod would run)'],
  },
  'K3SG-POLICY-REFERENCE': {
    severity: 'medium',
    title: 'Image reference cannot be parsed, so the policy cannot be checked',
    explanation:
      'A name that is not an image reference cannot be held against the policy: the registry, repository ' +
      'and digest rules are all skipped for it, and the container runtime may read it differently.',
    fix: 'Write the reference in full: `registry/repository[:tag][@sha256:<digest>]`.',
    appliesTo: REFERENCES,
  },
} as const satisfies Record<string, RuleText>;

export const POLICY_RULES = ruleTable('policy', texts);

export type PolicyRuleId = keyof typeof POLICY_RULES;
