// One admission decision: every image of the object checked against the image policy (the same
// file `verify` and the agent read), in enforce mode a denial naming each container, image and
// rule with what to do, in audit mode an allowance carrying the same text as `warnings`.
//
// A registry that does not answer in time gives no verdict; the failure policy decides:
// fail-closed (the default) denies, since admitting an image nobody could check is what the
// webhook exists to prevent; fail-open admits with a warning, for clusters that prefer running
// to safety while a registry is down. Either way the message says the registry was the cause.

import { checkImageReferences } from '../policy/evaluate.ts';
import type { ImagePolicy } from '../policy/image-policy.ts';
import { formatImageRef, parseImageRef } from '../readers/images/refs.ts';
import type { RegistryCache } from '../readers/registry/cache.ts';
import type { RegistryClient } from '../readers/registry/client.ts';
import { resolveImage } from '../readers/registry/resolve.ts';
import { verifyRegistrySignatures } from '../verify/cosign/registry.ts';
import { containerImages, podSpecOf, type ReviewRequest } from './review.ts';

/** Under the API server's default webhook timeout (10 s is also its maximum of 30 s's safe share). */
export const DEFAULT_DEADLINE_MS = 10_000;
/**
 * kube-system runs the cluster itself (CoreDNS, the K3s helpers, the webhook's own pods in
 * many installs): denying there can stop the cluster from recovering, including the webhook.
 */
export const DEFAULT_EXCLUDED_NAMESPACES: readonly string[] = ['kube-system'];

export type WebhookMode = 'enforce' | 'audit';

export interface DecisionContext {
  policy: ImagePolicy;
  client?: RegistryClient;
  cache?: RegistryCache;
  offline?: boolean;
  mode?: WebhookMode;
  failOpen?: boolean;
  excludedNamespaces?: readonly string[];
  deadlineMs?: number;
  trustedRootPath?: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  warnings?: string[];
}

/** A reason an image is refused: which container, which image, which rule, what to do. */
interface Problem {
  text: string;
  /** True when the registry, not the image, is why (the failure policy applies). */
  unavailable: boolean;
}

export async function decideAdmission(request: ReviewRequest, ctx: DecisionContext): Promise<AdmissionResponse> {
  const { uid } = request;
  const excluded = ctx.excludedNamespaces ?? DEFAULT_EXCLUDED_NAMESPACES;
  if (excluded.includes(request.namespace)) return { uid, allowed: true };
  const spec = podSpecOf(request.kind, request.object);
  if (!spec) return { uid, allowed: true };
  const deadline = Date.now() + (ctx.deadlineMs ?? DEFAULT_DEADLINE_MS);
  const problems: Problem[] = [];
  for (const c of containerImages(spec)) problems.push(...(await checkContainer(c, ctx, deadline)));
  if (problems.length === 0) return { uid, allowed: true };
  const texts = problems.map((p) => p.text);
  const policyProblems = problems.filter((p) => !p.unavailable);
  const failOpenOnly = ctx.failOpen === true && policyProblems.length === 0;
  if (ctx.mode === 'audit' || failOpenOnly) {
    const prefix = failOpenOnly ? 'k3sguard (fail-open, not checked): ' : 'k3sguard (audit, would deny): ';
    return { uid, allowed: true, warnings: texts.map((t) => prefix + t) };
  }
  const what = `${request.kind} ${request.namespace ? `${request.namespace}/` : ''}${request.name}`.trim();
  return {
    uid,
    allowed: false,
    status: {
      code: 403,
      reason: 'Forbidden',
      message: `k3sguard denied ${what}:\n- ${texts.join('\n- ')}`,
    },
  };
}

async function checkContainer(
  c: { field: string; name: string; image: string },
  ctx: DecisionContext,
  deadline: number,
): Promise<Problem[]> {
  const who = `${c.field === 'containers' ? 'container' : c.field.replace(/Containers$/, ' container')} "${c.name}"`;
  const ref = parseImageRef(c.image);
  if (!ref) {
    return [{ text: `${who}: "${c.image}" is not an image reference [K3SG-POLICY-REFERENCE]`, unavailable: false }];
  }
  const image = formatImageRef(ref);
  const problems: Problem[] = checkImageReferences(ctx.policy, [{ text: c.image }], { target: 'admission' }).map(
    (f) => ({ text: `${who} image ${image}: ${f.message} [${f.id}]; ${todo(f.id)}`, unavailable: false }),
  );
  // Registry or repository refused: nothing to fetch from a registry the policy does not trust.
  if (problems.length > 0 && problems.some((p) => !p.text.includes('[K3SG-POLICY-DIGEST]'))) return problems;
  if (ref.digest === undefined && ctx.policy.requireDigest) return problems;
  if (!ctx.policy.requireSignature) return problems;
  const call = { deadline, ...(ctx.cache ? { cache: ctx.cache } : {}), ...(ctx.offline ? { offline: true } : {}) };
  try {
    const resolved = await resolveImage(ctx.client, ref, call);
    const verdict = await verifyRegistrySignatures(ctx.policy, resolved.repository, resolved.digest, {
      ...call,
      ...(ctx.client ? { client: ctx.client } : {}),
      ...(ctx.trustedRootPath ? { trustedRootPath: ctx.trustedRootPath } : {}),
    });
    for (const r of verdict.requirements) {
      if (r.met) continue;
      problems.push({
        text: `${who} image ${resolved.repository}@${resolved.digest}: signature required (${r.requirement}) but ${r.reason} [K3SG-POLICY-SIGNATURE]; ${r.hint ?? 'sign it (cosign sign)'}`,
        unavailable: false,
      });
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    const late = Date.now() >= deadline;
    problems.push({
      text: `${who} image ${image}: its signature could not be checked: ${late ? 'the deadline passed' : (e as Error).message}${code ? ` (${code})` : ''} [K3SG-POLICY-SIGNATURE, registry unavailable]; make the registry reachable, or pre-fill the cache (the webhook decides offline from it)`,
      unavailable: true,
    });
  }
  return problems;
}

function todo(rule: string): string {
  switch (rule) {
    case 'K3SG-POLICY-DIGEST':
      return 'reference it by digest (image@sha256:...), e.g. from `crane digest` or `skopeo inspect`';
    case 'K3SG-POLICY-REGISTRY':
    case 'K3SG-POLICY-REPOSITORY':
      return "use an image from an allowed registry and repository (mirror it there), or widen the policy's allow-list";
    default:
      return 'fix the image reference';
  }
}
