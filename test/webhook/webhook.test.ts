// The webhook as the API server meets it: AdmissionReview v1 over real HTTPS (a CA and serving
// certificate made by openssl), decided against a real Debian docker-registry on loopback that
// holds the image fixtures pushed by skopeo with their cosign signatures as real `.sig` tags.
// Each denial is read as a user would: the container, the image, the rule and what to do.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ImagePolicy } from '../../src/policy/image-policy.ts';
import { RegistryCache } from '../../src/readers/registry/cache.ts';
import { RegistryClient } from '../../src/readers/registry/client.ts';
import type { DecisionContext } from '../../src/webhook/decide.ts';
import { type RunningWebhook, startWebhook } from '../../src/webhook/server.ts';
import {
  makeServingCertificate,
  type RunningRegistry,
  registrySkip,
  skopeoPush,
  startRegistry,
} from '../fixtures/registry.ts';
import { startSilent } from '../readers/registry-servers.ts';
import { skopeoSigned } from '../verify/cosign-fixtures.ts';

const tools = registrySkip({ tls: true });
const fixture = tools ? { skip: tools } : await skopeoSigned();
const skip = 'skip' in fixture ? fixture.skip : false;

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
  client = new RegistryClient({ plainHttp: [registry.host] });
  decision.client = client;
  tls = makeServingCertificate(join(work, 'tls'));
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
      { method: 'POST', ca: caPem, agent: false, headers: { 'content-type': 'application/json' }, timeout: 30_000 },
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
  const group = kind === 'Pod' ? '' : kind === 'Job' || kind === 'CronJob' ? 'batch' : 'apps';
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

async function admit(kind: string, object: unknown, namespace?: string) {
  const a = await post('/validate', JSON.stringify(review(kind, object, namespace)));
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(a.body.apiVersion, 'admission.k8s.io/v1');
  assert.equal(a.body.kind, 'AdmissionReview');
  const response = a.body.response as {
    uid: string;
    allowed: boolean;
    status?: { code: number; message: string };
    warnings?: string[];
  };
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
    request(new URL('/healthz', webhook.url), { ca, agent: false }, (res) => {
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
  const next = makeServingCertificate(join(work, 'tls-next'));
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
