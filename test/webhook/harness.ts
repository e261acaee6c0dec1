// The webhook as the API server meets it, for the webhook tests: a real Debian docker-registry on
// loopback holding the image fixtures pushed by skopeo with their cosign signatures as real `.sig`
// tags, and the webhook over real HTTPS with the CA and serving certificate made by `webhook
// certs`, trusted for the Service's DNS name as the API server does. Each test file calls
// useWebhook() once (it registers the before/after hooks) and reads the running parts from W.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { ImagePolicy } from '../../src/policy/image-policy.ts';
import { RegistryClient } from '../../src/readers/registry/client.ts';
import { makeWebhookCerts } from '../../src/webhook/certs/make.ts';
import type { DecisionContext } from '../../src/webhook/decide.ts';
import { type RunningWebhook, startWebhook } from '../../src/webhook/server.ts';
import { type RunningRegistry, registrySkip, skopeoPush, startRegistry } from '../fixtures/registry.ts';
import { type SkopeoSigned, sigTag, skopeoSigned } from '../verify/cosign-fixtures.ts';

const tools = registrySkip();
export const fixture: SkopeoSigned | { skip: string } = tools ? { skip: tools } : await skopeoSigned();
export const skip: string | false = 'skip' in fixture ? fixture.skip : false;

/** The name the API server connects to (clientConfig.service), which the certificate is for. */
export const SERVICE_NAME = 'k3sguard-webhook.k3sguard.svc';

/** `webhook certs` into `dir`: the CA file and the serving pair. */
export function webhookCerts(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const made = makeWebhookCerts({ service: 'k3sguard-webhook', namespace: 'k3sguard', dir });
  return { caFile: made.files.ca, certFile: made.files.cert, keyFile: made.files.key };
}

/** The running parts, filled in by useWebhook's before hook. */
export const W = {
  work: '',
  registry: undefined as unknown as RunningRegistry,
  client: undefined as unknown as RegistryClient,
  webhook: undefined as unknown as RunningWebhook,
  tls: { caFile: '', certFile: '', keyFile: '' },
  /** The CA PEM clients trust (replaced when a test rotates the certificate). */
  ca: '',
  decision: { policy: { file: 'policy.yaml', requireDigest: true } } as DecisionContext,
};

/**
 * Registry with `rancher/test:1.0` (signed), `rancher/unsigned:1`, and `rancher/copied:1` whose
 * `.sig` tag is the test image's valid signature (signed for another digest); `extra` pushes
 * more into it. The webhook decides with W.decision, which tests change.
 */
export function useWebhook(extra?: (registry: RunningRegistry, work: string) => void): void {
  before(async () => {
    if ('skip' in fixture) return;
    W.work = mkdtempSync(join(tmpdir(), 'k3sguard-webhook-'));
    W.registry = await startRegistry({ dir: join(W.work, 'registry') });
    const r = W.registry;
    skopeoPush(r, `dir:${fixture.dirs.test}`, 'rancher/test:1.0', { registriesD: fixture.registriesD });
    skopeoPush(r, `dir:${fixture.dirs.extra}`, 'rancher/unsigned:1', { removeSignatures: true });
    skopeoPush(r, `dir:${fixture.dirs.extra}`, 'rancher/copied:1', { removeSignatures: true });
    skopeoPush(
      r,
      `docker://${r.host}/rancher/test:${sigTag(fixture.testDigest)}`,
      `rancher/copied:${sigTag(fixture.extraDigest)}`,
    );
    extra?.(r, W.work);
    W.client = new RegistryClient({ plainHttp: [r.host] });
    W.decision.client = W.client;
    W.tls = webhookCerts(join(W.work, 'tls'));
    W.ca = readFileSync(W.tls.caFile, 'utf8');
    W.webhook = await startWebhook({ decision: W.decision, tls: W.tls, host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await W.webhook?.close();
    W.client?.close();
    await W.registry?.stop();
    if (W.work) rmSync(W.work, { recursive: true, force: true });
  });
}

/** The registry allowed, digests and the fixture key's signature required, then `over`. */
export function policy(over: Partial<ImagePolicy> = {}): ImagePolicy {
  if ('skip' in fixture) throw new Error('no fixture');
  return {
    file: join(W.work, 'policy.yaml'),
    allowedRegistries: [W.registry.host],
    requireDigest: true,
    requireSignature: { kind: 'key', key: fixture.keys.p256 },
    ...over,
  };
}

export const signedImage = () => ('skip' in fixture ? '' : `${W.registry.host}/rancher/test@${fixture.testDigest}`);
export const unsignedImage = () =>
  'skip' in fixture ? '' : `${W.registry.host}/rancher/unsigned@${fixture.extraDigest}`;

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One HTTPS request on a fresh connection (a new TLS handshake each time), trusting `caPem`. */
export function post(path: string, body: string | Buffer, caPem = W.ca, method = 'POST'): Promise<Answer> {
  const url = new URL(path, W.webhook.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: caPem,
        servername: SERVICE_NAME,
        agent: false,
        headers: { 'content-type': 'application/json' },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = { text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}

export interface Container {
  name: string;
  image: string;
}

export function pod(containers: Container[], extra: Record<string, Container[]> = {}) {
  return { containers, ...extra };
}

export function review(kind: string, object: unknown, namespace = 'default') {
  const group = ['Pod', 'ReplicationController'].includes(kind)
    ? ''
    : ['Job', 'CronJob'].includes(kind)
      ? 'batch'
      : 'apps';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `uid-${kind}-${namespace}`,
      kind: { group, version: 'v1', kind },
      resource: { group, version: 'v1', resource: `${kind.toLowerCase()}s` },
      namespace,
      name: 'web',
      operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin' },
      object,
      dryRun: false,
    },
  };
}

export interface Response {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  warnings?: string[];
  patch?: string;
  patchType?: string;
}

/** A review of `object` answered 200 as a v1 AdmissionReview for its uid; its response. */
export async function admit(kind: string, object: unknown, namespace?: string, path = '/validate'): Promise<Response> {
  const a = await post(path, JSON.stringify(review(kind, object, namespace)));
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(a.body.apiVersion, 'admission.k8s.io/v1');
  assert.equal(a.body.kind, 'AdmissionReview');
  const response = a.body.response as Response;
  assert.equal(response.uid, `uid-${kind}-${namespace ?? 'default'}`);
  return response;
}

/** `kind` holding the pod spec `spec` where the API server would send it. */
export function workload(kind: string, spec: unknown): unknown {
  const template = { metadata: { labels: { app: 'web' } }, spec };
  switch (kind) {
    case 'Pod':
      return { metadata: { name: 'web' }, spec };
    case 'CronJob':
      return { spec: { schedule: '* * * * *', jobTemplate: { spec: { template } } } };
    case 'Job':
      return { spec: { template } };
    default:
      return { spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template } };
  }
}

export const ALL_KINDS = [
  'Pod',
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'ReplicationController',
  'CronJob',
];

export function patchOps(response: Response): Array<{ op: string; path: string; value: string }> {
  return response.patch ? JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) : [];
}

/** RFC 6902 `replace` operations applied to a copy of `object` (what the API server does with the patch). */
export function applyPatch(object: unknown, response: Response): unknown {
  const copy = structuredClone(object) as Record<string, unknown>;
  if (!response.patch) return copy;
  assert.equal(response.patchType, 'JSONPatch');
  for (const op of patchOps(response)) {
    assert.equal(op.op, 'replace');
    const keys = op.path.split('/').slice(1);
    const last = keys.pop() as string;
    let at = copy as Record<string, unknown>;
    for (const k of keys) at = at[k] as Record<string, unknown>;
    assert.ok(last in at, `${op.path} exists (replace needs it)`);
    at[last] = op.value;
  }
  return copy;
}

/** GET `path` (the metrics text, /healthz) over the same HTTPS. */
export function get(path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    request(new URL(path, W.webhook.url), { ca: W.ca, servername: SERVICE_NAME, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString('utf8');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    })
      .on('error', reject)
      .end();
  });
}
