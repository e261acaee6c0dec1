// One admission decision: every image of the object checked against the image policy (the same
// file `verify` and the agent read; check-image.ts), in enforce mode a denial naming each
// container, image and rule with what to do, in audit mode an allowance carrying the same text
// as `warnings`.
//
// A registry that does not answer in time gives no verdict; the failure policy decides:
// fail-closed (the default) denies, since admitting an image nobody could check is what the
// webhook exists to prevent; fail-open admits with a warning, for clusters that prefer running
// to safety while a registry is down. Either way the message says the registry was the cause.
//
// The mutating side (mutateAdmission) never denies and never warns: it pins each tag to the
// digest it resolved, and only when that image passed every check; the validating webhook,
// which the API server calls after all mutations, is the one place that refuses and explains.
import type { ImagePolicy } from '../policy/image-policy.ts';
import type { RegistryCache } from '../readers/registry/cache.ts';
import type { RegistryClient } from '../readers/registry/client.ts';
import type { ResolvedPolicy } from '../verify/sigstore/policy.ts';
import { type CacheLookup, checkImage, type Problem, UNAVAILABLE } from './check-image.ts';
import { containerImages, podSpecOf, podSpecPath, type ReviewRequest } from './review.ts';

/**
 * Under the timeoutSeconds of the configurations `webhook certs` writes (15 s; the API server
 * allows at most 30), so a slow registry ends in the webhook's own answer, not a timeout.
 */
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
  /** The policy's signature requirement resolved once (its key read at the first decision); see verifyRegistrySignatures. */
  resolvedPolicies?: Map<string, Promise<ResolvedPolicy>>;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  warnings?: string[];
  /** Base64 of a JSON Patch (RFC 6902), with patchType. */
  patch?: string;
  patchType?: 'JSONPatch';
}

export type Verdict = 'allowed' | 'denied' | 'warned' | 'excluded' | 'mutated' | 'unchanged';

/** The response, and what metrics count of it. */
export interface Decision {
  response: AdmissionResponse;
  verdict: Verdict;
  /** The first problem's rule (`none` when there was none). */
  rule: string;
  /** Every problem's rule, one per refused image and rule. */
  problems: string[];
  lookups: CacheLookup[];
  /** The denial or warning lines (audit events log them). */
  lines: string[];
}

export interface JsonPatchOp {
  op: 'replace';
  path: string;
  value: string;
}

function decision(
  response: AdmissionResponse,
  verdict: Verdict,
  problems: Problem[],
  lookups: CacheLookup[],
): Decision {
  return {
    response,
    verdict,
    rule: problems[0]?.rule ?? 'none',
    problems: problems.map((p) => p.rule),
    lookups,
    lines: problems.map((p) => p.text),
  };
}

export async function decideAdmission(request: ReviewRequest, ctx: DecisionContext): Promise<Decision> {
  const { uid } = request;
  const excluded = ctx.excludedNamespaces ?? DEFAULT_EXCLUDED_NAMESPACES;
  if (excluded.includes(request.namespace)) return decision({ uid, allowed: true }, 'excluded', [], []);
  const spec = podSpecOf(request.kind, request.object);
  if (!spec) return decision({ uid, allowed: true }, 'allowed', [], []);
  const deadline = Date.now() + (ctx.deadlineMs ?? DEFAULT_DEADLINE_MS);
  const problems: Problem[] = [];
  const lookups: CacheLookup[] = [];
  for (const c of containerImages(spec)) {
    const outcome = await checkImage(c, ctx, deadline);
    problems.push(...outcome.problems);
    lookups.push(...outcome.lookups);
  }
  if (problems.length === 0) return decision({ uid, allowed: true }, 'allowed', [], lookups);
  const texts = problems.map((p) => p.text);
  const failOpenOnly = ctx.failOpen === true && problems.every((p) => p.rule === UNAVAILABLE);
  if (ctx.mode === 'audit' || failOpenOnly) {
    const prefix = failOpenOnly ? 'k3sguard (fail-open, not checked): ' : 'k3sguard (audit, would deny): ';
    return decision({ uid, allowed: true, warnings: texts.map((t) => prefix + t) }, 'warned', problems, lookups);
  }
  const what = `${request.kind} ${request.namespace ? `${request.namespace}/` : ''}${request.name}`.trim();
  const response: AdmissionResponse = {
    uid,
    allowed: false,
    status: { code: 403, reason: 'Forbidden', message: `k3sguard denied ${what}:\n- ${texts.join('\n- ')}` },
  };
  return decision(response, 'denied', problems, lookups);
}

/**
 * The mutating answer: allowed, with a JSON Patch pinning each tag to its verified digest
 * (`name:tag` becomes `name:tag@sha256:...`, which the runtime pulls by digest). Images that
 * fail a check, or are pinned already, are left as they are. On UPDATE only images the update
 * sets or changes are pinned: pinning an unchanged one would change a running pod's spec (a
 * container restart) or a Deployment's template (a rollout) on an unrelated edit such as a label.
 */
export async function mutateAdmission(request: ReviewRequest, ctx: DecisionContext): Promise<Decision> {
  const { uid } = request;
  const excluded = ctx.excludedNamespaces ?? DEFAULT_EXCLUDED_NAMESPACES;
  if (excluded.includes(request.namespace)) return decision({ uid, allowed: true }, 'excluded', [], []);
  const spec = podSpecOf(request.kind, request.object);
  const base = podSpecPath(request.kind);
  if (!spec || !base) return decision({ uid, allowed: true }, 'allowed', [], []);
  const deadline = Date.now() + (ctx.deadlineMs ?? DEFAULT_DEADLINE_MS);
  const patch: JsonPatchOp[] = [];
  const lookups: CacheLookup[] = [];
  const problems: Problem[] = [];
  const oldSpec = request.operation === 'UPDATE' ? podSpecOf(request.kind, request.oldObject) : undefined;
  const before = new Set((oldSpec ? containerImages(oldSpec) : []).map((c) => `${c.field}\0${c.name}\0${c.image}`));
  for (const c of containerImages(spec)) {
    if (before.has(`${c.field}\0${c.name}\0${c.image}`)) continue;
    const outcome = await checkImage(c, ctx, deadline, { resolveTags: true });
    lookups.push(...outcome.lookups);
    problems.push(...outcome.problems);
    if (outcome.problems.length > 0 || outcome.pinned || !outcome.digest) continue;
    patch.push({
      op: 'replace',
      path: `/${[...base, c.field, String(c.index), 'image'].join('/')}`,
      value: `${c.image}@${outcome.digest}`,
    });
  }
  const response: AdmissionResponse = { uid, allowed: true };
  if (patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(patch), 'utf8').toString('base64');
  }
  // Problems are the validating webhook's to report; counted here by rule only.
  return { ...decision(response, patch.length > 0 ? 'mutated' : 'unchanged', problems, lookups), lines: [] };
}
