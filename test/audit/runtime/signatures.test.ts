// requireSignature on images as containerd holds them, against a real containerd: the skopeo-
// signed fixture (test/verify/cosign-fixtures.ts: two images and their `sha256-<hex>.sig`
// manifests, written by skopeo from a real registry) imported with `ctr -n k8s.io images
// import`, which records the signatures as images named `...:sha256-<hex>.sig`. They are
// verified from the content store as `verify --policy` verifies the archive; an image whose
// signature containerd does not hold is unknown, never trusted.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ContainerdCheckResult, checkContainerd } from '../../../src/audit/runtime/containerd.ts';
import { parseImagePolicy } from '../../../src/policy/image-policy.ts';
import { contentStoreDir } from '../../../src/readers/containerd/content-store.ts';
import { type PrivateContainerd, startContainerd } from '../../images/containerd.ts';
import { type SkopeoSigned, skopeoSigned } from '../../verify/cosign-fixtures.ts';

const NS = 'k8s.io';
const TEST = 'docker.io/rancher/test:1.0';
const EXTRA = 'docker.io/rancher/extra:2.0';

const signed = await skopeoSigned();
const started = 'skip' in signed ? signed : await startContainerd();
const skip = 'skip' in started ? started.skip : undefined;
const ctrd: PrivateContainerd | undefined = 'skip' in started ? undefined : started;
const work = mkdtempSync(join(tmpdir(), 'k3sg-runtime-sig-'));

after(async () => {
  await ctrd?.remove();
  rmSync(work, { recursive: true, force: true });
});

before(() => {
  if (!ctrd || 'skip' in signed) return;
  // Not unpacked: a signature "image" has no layers to unpack, which ctr's unpack refuses.
  ctrd.ctr(NS, 'images', 'import', '--no-unpack', signed.archive);
});

function fixture(): SkopeoSigned {
  if ('skip' in signed) throw new Error(signed.skip);
  return signed;
}

function check(key: string): Promise<ContainerdCheckResult> {
  const c = ctrd;
  if (!c) throw new Error('containerd not started');
  const file = join(work, 'policy.yaml');
  const text = `apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  allowedRegistries: [docker.io]\n  requireSignature:\n    key: ${key}\n`;
  writeFileSync(file, text);
  return checkContainerd({
    socket: c.socket,
    contentRoot: contentStoreDir(c.root),
    policy: parseImagePolicy(file, text),
  });
}

function verdicts(r: ContainerdCheckResult): Record<string, string> {
  return Object.fromEntries(r.images.map((i) => [i.names.join(','), i.verdict]));
}

test('signed by the policy key: trusted; the signature records are not listed as images', { skip }, async () => {
  const r = await check(fixture().keys.p256);
  assert.deepEqual(r.findings, []);
  assert.deepEqual(verdicts(r), { [TEST]: 'trusted', [EXTRA]: 'trusted' });
});

test('signed, but not by the policy key: untrusted, the verifier saying why', { skip }, async () => {
  const r = await check(fixture().keys.unused);
  assert.deepEqual(r.findings.map((f) => `${f.id} ${f.location.join('/')}`).sort(), [
    `K3SG-RUNTIME-SIGNATURE containerd:${NS}/image/docker.io/rancher/extra@${fixture().extraDigest}`,
    `K3SG-RUNTIME-SIGNATURE containerd:${NS}/image/docker.io/rancher/test@${fixture().testDigest}`,
  ]);
  assert.match(r.findings[0]?.message ?? '', /SIGNATURE_ERROR|does not verify/);
  assert.deepEqual(verdicts(r), { [TEST]: 'untrusted', [EXTRA]: 'untrusted' });
  // One key signed only the test image.
  const ed = await check(fixture().keys.ed25519);
  assert.deepEqual(verdicts(ed), { [TEST]: 'trusted', [EXTRA]: 'untrusted' });
});

test('its signature not in containerd: unknown, with a finding naming the missing tag', { skip }, async () => {
  const c = ctrd as PrivateContainerd;
  const sigName = c
    .ctr(NS, 'images', 'ls', '-q')
    .split('\n')
    .find((n) => n.endsWith(`:sha256-${fixture().extraDigest.slice(7)}.sig`));
  assert.ok(sigName);
  c.ctr(NS, 'images', 'rm', sigName);
  const r = await check(fixture().keys.p256);
  assert.deepEqual(verdicts(r), { [TEST]: 'trusted', [EXTRA]: 'unknown' });
  assert.deepEqual(
    r.findings.map((f) => f.id),
    ['K3SG-RUNTIME-SIGNATURE-UNVERIFIED'],
  );
  assert.match(r.findings[0]?.message ?? '', new RegExp(`no sha256-${fixture().extraDigest.slice(7)}\\.sig`));
});
