// The validating webhook as the API server meets it (harness.ts: real HTTPS with the CA from
// `webhook certs`, a real docker-registry holding skopeo-pushed images and cosign `.sig` tags):
// signed, unsigned, another key, signed for another digest, the real public-good keyless
// signature, registries outside the policy, every container list and pod-template kind,
// namespaces, audit mode, bad reviews and a rotated certificate. Each denial is read as a user
// would: the container, the image, the rule and what to do.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SHARED_DATA } from '../fixtures/realbins.ts';
import { skopeoPush } from '../fixtures/registry.ts';
import { putSignatureManifest, SIG_ANNOTATION, sigTag, writeIndex } from '../verify/cosign-fixtures.ts';
import { REAL_KEYLESS as K, realKeylessBundleAnnotation } from '../verify/cosign-keyless-real.ts';
import {
  ALL_KINDS,
  admit,
  fixture,
  get,
  pod,
  policy,
  post,
  review,
  signedImage,
  skip,
  unsignedImage,
  useWebhook,
  W,
  webhookCerts,
  workload,
} from './harness.ts';

const PRODUCTION_ROOT = join(SHARED_DATA, 'sigstore', 'trust', 'production.trusted_root.json');

// The real keyless signature as the .sig tag of the digest it signs (the image is not needed).
useWebhook((registry, work) => {
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
});

test('a signed image by digest from an allowed registry is admitted; /healthz answers', { skip }, async () => {
  W.decision.policy = policy();
  const r = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
  assert.equal(r.allowed, true, r.status?.message);
  assert.equal(r.warnings, undefined);
  assert.equal((await get('/healthz')).status, 200);
});

test('a tag is refused when digests are required, naming the container, image, rule and fix', { skip }, async () => {
  W.decision.policy = policy();
  const r = await admit('Pod', { spec: pod([{ name: 'app', image: `${W.registry.host}/rancher/test:1.0` }]) });
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
  W.decision.policy = policy();
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
  W.decision.policy = policy({ requireSignature: { kind: 'key', key: fixture.keys.unused } });
  const other = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
  assert.equal(other.allowed, false);
  assert.match(
    other.status?.message ?? '',
    /rancher\/test@.*\[K3SG-POLICY-SIGNATURE\]; .*does not verify with this key/,
  );
});

test('signed for another digest: a valid signature copied beside another image is refused', { skip }, async () => {
  if ('skip' in fixture) return;
  W.decision.policy = policy();
  const image = `${W.registry.host}/rancher/copied@${fixture.extraDigest}`;
  const r = await admit('Pod', { spec: pod([{ name: 'app', image }]) });
  assert.equal(r.allowed, false);
  const m = r.status?.message ?? '';
  assert.match(m, new RegExp(`signature is for ${fixture.testDigest}, not this image .*\\[SIGNED_OTHER_IMAGE\\]`));
  assert.match(m, /\[K3SG-POLICY-SIGNATURE\]; .*made for another image/);
});

test('keyless: the real public-good signature as a .sig tag admits for its identity, not another', {
  skip: skip || (existsSync(PRODUCTION_ROOT) ? false : `the Sigstore test data is absent (${PRODUCTION_ROOT})`),
}, async () => {
  const image = `${W.registry.host}/cosign-test/myimage@${K.imageDigest}`;
  W.decision.trustedRootPath = PRODUCTION_ROOT;
  try {
    W.decision.policy = policy({
      requireSignature: { kind: 'keyless', issuer: K.issuer, identity: { exact: K.identity } },
    });
    const ok = await admit('Pod', { spec: pod([{ name: 'app', image }]) });
    assert.equal(ok.allowed, true, ok.status?.message);
    W.decision.policy = policy({
      requireSignature: { kind: 'keyless', issuer: K.issuer, identity: { exact: 'someone@example.com' } },
    });
    const no = await admit('Pod', { spec: pod([{ name: 'app', image }]) });
    assert.equal(no.allowed, false);
    assert.match(
      no.status?.message ?? '',
      /signature required \(identity someone@example\.com.*UNTRUSTED_SIGNER.*\[K3SG-POLICY-SIGNATURE\]/,
    );
  } finally {
    delete W.decision.trustedRootPath;
  }
});

test('a registry outside the policy is refused without asking it', { skip }, async () => {
  W.decision.policy = policy();
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
  W.decision.policy = policy();
  const r = await admit('Pod', {
    spec: pod([{ name: 'app', image: signedImage() }], {
      initContainers: [{ name: 'setup', image: unsignedImage() }],
      ephemeralContainers: [{ name: 'debugger', image: `${W.registry.host}/rancher/test:1.0` }],
    }),
  });
  assert.equal(r.allowed, false);
  const m = r.status?.message ?? '';
  assert.match(m, /init container "setup" image .*rancher\/unsigned@/);
  assert.match(m, /ephemeral container "debugger" image .*rancher\/test:1\.0/);
  assert.doesNotMatch(m, /container "app"/);
});

test('a Deployment and a CronJob are decided from their pod templates', { skip }, async () => {
  W.decision.policy = policy();
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

test('every pod-template kind is decided from its template and names the kind', { skip }, async () => {
  W.decision.policy = policy();
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

test('kube-system is excluded by default; audit mode admits with warnings', { skip }, async () => {
  W.decision.policy = policy();
  const excluded = await admit('Pod', { spec: pod([{ name: 'app', image: unsignedImage() }]) }, 'kube-system');
  assert.equal(excluded.allowed, true);
  W.decision.mode = 'audit';
  try {
    const audited = await admit('Pod', { spec: pod([{ name: 'app', image: unsignedImage() }]) });
    assert.equal(audited.allowed, true);
    assert.equal(audited.warnings?.length, 1);
    assert.match(
      audited.warnings?.[0] ?? '',
      /^k3sguard \(audit, would deny\): container "app" image .*K3SG-POLICY-SIGNATURE/,
    );
  } finally {
    delete W.decision.mode;
  }
});

test('when digests are not required, a tag is resolved at the registry and its signature checked', {
  skip,
}, async () => {
  W.decision.policy = policy({ requireDigest: false });
  const good = await admit('Pod', { spec: pod([{ name: 'app', image: `${W.registry.host}/rancher/test:1.0` }]) });
  assert.equal(good.allowed, true, good.status?.message);
  const bad = await admit('Pod', { spec: pod([{ name: 'app', image: `${W.registry.host}/rancher/unsigned:1` }]) });
  assert.equal(bad.allowed, false);
  // The denial names the digest the tag resolved to: what was actually checked.
  assert.match(
    bad.status?.message ?? '',
    new RegExp(`rancher/unsigned@${'skip' in fixture ? '' : fixture.extraDigest}`),
  );
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
  const next = webhookCerts(join(W.work, 'tls-next'));
  const nextCa = readFileSync(next.caFile, 'utf8');
  await assert.rejects(post('/validate', JSON.stringify(review('Pod', { spec: pod([]) })), nextCa));
  copyFileSync(next.keyFile, W.tls.keyFile);
  copyFileSync(next.certFile, W.tls.certFile);
  const a = await post('/validate', JSON.stringify(review('Pod', { spec: pod([]) })), nextCa);
  assert.equal(a.status, 200);
  assert.equal(W.webhook.reloads(), 1);
  await assert.rejects(post('/validate', JSON.stringify(review('Pod', { spec: pod([]) })), W.ca));
  W.ca = nextCa;
});
