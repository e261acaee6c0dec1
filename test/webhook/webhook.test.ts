// The webhook as the API server meets it: AdmissionReview v1 over real HTTPS (the CA and serving
// certificate made by `webhook certs`, trusted for the Service's DNS name as the API server does),
// decided against a real Debian docker-registry on loopback that holds the image fixtures pushed
// by skopeo with their cosign signatures as real `.sig` tags (keyed, a copied one, and the real
// public-good keyless one). Each denial is read as a user would: the container, the image, the
// rule and what to do. The mutating endpoint's patches are applied and the result validated.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ImagePolicy } from '../../src/policy/image-policy.ts';
import { RegistryCache } from '../../src/readers/registry/cache.ts';
import { RegistryClient } from '../../src/readers/registry/client.ts';
import { LOCK_SCHEMA } from '../../src/verify/lock/format.ts';
import { makeWebhookCerts } from '../../src/webhook/certs/make.ts';
import type { DecisionContext } from '../../src/webhook/decide.ts';
import { type RunningWebhook, startWebhook } from '../../src/webhook/server.ts';
import { SHARED_DATA } from '../fixtures/realbins.ts';
import { type RunningRegistry, registrySkip, skopeoPush, startRegistry } from '../fixtures/registry.ts';
import { startSilent } from '../readers/registry-servers.ts';
import { putSignatureManifest, SIG_ANNOTATION, sigTag, skopeoSigned, writeIndex } from '../verify/cosign-fixtures.ts';
import { REAL_KEYLESS as K, realKeylessBundleAnnotation } from '../verify/cosign-keyless-real.ts';

const tools = registrySkip();
const fixture = tools ? { skip: tools } : await skopeoSigned();
const skip = 'skip' in fixture ? fixture.skip : false;
const PRODUCTION_ROOT = join(SHARED_DATA, 'sigstore', 'trust', 'production.trusted_root.json');
/** The name the API server connects to (clientConfig.service), which the certificate is for. */
const SERVICE_NAME = 'k3sguard-webhook.k3sguard.svc';

/** `webhook certs` into `dir`: the CA file and the serving pair. */
function webhookCerts(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const made = makeWebhookCerts({ service: 'k3sguard-webhook', namespace: 'k3sguard', dir });
  return { caFile: made.files.ca, certFile: made.files.cert, keyFile: made.files.key };
}

let work = '';
let registry: RunningRegistry;
let client: RegistryClient;
let webhook: RunningWebhook;
let tls: { caFile: string; certFile: string; keyFile: string };
let ca = '';
const decision: DecisionContext = { policy: { file: 'policy.yaml', requireDigest: true } };

before(async () => {
  if ('skip' in fixture) return;
  work = mkdtempSync(join(tmpdir(), 'k3sguard-webhook-'));
  registry = await startRegistry({ dir: join(work, 'registry') });
  const signed = { registriesD: fixture.registriesD };
  skopeoPush(registry, `dir:${fixture.dirs.test}`, 'rancher/test:1.0', signed);
  skopeoPush(registry, `dir:${fixture.dirs.extra}`, 'rancher/unsigned:1', { removeSignatures: true });
  // Signed for another digest: the test image's valid .sig manifest tagged as the extra image's.
  skopeoPush(registry, `dir:${fixture.dirs.extra}`, 'rancher/copied:1', { removeSignatures: true });
  skopeoPush(
    registry,
    `docker://${registry.host}/rancher/test:${sigTag(fixture.testDigest)}`,
    `rancher/copied:${sigTag(fixture.extraDigest)}`,
  );
  // The real keyless signature as the .sig tag of the digest it signs (the image is not needed).
  const layout = join(work, 'keyless');
  const desc = putSignatureManifest(layout, [
    {
      payload: Buffer.from(K.payload),
      annotations: {
        [SIG_ANNOTATION]: K.signature,
        'dev.sigstore.cosign/certificate': K.certificate,
        'dev.sigstore.cosign/bundle': realKeylessBundleAnnotation(),
      },
    },
  ]);
  writeIndex(layout, [{ desc, ref: 'sig' }]);
  skopeoPush(registry, `oci:${layout}:sig`, `cosign-test/myimage:${sigTag(K.imageDigest)}`);
  client = new RegistryClient({ plainHttp: [registry.host] });
  decision.client = client;
  tls = webhookCerts(join(work, 'tls'));
  ca = readFileSync(tls.caFile, 'utf8');
  webhook = await startWebhook({ decision, tls, host: '127.0.0.1', port: 0 });
});

after(async () => {
  await webhook?.close();
  client?.close();
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function policy(over: Partial<ImagePolicy> = {}): ImagePolicy {
  if ('skip' in fixture) throw new Error('no fixture');
  return {
    file: join(work, 'policy.yaml'),
    allowedRegistries: [registry.host],
    requireDigest: true,
    requireSignature: { kind: 'key', key: fixture.keys.p256 },
    ...over,
  };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One POST on a fresh connection (a new TLS handshake each time), trusting `caPem`. */
function post(path: string, body: string | Buffer, caPem = ca): Promise<Answer> {
  const url = new URL(path, webhook.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: caPem,
        servername: SERVICE_NAME,
        agent: false,
        headers: { 'content-type': 'application/json' },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
        );
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}

interface Container {
  name: string;
  image: string;
}

function pod(containers: Container[], extra: Record<string, Container[]> = {}) {
  return { containers, ...extra };
}

function review(kind: string, object: unknown, namespace = 'default') {
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

interface Response {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  warnings?: string[];
  patch?: string;
  patchType?: string;
}

async function admit(kind: string, object: unknown, namespace?: string, path = '/validate'): Promise<Response> {
  const a = await post(path, JSON.stringify(review(kind, object, namespace)));
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(a.body.apiVersion, 'admission.k8s.io/v1');
  assert.equal(a.body.kind, 'AdmissionReview');
  const response = a.body.response as Response;
  assert.equal(response.uid, `uid-${kind}-${namespace ?? 'default'}`);
  return response;
}

const signedImage = () => ('skip' in fixture ? '' : `${registry.host}/rancher/test@${fixture.testDigest}`);
const unsignedImage = () => ('skip' in fixture ? '' : `${registry.host}/rancher/unsigned@${fixture.extraDigest}`);

test('a signed image by digest from an allowed registry is admitted; /healthz answers', { skip }, async () => {
  decision.policy = policy();
  const r = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
  assert.equal(r.allowed, true, r.status?.message);
  assert.equal(r.warnings, undefined);
  const health = await new Promise<number>((resolve, reject) => {
    request(new URL('/healthz', webhook.url), { ca, servername: SERVICE_NAME, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
  assert.equal(health, 200);
});

test('a tag is refused when digests are required, naming the container, image, rule and fix', { skip }, async () => {
  decision.policy = policy();
  const r = await admit('Pod', { spec: pod([{ name: 'app', image: `${registry.host}/rancher/test:1.0` }]) });
  assert.equal(r.allowed, false);
  assert.equal(r.status?.code, 403);
  const m = r.status?.message ?? '';
  console.error(`denial as a user sees it:\n${m}`);
  assert.match(m, /^k3sguard denied Pod default\/web:/);
  assert.match(m, /container "app" image .*\/rancher\/test:1\.0: .*requires @sha256:/);
  assert.match(m, /\[K3SG-POLICY-DIGEST\]; reference it by digest/);
});

test('unsigned, and signed by another key: refused with the signature rule and what to do', { skip }, async () => {
  if ('skip' in fixture) return;
  decision.policy = policy();
  const unsigned = await admit('Pod', { spec: pod([{ name: 'app', image: unsignedImage() }]) });
  assert.equal(unsigned.allowed, false);
  assert.match(
    unsigned.status?.message ?? '',
    /container "app" image .*rancher\/unsigned@sha256:[0-9a-f]{64}: signature required/,
  );
  assert.match(
    unsigned.status?.message ?? '',
    /no cosign signature .*\[K3SG-POLICY-SIGNATURE\]; sign the image by digest \(cosign sign/,
  );
  decision.policy = policy({ requireSignature: { kind: 'key', key: fixture.keys.unused } });
  const other = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
  assert.equal(other.allowed, false);
  assert.match(
    other.status?.message ?? '',
    /rancher\/test@.*\[K3SG-POLICY-SIGNATURE\]; .*does not verify with this key/,
  );
});

test('a registry outside the policy is refused without asking it', { skip }, async () => {
  decision.policy = policy();
  const image = `docker.io/library/debian@sha256:${'ab'.repeat(32)}`;
  const r = await admit('Pod', { spec: pod([{ name: 'db', image }]) });
  assert.equal(r.allowed, false);
  assert.match(
    r.status?.message ?? '',
    /container "db" image docker\.io\/library\/debian@sha256:.* comes from docker\.io/,
  );
  assert.match(r.status?.message ?? '', /\[K3SG-POLICY-REGISTRY\]; use an image from an allowed registry/);
  assert.doesNotMatch(r.status?.message ?? '', /K3SG-POLICY-SIGNATURE/);
});

test('init and ephemeral containers are checked like the others', { skip }, async () => {
  decision.policy = policy();
  const r = await admit('Pod', {
    spec: pod([{ name: 'app', image: signedImage() }], {
      initContainers: [{ name: 'setup', image: unsignedImage() }],
      ephemeralContainers: [{ name: 'debugger', image: `${registry.host}/rancher/test:1.0` }],
    }),
  });
  assert.equal(r.allowed, false);
  const m = r.status?.message ?? '';
  assert.match(m, /init container "setup" image .*rancher\/unsigned@/);
  assert.match(m, /ephemeral container "debugger" image .*rancher\/test:1\.0/);
  assert.doesNotMatch(m, /container "app"/);
});

test('a Deployment and a CronJob are decided from their pod templates', { skip }, async () => {
  decision.policy = policy();
  const template = (image: string) => ({ metadata: {}, spec: pod([{ name: 'web', image }]) });
  const bad = await admit('Deployment', { spec: { replicas: 2, template: template(unsignedImage()) } });
  assert.equal(bad.allowed, false);
  assert.match(bad.status?.message ?? '', /^k3sguard denied Deployment default\/web:\n- container "web" image/);
  const good = await admit('Deployment', { spec: { replicas: 2, template: template(signedImage()) } });
  assert.equal(good.allowed, true, good.status?.message);
  const cron = (image: string) => ({
    spec: { schedule: '* * * * *', jobTemplate: { spec: { template: template(image) } } },
  });
  const badCron = await admit('CronJob', cron(unsignedImage()));
  assert.equal(badCron.allowed, false);
  assert.match(badCron.status?.message ?? '', /CronJob default\/web:\n- container "web" image .*rancher\/unsigned@/);
  assert.equal((await admit('CronJob', cron(signedImage()))).allowed, true);
});

test('kube-system is excluded by default; audit mode admits with warnings', { skip }, async () => {
  decision.policy = policy();
  const excluded = await admit('Pod', { spec: pod([{ name: 'app', image: unsignedImage() }]) }, 'kube-system');
  assert.equal(excluded.allowed, true);
  decision.mode = 'audit';
  try {
    const audited = await admit('Pod', { spec: pod([{ name: 'app', image: unsignedImage() }]) });
    assert.equal(audited.allowed, true);
    assert.equal(audited.warnings?.length, 1);
    assert.match(
      audited.warnings?.[0] ?? '',
      /^k3sguard \(audit, would deny\): container "app" image .*K3SG-POLICY-SIGNATURE/,
    );
  } finally {
    delete decision.mode;
  }
});

test('malformed, oversized and non-v1 reviews get 400 with a clear message', { skip }, async () => {
  const notJson = await post('/validate', '{"apiVersion": ');
  assert.equal(notJson.status, 400);
  assert.equal(notJson.body.error, 'BAD_JSON');
  assert.match(String(notJson.body.message), /not JSON/);
  const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
  const oversized = await post('/validate', big);
  assert.equal(oversized.status, 400);
  assert.equal(oversized.body.error, 'TOO_LARGE');
  assert.match(String(oversized.body.message), /larger than \d+ bytes .*webhookBodyBytes/);
  const v1beta1 = await post(
    '/validate',
    JSON.stringify({ ...review('Pod', {}), apiVersion: 'admission.k8s.io/v1beta1' }),
  );
  assert.equal(v1beta1.status, 400);
  assert.equal(v1beta1.body.error, 'BAD_REVIEW');
  assert.match(String(v1beta1.body.message), /answers admission\.k8s\.io\/v1 only/);
  const noRequest = await post(
    '/validate',
    JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
  );
  assert.equal(noRequest.status, 400);
  assert.match(String(noRequest.body.message), /no request/);
  // Still serving after all of that.
  assert.equal((await admit('Pod', { spec: pod([]) })).allowed, true);
});

test('a rotated certificate is served on the next connection, without a restart', { skip }, async () => {
  const next = webhookCerts(join(work, 'tls-next'));
  const nextCa = readFileSync(next.caFile, 'utf8');
  await assert.rejects(post('/validate', JSON.stringify(review('Pod', { spec: pod([]) })), nextCa));
  copyFileSync(next.keyFile, tls.keyFile);
  copyFileSync(next.certFile, tls.certFile);
  const a = await post('/validate', JSON.stringify(review('Pod', { spec: pod([]) })), nextCa);
  assert.equal(a.status, 200);
  assert.equal(webhook.reloads(), 1);
  await assert.rejects(post('/validate', JSON.stringify(review('Pod', { spec: pod([]) })), ca));
  ca = nextCa;
});

test('when digests are not required, a tag is resolved at the registry and its signature checked', {
  skip,
}, async () => {
  decision.policy = policy({ requireDigest: false });
  const good = await admit('Pod', { spec: pod([{ name: 'app', image: `${registry.host}/rancher/test:1.0` }]) });
  assert.equal(good.allowed, true, good.status?.message);
  const bad = await admit('Pod', { spec: pod([{ name: 'app', image: `${registry.host}/rancher/unsigned:1` }]) });
  assert.equal(bad.allowed, false);
  // The denial names the digest the tag resolved to: what was actually checked.
  assert.match(
    bad.status?.message ?? '',
    new RegExp(`rancher/unsigned@${'skip' in fixture ? '' : fixture.extraDigest}`),
  );
});

test('a registry that never answers is cut off by the deadline and the failure policy applies', { skip }, async () => {
  const silent = await startSilent();
  const silentClient = new RegistryClient({ plainHttp: [silent.host] });
  decision.policy = policy({ allowedRegistries: [silent.host] });
  decision.client = silentClient;
  decision.deadlineMs = 300;
  try {
    const r = await admit('Pod', {
      spec: pod([{ name: 'app', image: `${silent.host}/rancher/test@sha256:${'cd'.repeat(32)}` }]),
    });
    assert.equal(r.allowed, false);
    assert.match(r.status?.message ?? '', /could not be checked: .*registry unavailable/);
    assert.ok(silent.requests.length >= 1, 'the registry was asked');
  } finally {
    decision.client = client;
    delete decision.deadlineMs;
    silentClient.close();
    await silent.close();
  }
});

test('offline, decisions come from the cache the online ones filled, and a miss is fail-closed', { skip }, async () => {
  decision.policy = policy();
  decision.cache = new RegistryCache(join(work, 'cache'));
  try {
    assert.equal((await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) })).allowed, true);
    decision.offline = true;
    delete decision.client;
    const cached = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
    assert.equal(cached.allowed, true, cached.status?.message);
    const miss = await admit('Pod', { spec: pod([{ name: 'app', image: unsignedImage() }]) });
    assert.equal(miss.allowed, false);
    assert.match(
      miss.status?.message ?? '',
      /offline, and the cache holds no fresh signature verdict .*REGISTRY_OFFLINE/,
    );
  } finally {
    decision.client = client;
    delete decision.offline;
    delete decision.cache;
  }
});

/** The pod spec of `kind` holding `spec`, as the API server would send the object. */
function workload(kind: string, spec: unknown): unknown {
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

const ALL_KINDS = [
  'Pod',
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'ReplicationController',
  'CronJob',
];

/** RFC 6902 `replace` operations applied to a copy of `object` (what the API server does with the patch). */
function applyPatch(object: unknown, response: Response): unknown {
  const copy = structuredClone(object) as Record<string, unknown>;
  if (!response.patch) return copy;
  assert.equal(response.patchType, 'JSONPatch');
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Array<{
    op: string;
    path: string;
    value: unknown;
  }>;
  for (const op of ops) {
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

function patchOps(response: Response): Array<{ op: string; path: string; value: string }> {
  return response.patch ? JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) : [];
}

test('every pod-template kind is decided from its template and names the kind', { skip }, async () => {
  decision.policy = policy();
  for (const kind of ALL_KINDS) {
    const bad = await admit(kind, workload(kind, pod([{ name: 'web', image: unsignedImage() }])));
    assert.equal(bad.allowed, false, kind);
    assert.match(
      bad.status?.message ?? '',
      new RegExp(`^k3sguard denied ${kind} default/web:\\n- container "web" image .*rancher/unsigned@`),
    );
    const good = await admit(kind, workload(kind, pod([{ name: 'web', image: signedImage() }])));
    assert.equal(good.allowed, true, `${kind}: ${good.status?.message}`);
  }
  // Kinds that run no pod are not the webhook's business.
  assert.equal((await admit('ConfigMap', { data: { image: unsignedImage() } })).allowed, true);
});

test('signed for another digest: a valid signature copied beside another image is refused', { skip }, async () => {
  if ('skip' in fixture) return;
  decision.policy = policy();
  const image = `${registry.host}/rancher/copied@${fixture.extraDigest}`;
  const r = await admit('Pod', { spec: pod([{ name: 'app', image }]) });
  assert.equal(r.allowed, false);
  const m = r.status?.message ?? '';
  assert.match(m, new RegExp(`signature is for ${fixture.testDigest}, not this image .*\\[SIGNED_OTHER_IMAGE\\]`));
  assert.match(m, /\[K3SG-POLICY-SIGNATURE\]; .*made for another image/);
});

test('the mutating endpoint pins verified tags to their digests in every kind and container list', {
  skip,
}, async () => {
  if ('skip' in fixture) return;
  decision.policy = policy(); // digests required: the mutation is what meets the rule
  const tag = `${registry.host}/rancher/test:1.0`;
  for (const kind of ALL_KINDS) {
    const spec = pod([{ name: 'app', image: tag }], {
      initContainers: [{ name: 'setup', image: tag }],
      ephemeralContainers: [{ name: 'debugger', image: tag }],
    });
    const object = workload(kind, spec);
    // Before the mutation the validating webhook refuses the tags.
    assert.equal((await admit(kind, object)).allowed, false);
    const m = await admit(kind, object, undefined, '/mutate');
    assert.equal(m.allowed, true);
    const base =
      kind === 'Pod' ? '/spec' : kind === 'CronJob' ? '/spec/jobTemplate/spec/template/spec' : '/spec/template/spec';
    assert.deepEqual(
      patchOps(m)
        .map((o) => o.path)
        .sort(),
      [`${base}/containers/0/image`, `${base}/ephemeralContainers/0/image`, `${base}/initContainers/0/image`],
      kind,
    );
    for (const o of patchOps(m)) assert.equal(o.value, `${tag}@${fixture.testDigest}`);
    // The mutated object is what the validating webhook then sees: admitted.
    const after = await admit(kind, applyPatch(object, m));
    assert.equal(after.allowed, true, `${kind}: ${after.status?.message}`);
  }
});

test('the mutating endpoint leaves alone what it could not verify, and what is pinned already', { skip }, async () => {
  if ('skip' in fixture) return;
  decision.policy = policy();
  const m = await admit(
    'Pod',
    {
      spec: pod([
        { name: 'unsigned', image: `${registry.host}/rancher/unsigned:1` },
        { name: 'pinned', image: signedImage() },
        { name: 'elsewhere', image: 'docker.io/library/debian:12' },
        { name: 'signed', image: `${registry.host}/rancher/test:1.0` },
      ]),
    },
    undefined,
    '/mutate',
  );
  assert.equal(m.allowed, true);
  assert.equal(m.warnings, undefined);
  assert.deepEqual(patchOps(m), [
    {
      op: 'replace',
      path: '/spec/containers/3/image',
      value: `${registry.host}/rancher/test:1.0@${fixture.testDigest}`,
    },
  ]);
  const none = await admit('Pod', { spec: pod([{ name: 'pinned', image: signedImage() }]) }, undefined, '/mutate');
  assert.equal(none.patch, undefined);
  assert.equal(none.patchType, undefined);
  // Excluded namespaces are not mutated either.
  const system = await admit(
    'Pod',
    { spec: pod([{ name: 'a', image: `${registry.host}/rancher/test:1.0` }]) },
    'kube-system',
    '/mutate',
  );
  assert.equal(system.patch, undefined);
});

test('on UPDATE the mutating endpoint pins only the images the update sets or changes', { skip }, async () => {
  if ('skip' in fixture) return;
  decision.policy = policy();
  const tag = `${registry.host}/rancher/test:1.0`;
  const old = { spec: pod([{ name: 'app', image: tag }]) };
  const updated = {
    spec: pod([
      { name: 'app', image: tag },
      { name: 'side', image: tag },
    ]),
  };
  const body = review('Pod', updated);
  const a = await post(
    '/mutate',
    JSON.stringify({ ...body, request: { ...body.request, operation: 'UPDATE', oldObject: old } }),
  );
  assert.equal(a.status, 200);
  const r = a.body.response as Response;
  // The unchanged "app" would restart a running container if its spec changed: left alone.
  assert.deepEqual(patchOps(r), [
    { op: 'replace', path: '/spec/containers/1/image', value: `${tag}@${fixture.testDigest}` },
  ]);
});

test('images reviewed in the lock: a locked digest is admitted, another refused, decided without a registry', {
  skip,
}, async () => {
  if ('skip' in fixture) return;
  const lockFile = join(work, 'k3sguard.lock');
  writeFileSync(
    lockFile,
    `${JSON.stringify({
      schema: LOCK_SCHEMA,
      artifacts: [
        {
          name: 'images.tar',
          size: 1,
          sha256: 'ab'.repeat(32),
          images: [{ name: 'docker.io/rancher/test:1.0', digest: fixture.testDigest, platform: 'linux/amd64' }],
          sources: [{ name: 'local' }],
        },
      ],
    })}\n`,
  );
  // Relative to the policy file, as a key is.
  decision.policy = policy({ requireSignature: undefined, requireLocked: 'k3sguard.lock' });
  delete decision.policy.requireSignature;
  delete decision.client; // the lock is the whole answer: no registry is asked
  try {
    const locked = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
    assert.equal(locked.allowed, true, locked.status?.message);
    const other = await admit('Pod', { spec: pod([{ name: 'app', image: unsignedImage() }]) });
    assert.equal(other.allowed, false);
    const m = other.status?.message ?? '';
    assert.match(
      m,
      /container "app" image .*rancher\/unsigned@sha256:[0-9a-f]{64}: its digest is none of the 1 image\(s\) reviewed in .*k3sguard\.lock/,
    );
    assert.match(m, /\[K3SG-POLICY-LOCK\]; review it and record it \(k3sguard lock add/);
    // Mirrored under another name, the same digest is the reviewed image.
    const mirrored = await admit('Pod', {
      spec: pod([{ name: 'app', image: `${registry.host}/mirror/test@${fixture.testDigest}` }]),
    });
    assert.equal(mirrored.allowed, true, mirrored.status?.message);
    // A lock that cannot be read admits nothing, even fail-open.
    decision.failOpen = true;
    writeFileSync(lockFile, '{"schema": "k3sguard/lock@1", "artifacts": 3}\n');
    const broken = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
    assert.equal(broken.allowed, false);
    assert.match(
      broken.status?.message ?? '',
      /the lock cannot be read: .*LOCK_INVALID|the lock cannot be read: .*artifacts/,
    );
  } finally {
    decision.client = client;
    delete decision.failOpen;
  }
  // With a signature required too, both rules apply and each is named.
  decision.policy = policy({ requireLocked: lockFile });
  writeFileSync(
    lockFile,
    `${JSON.stringify({ schema: LOCK_SCHEMA, artifacts: [{ name: 'images.tar', size: 1, sha256: 'ab'.repeat(32), images: [{ name: 'docker.io/rancher/test:1.0', digest: fixture.testDigest }], sources: [{ name: 'local' }] }] })}\n`,
  );
  const both = await admit('Pod', { spec: pod([{ name: 'app', image: unsignedImage() }]) });
  assert.match(both.status?.message ?? '', /\[K3SG-POLICY-LOCK\].*\n- .*\[K3SG-POLICY-SIGNATURE\]/);
});

test('keyless: the real public-good signature as a .sig tag admits for its identity, not another', {
  skip: skip || (existsSync(PRODUCTION_ROOT) ? false : `the Sigstore test data is absent (${PRODUCTION_ROOT})`),
}, async () => {
  const image = `${registry.host}/cosign-test/myimage@${K.imageDigest}`;
  decision.trustedRootPath = PRODUCTION_ROOT;
  try {
    decision.policy = policy({
      requireSignature: { kind: 'keyless', issuer: K.issuer, identity: { exact: K.identity } },
    });
    const ok = await admit('Pod', { spec: pod([{ name: 'app', image }]) });
    assert.equal(ok.allowed, true, ok.status?.message);
    decision.policy = policy({
      requireSignature: { kind: 'keyless', issuer: K.issuer, identity: { exact: 'someone@example.com' } },
    });
    const no = await admit('Pod', { spec: pod([{ name: 'app', image }]) });
    assert.equal(no.allowed, false);
    assert.match(
      no.status?.message ?? '',
      /signature required \(identity someone@example\.com.*UNTRUSTED_SIGNER.*\[K3SG-POLICY-SIGNATURE\]/,
    );
  } finally {
    delete decision.trustedRootPath;
  }
});

test('GET /metrics counts decisions by verdict and rule, latency, cache hits and misses, and 400s', {
  skip,
}, async () => {
  const text = await new Promise<string>((resolve, reject) => {
    request(new URL('/metrics', webhook.url), { ca, servername: SERVICE_NAME, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
  const value = (line: RegExp) => Number(text.match(line)?.[1] ?? Number.NaN);
  assert.ok(
    value(/^k3sguard_webhook_decisions_total\{endpoint="validate",verdict="allowed",rule="none"\} (\d+)/m) >= 1,
  );
  assert.ok(
    value(
      /^k3sguard_webhook_decisions_total\{endpoint="validate",verdict="denied",rule="K3SG-POLICY-DIGEST"\} (\d+)/m,
    ) >= 1,
  );
  assert.ok(
    value(
      /^k3sguard_webhook_decisions_total\{endpoint="validate",verdict="denied",rule="K3SG-POLICY-SIGNATURE"\} (\d+)/m,
    ) >= 1,
  );
  assert.ok(value(/^k3sguard_webhook_decisions_total\{endpoint="mutate",verdict="mutated",rule="none"\} (\d+)/m) >= 1);
  assert.ok(
    value(/^k3sguard_webhook_decisions_total\{endpoint="validate",verdict="excluded",rule="none"\} (\d+)/m) >= 1,
  );
  assert.ok(value(/^k3sguard_webhook_image_problems_total\{endpoint="validate",rule="K3SG-POLICY-LOCK"\} (\d+)/m) >= 1);
  assert.ok(value(/^k3sguard_webhook_decision_duration_seconds_count\{endpoint="validate"\} (\d+)/m) >= 10);
  assert.ok(value(/^k3sguard_webhook_cache_lookups_total\{kind="verdict",result="hit"\} (\d+)/m) >= 1);
  assert.ok(value(/^k3sguard_webhook_cache_lookups_total\{kind="verdict",result="miss"\} (\d+)/m) >= 1);
  assert.ok(value(/^k3sguard_webhook_bad_reviews_total\{error="TOO_LARGE"\} (\d+)/m) >= 1);
  assert.match(text, /^process_cpu_seconds_total /m);
});

test('registry down: fail-closed denies saying so, fail-open admits with a warning', { skip }, async () => {
  decision.policy = policy();
  await registry.stop();
  const closed = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
  assert.equal(closed.allowed, false);
  assert.match(
    closed.status?.message ?? '',
    /container "app" image .*rancher\/test@.*: its signature could not be checked: /,
  );
  assert.match(closed.status?.message ?? '', /registry unavailable\]; make the registry reachable/);
  decision.failOpen = true;
  const open = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
  assert.equal(open.allowed, true);
  assert.match(
    open.warnings?.[0] ?? '',
    /^k3sguard \(fail-open, not checked\): container "app" .*could not be checked/,
  );
  // fail-open never admits what the policy itself refuses.
  const tag = await admit('Pod', {
    spec: pod([
      { name: 'app', image: signedImage() },
      { name: 'side', image: `${registry.host}/rancher/test:1.0` },
    ]),
  });
  assert.equal(tag.allowed, false);
  delete decision.failOpen;
});
