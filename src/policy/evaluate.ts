// Checking image references against an image policy. Works on any list of names: the
// images an archive holds (ImageInfo), the lines of k3s-images.txt, and (later) the image
// fields of manifests. Names say nothing about signatures: `requireSignature` is checked on
// the images themselves, by checkSignaturePolicy (verify/cosign/policy-signatures.ts).

import type { Finding } from '../model/inventory.ts';
import { POLICY_RULES } from '../model/rules/policy.ts';
import { ruleFinding } from '../model/rules/rule.ts';
import { formatImageRef, type ImageRef, parseImageRef } from '../readers/images/refs.ts';
import { globMatches } from './glob.ts';
import type { ImagePolicy } from './image-policy.ts';

export interface PolicyEvaluationOptions {
  /** What the references were read from (an archive, k3s-images.txt), the findings' location root. */
  target: string;
}

export interface ImageToCheck {
  names: string[];
  /** Known content digest (an archive's manifest digest): suggested as the pin in messages. */
  manifestDigest?: string;
}

/** Check every name of every image; findings are in input order. */
export function evaluateImagePolicy(
  policy: ImagePolicy,
  images: ImageToCheck[],
  opts: PolicyEvaluationOptions,
): Finding[] {
  const findings: Finding[] = [];
  for (const image of images) {
    for (const name of image.names) {
      const ref = parseImageRef(name);
      if (ref === undefined) {
        findings.push(
          ruleFinding(POLICY_RULES['K3SG-POLICY-REFERENCE'], `"${name}" is not an image reference`, [
            opts.target,
            name,
          ]),
        );
        continue;
      }
      findings.push(...checkRef(policy, ref, image.manifestDigest, [opts.target, formatImageRef(ref)]));
    }
  }
  return findings;
}

/**
 * Check plain references (k3s-images.txt lines, manifest `image:` fields). `where` locates
 * each one inside the target (e.g. `line 3`); without it the reference itself is used.
 */
export function checkImageReferences(
  policy: ImagePolicy,
  refs: Array<{ text: string; where?: string }>,
  opts: PolicyEvaluationOptions,
): Finding[] {
  const findings: Finding[] = [];
  for (const { text, where } of refs) {
    const ref = parseImageRef(text);
    const location = [opts.target, where ?? text];
    if (ref === undefined) {
      findings.push(
        ruleFinding(POLICY_RULES['K3SG-POLICY-REFERENCE'], `"${text}" is not an image reference`, location),
      );
      continue;
    }
    findings.push(...checkRef(policy, ref, undefined, location));
  }
  return findings;
}

function checkRef(policy: ImagePolicy, ref: ImageRef, knownDigest: string | undefined, location: string[]): Finding[] {
  const name = formatImageRef(ref);
  const registry = ref.repository.slice(0, ref.repository.indexOf('/'));
  const findings: Finding[] = [];
  if (policy.allowedRegistries && !policy.allowedRegistries.includes(registry)) {
    findings.push(
      ruleFinding(
        POLICY_RULES['K3SG-POLICY-REGISTRY'],
        `${name} comes from ${registry}; ${policy.file} allows ${list(policy.allowedRegistries)}`,
        location,
      ),
    );
  }
  const globs = policy.allowedRepositories;
  if (globs && !globs.some((g) => globMatches(g, ref.repository))) {
    findings.push(
      ruleFinding(
        POLICY_RULES['K3SG-POLICY-REPOSITORY'],
        `${ref.repository} matches none of ${policy.file}'s allowedRepositories (${list(globs.map((g) => g.pattern))})`,
        location,
      ),
    );
  }
  if (policy.requireDigest && ref.digest === undefined) {
    const pin = knownDigest ? `; pin it as ${ref.repository}@${knownDigest}` : '';
    findings.push(
      ruleFinding(
        POLICY_RULES['K3SG-POLICY-DIGEST'],
        `${name} is referenced by tag, which the registry can repoint; ${policy.file} requires @sha256:${pin}`,
        location,
      ),
    );
  }
  return findings;
}

function list(items: string[]): string {
  return items.length === 0 ? 'nothing' : items.join(', ');
}
