// AdmissionReview v1 (admission.k8s.io/v1) as the API server sends it: the request's uid,
// namespace and object, and the containers the object would run. A Pod's spec is read
// directly; the workload kinds carry a pod template (a CronJob one level deeper), so a bad
// Deployment is refused at once instead of its ReplicaSet's pods failing later.

export const REVIEW_API_VERSION = 'admission.k8s.io/v1';

export interface ReviewRequest {
  uid: string;
  kind: string;
  namespace: string;
  name: string;
  /** CREATE, UPDATE, DELETE or CONNECT ('' when absent). */
  operation: string;
  object: unknown;
  /** The object before an UPDATE. */
  oldObject?: unknown;
}

export type ParsedReview = { ok: true; request: ReviewRequest } | { ok: false; message: string };

export interface ContainerImage {
  /** `containers`, `initContainers` or `ephemeralContainers`. */
  field: string;
  /** Its place in that list (the JSON Patch path's index). */
  index: number;
  name: string;
  image: string;
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** The review's request, or why it is not a v1 AdmissionReview the webhook can answer. */
export function parseReview(value: unknown): ParsedReview {
  const review = obj(value);
  if (!review) return { ok: false, message: 'the body is not a JSON object (expected an AdmissionReview)' };
  if (review.kind !== 'AdmissionReview')
    return { ok: false, message: `kind is ${JSON.stringify(review.kind)}, expected "AdmissionReview"` };
  if (review.apiVersion !== REVIEW_API_VERSION) {
    return {
      ok: false,
      message: `apiVersion is ${JSON.stringify(review.apiVersion)}; this webhook answers ${REVIEW_API_VERSION} only (set admissionReviewVersions: ["v1"])`,
    };
  }
  const req = obj(review.request);
  if (!req) return { ok: false, message: 'the AdmissionReview has no request object' };
  if (typeof req.uid !== 'string' || req.uid === '') return { ok: false, message: 'request.uid is missing' };
  const kind = obj(req.kind);
  if (!kind || typeof kind.kind !== 'string') return { ok: false, message: 'request.kind.kind is missing' };
  return {
    ok: true,
    request: {
      uid: req.uid,
      kind: kind.kind,
      namespace: typeof req.namespace === 'string' ? req.namespace : '',
      name: typeof req.name === 'string' ? req.name : '',
      operation: typeof req.operation === 'string' ? req.operation : '',
      object: req.object,
      ...(req.oldObject !== undefined && req.oldObject !== null ? { oldObject: req.oldObject } : {}),
    },
  };
}

/** Kinds whose pods come from `spec.template`. */
const TEMPLATE_KINDS = new Set([
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'ReplicationController',
]);

/** Where a kind keeps its pod spec, as keys from the object down; undefined for a kind that runs none. */
export function podSpecPath(kind: string): readonly string[] | undefined {
  if (kind === 'Pod') return ['spec'];
  if (TEMPLATE_KINDS.has(kind)) return ['spec', 'template', 'spec'];
  if (kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template', 'spec'];
  return undefined;
}

/** The pod spec the object would run, or undefined for a kind that runs none. */
export function podSpecOf(kind: string, object: unknown): Record<string, unknown> | undefined {
  const path = podSpecPath(kind);
  if (!path) return undefined;
  let at: Record<string, unknown> | undefined = obj(object);
  for (const key of path) at = obj(at?.[key]);
  return at;
}

/** Every container's image, in the order the spec lists them. */
export function containerImages(spec: Record<string, unknown>): ContainerImage[] {
  const out: ContainerImage[] = [];
  for (const field of ['initContainers', 'containers', 'ephemeralContainers']) {
    const list = spec[field];
    if (!Array.isArray(list)) continue;
    list.forEach((c, i) => {
      const container = obj(c);
      const name = typeof container?.name === 'string' ? container.name : `${field}[${i}]`;
      const image = typeof container?.image === 'string' ? container.image : '';
      out.push({ field, index: i, name, image });
    });
  }
  return out;
}
