// Deciding without a registry, and when one fails (harness.ts: real HTTPS, real registry):
// images reviewed in the lock decided from the lock file alone; offline decisions from the cache
// the online ones filled; a silent registry cut off by the deadline; the registry stopped, with
// both failure policies; and /metrics counting all of it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RegistryCache } from '../../src/readers/registry/cache.ts';
import { RegistryClient } from '../../src/readers/registry/client.ts';
import { LOCK_SCHEMA } from '../../src/verify/lock/format.ts';
import { startSilent } from '../readers/registry-servers.ts';
import { sigTag } from '../verify/cosign-fixtures.ts';
import { admit, fixture, get, pod, policy, post, signedImage, skip, unsignedImage, useWebhook, W } from './harness.ts';

useWebhook();

test('images reviewed in the lock: a locked digest is admitted, another refused, decided without a registry', {
  skip,
}, async () => {
  if ('skip' in fixture) return;
  const lockFile = join(W.work, 'k3sguard.lock');
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
  W.decision.policy = policy({ requireSignature: undefined, requireLocked: 'k3sguard.lock' });
  delete W.decision.policy.requireSignature;
  delete W.decision.client; // the lock is the whole answer: no registry is asked
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
      spec: pod([{ name: 'app', image: `${W.registry.host}/mirror/test@${fixture.testDigest}` }]),
    });
    assert.equal(mirrored.allowed, true, mirrored.status?.message);
    // A lock that cannot be read admits nothing, even fail-open.
    W.decision.failOpen = true;
    writeFileSync(lockFile, '{"schema": "k3sguard/lock@1", "artifacts": 3}\n');
    const broken = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
    assert.equal(broken.allowed, false);
    assert.match(
      broken.status?.message ?? '',
      /the lock cannot be read: .*LOCK_INVALID|the lock cannot be read: .*artifacts/,
    );
  } finally {
    W.decision.client = W.client;
    delete W.decision.failOpen;
  }
  // With a signature required too, both rules apply and each is named.
  W.decision.policy = policy({ requireLocked: lockFile });
  writeFileSync(
    lockFile,
    `${JSON.stringify({ schema: LOCK_SCHEMA, artifacts: [{ name: 'images.tar', size: 1, sha256: 'ab'.repeat(32), images: [{ name: 'docker.io/rancher/test:1.0', digest: fixture.testDigest }], sources: [{ name: 'local' }] }] })}\n`,
  );
  const both = await admit('Pod', { spec: pod([{ name: 'app', image: unsignedImage() }]) });
  assert.match(both.status?.message ?? '', /\[K3SG-POLICY-LOCK\].*\n- .*\[K3SG-POLICY-SIGNATURE\]/);
});

/** An OCI index of the two fixture images (amd64, arm64/v8) and an attestation, pushed as rancher/multi:1. */
function pushIndex(): string {
  if ('skip' in fixture) return '';
  const layout = join(W.work, 'multi');
  cpSync(fixture.layout, layout, { recursive: true });
  const entries = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')).manifests as Array<{
    digest: string;
    size: number;
    annotations?: Record<string, string>;
  }>;
  const named = (n: string) => entries.find((e) => e.annotations?.['org.opencontainers.image.ref.name'] === n);
  const test = named('docker.io/rancher/test:1.0');
  const extra = named('docker.io/rancher/extra:2.0');
  const sig = named(sigTag(fixture.testDigest));
  const entry = (e: typeof test, platform: Record<string, string>) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: e?.digest,
    size: e?.size,
    platform,
  });
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        entry(test, { os: 'linux', architecture: 'amd64' }),
        entry(extra, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
        // What BuildKit adds for provenance: no node runs it.
        entry(sig, { os: 'unknown', architecture: 'unknown' }),
      ],
    }),
  );
  const hex = createHash('sha256').update(index).digest('hex');
  writeFileSync(join(layout, 'blobs', 'sha256', hex), index);
  const top = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  top.manifests.push({
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest: `sha256:${hex}`,
    size: index.length,
    annotations: { 'org.opencontainers.image.ref.name': 'multi' },
  });
  writeFileSync(join(layout, 'index.json'), JSON.stringify(top));
  execFileSync(
    'skopeo',
    [
      'copy',
      '-q',
      '--all',
      '--dest-tls-verify=false',
      `oci:${layout}:multi`,
      `docker://${W.registry.host}/rancher/multi:1`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return `sha256:${hex}`;
}

test('a multi-platform index is reviewed when every platform it lists is in the lock (attestations aside)', {
  skip,
}, async () => {
  if ('skip' in fixture) return;
  const indexDigest = pushIndex();
  const image = `${W.registry.host}/rancher/multi@${indexDigest}`;
  const lockFile = join(W.work, 'index.lock');
  const lockWith = (digests: string[]) =>
    writeFileSync(
      lockFile,
      `${JSON.stringify({
        schema: LOCK_SCHEMA,
        artifacts: [
          {
            name: 'images-all.tar',
            size: 1,
            sha256: 'cd'.repeat(32),
            images: digests.map((digest) => ({ digest })),
            sources: [{ name: 'local' }],
          },
        ],
      })}\n`,
    );
  W.decision.policy = policy({ requireLocked: lockFile });
  delete W.decision.policy.requireSignature;
  lockWith([fixture.testDigest]);
  const half = await admit('Pod', { spec: pod([{ name: 'app', image }]) });
  assert.equal(half.allowed, false);
  const m = half.status?.message ?? '';
  assert.match(
    m,
    /it is a multi-platform index, and not every platform it lists is among the 1 image\(s\) reviewed in/,
  );
  assert.match(m, new RegExp(`: linux/arm64/v8 ${fixture.extraDigest}; review each platform's image`));
  assert.doesNotMatch(m, /linux\/amd64|unknown/);
  lockWith([fixture.testDigest, fixture.extraDigest]);
  const whole = await admit('Pod', { spec: pod([{ name: 'app', image }]) });
  assert.equal(whole.allowed, true, whole.status?.message);
});

test('offline, decisions come from the cache the online ones filled, and a miss is fail-closed', { skip }, async () => {
  W.decision.policy = policy();
  W.decision.cache = new RegistryCache(join(W.work, 'cache'));
  try {
    assert.equal((await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) })).allowed, true);
    W.decision.offline = true;
    delete W.decision.client;
    const cached = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
    assert.equal(cached.allowed, true, cached.status?.message);
    const miss = await admit('Pod', { spec: pod([{ name: 'app', image: unsignedImage() }]) });
    assert.equal(miss.allowed, false);
    assert.match(
      miss.status?.message ?? '',
      /offline, and the cache holds no fresh signature verdict .*REGISTRY_OFFLINE/,
    );
  } finally {
    W.decision.client = W.client;
    delete W.decision.offline;
    delete W.decision.cache;
  }
});

test('a registry that never answers is cut off by the deadline and the failure policy applies', { skip }, async () => {
  const silent = await startSilent();
  const silentClient = new RegistryClient({ plainHttp: [silent.host] });
  W.decision.policy = policy({ allowedRegistries: [silent.host] });
  W.decision.client = silentClient;
  W.decision.deadlineMs = 300;
  try {
    const r = await admit('Pod', {
      spec: pod([{ name: 'app', image: `${silent.host}/rancher/test@sha256:${'cd'.repeat(32)}` }]),
    });
    assert.equal(r.allowed, false);
    assert.match(r.status?.message ?? '', /could not be checked: .*registry unavailable/);
    assert.ok(silent.requests.length >= 1, 'the registry was asked');
  } finally {
    W.decision.client = W.client;
    delete W.decision.deadlineMs;
    silentClient.close();
    await silent.close();
  }
});

test('GET /metrics counts decisions by verdict and rule, latency, cache hits and misses, and 400s', {
  skip,
}, async () => {
  W.decision.policy = policy();
  const tag = `${W.registry.host}/rancher/test:1.0`;
  assert.equal((await admit('Pod', { spec: pod([{ name: 'app', image: tag }]) })).allowed, false);
  assert.equal((await admit('Pod', { spec: pod([{ name: 'app', image: unsignedImage() }]) })).allowed, false);
  assert.equal((await admit('Pod', { spec: pod([{ name: 'app', image: tag }]) }, 'kube-system')).allowed, true);
  assert.ok((await admit('Pod', { spec: pod([{ name: 'app', image: tag }]) }, undefined, '/mutate')).patch);
  assert.equal((await post('/validate', Buffer.alloc(5 * 1024 * 1024, 0x20))).status, 400);
  const { status, text } = await get('/metrics');
  assert.equal(status, 200);
  const value = (line: RegExp) => Number(text.match(line)?.[1] ?? Number.NaN);
  const decisions = (labels: string) =>
    value(new RegExp(`^k3sguard_webhook_decisions_total\\{${labels.replace(/[{}]/g, '\\$&')}\\} (\\d+)`, 'm'));
  assert.ok(decisions('endpoint="validate",verdict="allowed",rule="none"') >= 1);
  assert.ok(decisions('endpoint="validate",verdict="denied",rule="K3SG-POLICY-DIGEST"') >= 1);
  assert.ok(decisions('endpoint="validate",verdict="denied",rule="K3SG-POLICY-SIGNATURE"') >= 1);
  assert.ok(decisions('endpoint="validate",verdict="denied",rule="K3SG-POLICY-LOCK"') >= 1);
  assert.ok(decisions('endpoint="validate",verdict="denied",rule="registry-unavailable"') >= 1);
  assert.ok(decisions('endpoint="validate",verdict="excluded",rule="none"') >= 1);
  assert.ok(decisions('endpoint="mutate",verdict="mutated",rule="none"') >= 1);
  assert.ok(value(/^k3sguard_webhook_image_problems_total\{endpoint="validate",rule="K3SG-POLICY-LOCK"\} (\d+)/m) >= 1);
  assert.ok(value(/^k3sguard_webhook_decision_duration_seconds_count\{endpoint="validate"\} (\d+)/m) >= 8);
  assert.ok(value(/^k3sguard_webhook_cache_lookups_total\{kind="verdict",result="hit"\} (\d+)/m) >= 1);
  assert.ok(value(/^k3sguard_webhook_cache_lookups_total\{kind="verdict",result="miss"\} (\d+)/m) >= 1);
  assert.ok(value(/^k3sguard_webhook_bad_reviews_total\{error="TOO_LARGE"\} (\d+)/m) >= 1);
  assert.match(text, /^process_cpu_seconds_total /m);
});

test('registry down: fail-closed denies saying so, fail-open admits with a warning', { skip }, async () => {
  W.decision.policy = policy();
  await W.registry.stop();
  const closed = await admit('Pod', { spec: pod([{ name: 'app', image: signedImage() }]) });
  assert.equal(closed.allowed, false);
  assert.match(
    closed.status?.message ?? '',
    /container "app" image .*rancher\/test@.*: its signature could not be checked: /,
  );
  assert.match(closed.status?.message ?? '', /registry unavailable\]; make the registry reachable/);
  W.decision.failOpen = true;
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
      { name: 'side', image: `${W.registry.host}/rancher/test:1.0` },
    ]),
  });
  assert.equal(tag.allowed, false);
  delete W.decision.failOpen;
});
