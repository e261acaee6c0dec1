// The ValidatingWebhookConfiguration and MutatingWebhookConfiguration that register the webhook
// with the API server, written by `webhook certs` with the CA as their caBundle and used
// verbatim in deploy/kubernetes/webhook.yaml (tests compare the two).
//
// - rules: Pods (and their ephemeralcontainers subresource, how `kubectl debug` adds one) and
//   every kind with a pod template, on CREATE and UPDATE: a bad Deployment is refused at once.
// - namespaceSelector: kube-system and the webhook's own namespace are never sent. kube-system
//   runs the cluster itself (CoreDNS, K3s's helm and local-path jobs); the webhook's namespace
//   runs the webhook: if a denial or an outage there stopped its pods from starting, nothing
//   could be admitted again (every pod would wait on a webhook that cannot start). Only cluster
//   admins can create pods in or relabel those namespaces.
// - objectSelector: every object. A label selector is chosen by whoever writes the pod, so any
//   exclusion by pod label would be a bypass anyone can use.
// - failurePolicy: what the API server does when it cannot reach the webhook at all (Fail
//   refuses the request); the webhook's own --fail-open is about registries it cannot reach.
// - timeoutSeconds above the webhook's --deadline, so the webhook answers with its own reason.
import { stringify } from 'yaml';

export const VALIDATING_WEBHOOK_NAME = 'validate.images.k3sguard.dev';
export const MUTATING_WEBHOOK_NAME = 'resolve.images.k3sguard.dev';

export type FailurePolicy = 'Fail' | 'Ignore';

export interface ConfigurationOptions {
  service: string;
  namespace: string;
  /** PEM of the CA that signed the serving certificate. */
  caPem: string;
  failurePolicy?: FailurePolicy;
  /** The API server's wait for one answer, 1..30 s; default 15 (the webhook's deadline is 10 s). */
  timeoutSeconds?: number;
}

export const DEFAULT_TIMEOUT_SECONDS = 15;

/** The namespaces never sent to the webhook (see above). */
export function excludedNamespaces(namespace: string): string[] {
  return [...new Set(['kube-system', namespace])];
}

/** What the webhook reviews: pods and every kind that carries a pod template. */
export const WEBHOOK_RULES = [
  {
    apiGroups: [''],
    apiVersions: ['v1'],
    operations: ['CREATE', 'UPDATE'],
    resources: ['pods', 'pods/ephemeralcontainers', 'replicationcontrollers'],
    scope: 'Namespaced',
  },
  {
    apiGroups: ['apps'],
    apiVersions: ['v1'],
    operations: ['CREATE', 'UPDATE'],
    resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'],
    scope: 'Namespaced',
  },
  {
    apiGroups: ['batch'],
    apiVersions: ['v1'],
    operations: ['CREATE', 'UPDATE'],
    resources: ['jobs', 'cronjobs'],
    scope: 'Namespaced',
  },
];

function webhook(name: string, path: string, opts: ConfigurationOptions) {
  return {
    name,
    admissionReviewVersions: ['v1'],
    clientConfig: {
      service: { name: opts.service, namespace: opts.namespace, path, port: 443 },
      caBundle: Buffer.from(opts.caPem, 'utf8').toString('base64'),
    },
    rules: WEBHOOK_RULES,
    matchPolicy: 'Equivalent',
    namespaceSelector: {
      matchExpressions: [
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excludedNamespaces(opts.namespace) },
      ],
    },
    objectSelector: {},
    failurePolicy: opts.failurePolicy ?? 'Fail',
    sideEffects: 'None',
    timeoutSeconds: opts.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
  };
}

/** Both configurations as objects, validating first. */
export function webhookConfigurations(opts: ConfigurationOptions): Record<string, unknown>[] {
  const metadata = { name: opts.service, labels: { 'app.kubernetes.io/name': opts.service } };
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata,
      webhooks: [webhook(VALIDATING_WEBHOOK_NAME, '/validate', opts)],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata,
      // Tags rewritten to the digests verified. Called again when a later mutating webhook
      // changed the object (IfNeeded): an image it added by tag is resolved too. Rewriting is
      // idempotent (a pinned image is left as it is).
      webhooks: [{ ...webhook(MUTATING_WEBHOOK_NAME, '/mutate', opts), reinvocationPolicy: 'IfNeeded' }],
    },
  ];
}

/** The configurations as one YAML stream (`kubectl apply -f`). */
export function webhookConfigurationsYaml(opts: ConfigurationOptions): string {
  return webhookConfigurations(opts)
    .map((doc) => stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false }))
    .join('---\n');
}
