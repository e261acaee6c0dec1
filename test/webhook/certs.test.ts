// `k3sguard webhook certs` as a user runs it: the CA and serving certificate checked by openssl
// (an independent X.509 implementation: chain, purpose, the Service's DNS names), the key file's
// mode, nothing overwritten, nothing written outside the folder; the configurations it writes and
// deploy/kubernetes/webhook.yaml validated against the Kubernetes OpenAPI schemas
// (kubernetes-models), and the two agreeing with each other.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  MutatingWebhookConfiguration,
  ValidatingWebhookConfiguration,
} from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { webhookConfigurations } from '../../src/webhook/certs/configurations.ts';
import { DIGEST_PLACEHOLDER } from '../../tools/release-deploy.ts';
import { k3sguard, tempDir } from '../cli/run.ts';
import { hasTool } from '../fixtures/tools.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy', 'kubernetes', 'webhook.yaml');
// Spelled in pieces, as tools/release-deploy.ts does: the literal text of the deploy file.
const CA_PLACEHOLDER = ['$', '{K3SGUARD_WEBHOOK_CA_BUNDLE}'].join('');
const noOpenssl = hasTool('openssl') ? false : 'openssl not installed (apt-get install -y openssl)';

type Doc = Record<string, unknown> & { kind: string };

interface Hook {
  clientConfig: { caBundle: string; service: { name: string; namespace: string; path: string } };
  admissionReviewVersions: string[];
  sideEffects: string;
  failurePolicy: string;
  timeoutSeconds: number;
  namespaceSelector: { matchExpressions: unknown[] };
  rules: Array<{ apiGroups: string[]; resources: string[] }>;
}

interface PodController {
  spec: {
    replicas?: number;
    minAvailable?: number;
    selector: unknown;
    template: {
      spec: {
        containers: Array<{ image: string; args: string[]; securityContext: { readOnlyRootFilesystem: boolean } }>;
      };
    };
  };
}

function readDocs(text: string): Doc[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Doc);
}

/** Each document through the kubernetes-models class of its kind (throws on a schema violation). */
function validate(docs: Doc[]): string[] {
  const models: Record<string, new (d: never) => { validate(): void }> = {
    ValidatingWebhookConfiguration,
    MutatingWebhookConfiguration,
    Deployment,
    PodDisruptionBudget,
    Service,
  };
  return docs.map((d) => {
    const Model = models[d.kind];
    assert.ok(Model, `a model for ${d.kind}`);
    new Model(d as never).validate();
    return d.kind;
  });
}

test('webhook certs: a CA and a serving certificate for the Service that openssl verifies', {
  skip: noOpenssl,
}, (t) => {
  const parent = tempDir(t, 'k3sguard-certs-');
  const out = join(parent, 'certs');
  const r = k3sguard(['webhook', 'certs', '--service', 'guard', '--namespace', 'sec', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /serving certificate for guard\.sec\.svc, guard\.sec\.svc\.cluster\.local, until /);
  assert.match(r.stdout, /kubectl -n sec create secret tls guard-tls --cert=.*tls\.crt --key=.*tls\.key/);
  // Only the folder was written, holding exactly these (no CA key).
  assert.deepEqual(readdirSync(parent), ['certs']);
  assert.deepEqual(readdirSync(out).sort(), ['ca.crt', 'tls.crt', 'tls.key', 'webhook-configurations.yaml']);
  assert.equal(statSync(join(out, 'tls.key')).mode & 0o777, 0o600);
  const openssl = (args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });
  for (const name of ['guard.sec.svc', 'guard.sec.svc.cluster.local']) {
    const v = openssl([
      'verify',
      '-x509_strict',
      '-purpose',
      'sslserver',
      '-verify_hostname',
      name,
      '-CAfile',
      join(out, 'ca.crt'),
      join(out, 'tls.crt'),
    ]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /tls\.crt: OK/);
  }
  const wrongName = openssl([
    'verify',
    '-verify_hostname',
    'guard.other.svc',
    '-CAfile',
    join(out, 'ca.crt'),
    join(out, 'tls.crt'),
  ]);
  assert.notEqual(wrongName.status, 0, 'a name the certificate is not for');
  // The key is the certificate's.
  const fromKey = execFileSync('openssl', ['pkey', '-in', join(out, 'tls.key'), '-pubout'], { encoding: 'utf8' });
  const fromCert = execFileSync('openssl', ['x509', '-in', join(out, 'tls.crt'), '-noout', '-pubkey'], {
    encoding: 'utf8',
  });
  assert.equal(fromKey, fromCert);
  const ca = new X509Certificate(readFileSync(join(out, 'ca.crt')));
  const leaf = new X509Certificate(readFileSync(join(out, 'tls.crt')));
  assert.equal(ca.ca, true);
  assert.equal(leaf.ca, false);
  assert.ok(leaf.checkIssued(ca));
  assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  const days = (Date.parse(leaf.validTo) - Date.now()) / 86_400_000;
  assert.ok(days > 364 && days < 366, `about a year: ${days}`);
});

test('webhook certs: the configurations carry the CA, pass the Kubernetes schemas, and say what they must', (t) => {
  const out = join(tempDir(t, 'k3sguard-certs-'), 'c');
  const r = k3sguard([
    'webhook',
    'certs',
    '--service',
    'k3sguard-webhook',
    '--namespace',
    'k3sguard',
    '-o',
    out,
    '--failure-policy',
    'Ignore',
    '--timeout-seconds',
    '12',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const docs = readDocs(readFileSync(join(out, 'webhook-configurations.yaml'), 'utf8'));
  assert.deepEqual(validate(docs), ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']);
  const caPem = readFileSync(join(out, 'ca.crt'), 'utf8');
  const paths = [];
  for (const doc of docs) {
    const hook = (doc.webhooks as Hook[])[0] as Hook;
    assert.equal(Buffer.from(hook.clientConfig.caBundle, 'base64').toString('utf8'), caPem);
    assert.equal(hook.clientConfig.service.name, 'k3sguard-webhook');
    assert.equal(hook.clientConfig.service.namespace, 'k3sguard');
    paths.push(hook.clientConfig.service.path);
    assert.deepEqual(hook.admissionReviewVersions, ['v1']);
    assert.equal(hook.sideEffects, 'None');
    assert.equal(hook.failurePolicy, 'Ignore');
    assert.equal(hook.timeoutSeconds, 12);
    assert.deepEqual(hook.namespaceSelector.matchExpressions, [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'k3sguard'] },
    ]);
    const resources = hook.rules.flatMap((rule) => rule.resources.map((res) => `${rule.apiGroups[0]}/${res}`));
    assert.deepEqual(resources.sort(), [
      '/pods',
      '/pods/ephemeralcontainers',
      '/replicationcontrollers',
      'apps/daemonsets',
      'apps/deployments',
      'apps/replicasets',
      'apps/statefulsets',
      'batch/cronjobs',
      'batch/jobs',
    ]);
  }
  assert.deepEqual(paths, ['/validate', '/mutate']);
});

test('webhook certs never overwrites: a second run names the file and changes nothing', (t) => {
  const out = join(tempDir(t, 'k3sguard-certs-'), 'c');
  assert.equal(k3sguard(['webhook', 'certs', '--service', 's', '--namespace', 'n', '-o', out]).code, 0);
  const before = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]));
  const again = k3sguard(['webhook', 'certs', '--service', 's', '--namespace', 'n', '-o', out]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /tls\.key: already exists; webhook certs never overwrites/);
  assert.doesNotMatch(again.stderr, /\n\s+at /, 'no stack trace');
  const after = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]));
  assert.deepEqual(after, before);
  const badName = k3sguard(['webhook', 'certs', '--service', 'Bad_Name', '--namespace', 'n', '-o', `${out}-2`]);
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /--service "Bad_Name" is not a Kubernetes name/);
  const badPolicy = k3sguard([
    'webhook',
    'certs',
    '--service',
    's',
    '--namespace',
    'n',
    '-o',
    `${out}-3`,
    '--failure-policy',
    'Open',
  ]);
  assert.equal(badPolicy.code, 2);
  assert.match(badPolicy.stderr, /--failure-policy: Fail or Ignore/);
  const missing = k3sguard(['webhook', 'certs', '--service', 's', '-o', `${out}-4`]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--namespace/);
});

test('deploy/kubernetes/webhook.yaml passes the Kubernetes schemas and registers what webhook certs writes', (t) => {
  const out = join(tempDir(t, 'k3sguard-certs-'), 'c');
  assert.equal(
    k3sguard(['webhook', 'certs', '--service', 'k3sguard-webhook', '--namespace', 'k3sguard', '-o', out]).code,
    0,
  );
  const caPem = readFileSync(join(out, 'ca.crt'), 'utf8');
  const text = readFileSync(DEPLOY, 'utf8')
    .replaceAll(DIGEST_PLACEHOLDER, `sha256:${'ab'.repeat(32)}`)
    .replaceAll(CA_PLACEHOLDER, Buffer.from(caPem).toString('base64'));
  const docs = readDocs(text);
  assert.deepEqual(validate(docs), [
    'Service',
    'Deployment',
    'PodDisruptionBudget',
    'ValidatingWebhookConfiguration',
    'MutatingWebhookConfiguration',
  ]);
  // The configurations are exactly those webhook certs writes for this Service.
  assert.deepEqual(
    docs.slice(3),
    webhookConfigurations({ service: 'k3sguard-webhook', namespace: 'k3sguard', caPem }).map((d) =>
      JSON.parse(JSON.stringify(d)),
    ),
  );
  const deployment = docs[1] as unknown as PodController;
  assert.equal(deployment.spec.replicas, 2);
  const container = deployment.spec.template.spec
    .containers[0] as PodController['spec']['template']['spec']['containers'][0];
  assert.equal(container.image, `docker.io/library/k3sguard:0.1.0@sha256:${'ab'.repeat(32)}`);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.ok(container.args.includes('--tls-cert=/tls/tls.crt'));
  const pdb = docs[2] as unknown as PodController;
  assert.equal(pdb.spec.minAvailable, 1);
  assert.deepEqual(pdb.spec.selector, deployment.spec.selector);
  // The placeholder as it is is not base64: the API server refuses the configurations instead of
  // registering a caBundle that trusts nobody.
  assert.doesNotMatch(readFileSync(DEPLOY, 'utf8').match(/caBundle: (\S+)/)?.[1] ?? '', /^[A-Za-z0-9+/=]+$/);
  const audit = k3sguard(['audit', 'iac', DEPLOY]);
  assert.equal(audit.code, 0, audit.stdout + audit.stderr);
  assert.match(audit.stdout, /1 file\(s\) audited, no findings/);
});
