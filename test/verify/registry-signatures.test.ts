// Cosign signatures read from a real registry (Debian's docker-registry on loopback, reached
// through a proxy that logs every request): the image fixtures pushed by skopeo with their
// signatures as real `.sig` tags (keyed: openssl-made simplesigning signatures, as
// cosign-fixtures.ts explains), and the real public-good keyless signature
// (cosign-keyless-real.ts) pushed as the `.sig` tag of the digest it signs. Each verdict is the
// policy requirement met or not, with the reason; the cache answers without a request, offline
// mode answers only from it, and a damaged cache entry is ignored.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InputError } from '../../src/model/errors.ts';
import type { ImagePolicy, SignatureRequirement } from '../../src/policy/image-policy.ts';
import { RegistryCache } from '../../src/readers/registry/cache.ts';
import { RegistryClient } from '../../src/readers/registry/client.ts';
import { resolveImage } from '../../src/readers/registry/resolve.ts';
import { verifyRegistrySignatures } from '../../src/verify/cosign/registry.ts';
import { SHIPPED_TRUSTED_ROOT } from '../../src/verify/sigstore/trust.ts';
import { type RunningRegistry, registrySkip, skopeoDigest, skopeoPush, startRegistry } from '../fixtures/registry.ts';
import { type LoopbackServer, startCountingProxy } from '../readers/registry-servers.ts';
import { putSignatureManifest, SIG_ANNOTATION, sigTag, skopeoSigned, writeIndex } from './cosign-fixtures.ts';
import { REAL_KEYLESS as K, realKeylessBundleAnnotation } from './cosign-keyless-real.ts';

const tools = registrySkip();
const fixture = tools ? { skip: tools } : await skopeoSigned();
const skip = 'skip' in fixture ? fixture.skip : false;

let work = '';
let registry: RunningRegistry;
let proxy: LoopbackServer;
let client: RegistryClient;

before(async () => {
  if ('skip' in fixture) return;
  work = mkdtempSync(join(tmpdir(), 'k3sguard-regsig-'));
  registry = await startRegistry({ dir: join(work, 'registry') });
  const signed = { registriesD: fixture.registriesD };
  skopeoPush(registry, `dir:${fixture.dirs.test}`, 'rancher/test:1.0', signed);
  skopeoPush(registry, `dir:${fixture.dirs.extra}`, 'rancher/extra:2.0', signed);
  skopeoPush(registry, `dir:${fixture.dirs.extra}`, 'rancher/unsigned:1', { removeSignatures: true });
  // The copy attack: the test image's valid .sig manifest tagged as the extra image's signature.
  skopeoPush(registry, `dir:${fixture.dirs.extra}`, 'rancher/copied:1', { removeSignatures: true });
  skopeoPush(
    registry,
    `docker://${registry.host}/rancher/test:${sigTag(fixture.testDigest)}`,
    `rancher/copied:${sigTag(fixture.extraDigest)}`,
  );
  // The real keyless signature, as the .sig tag of the digest it signs (the image itself is not needed).
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
  proxy = await startCountingProxy(registry.host);
  client = new RegistryClient({ plainHttp: [proxy.host] });
});

after(async () => {
  client?.close();
  await proxy?.close();
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function policy(req: SignatureRequirement): ImagePolicy {
  return { file: join(work, 'policy.yaml'), requireDigest: false, requireSignature: req };
}
const keyed = (key: string) => policy({ kind: 'key', key });
const repo = (name: string) => `${proxy.host}/${name}`;

test('a tag resolves to the digest skopeo reports, and its keyed signature meets the policy', { skip }, async () => {
  if ('skip' in fixture) return;
  const image = await resolveImage(client, `${repo('rancher/test')}:1.0`);
  assert.equal(image.source, 'registry');
  assert.equal(image.digest, skopeoDigest(registry, 'rancher/test:1.0'));
  for (const key of ['p256', 'p384', 'ed25519'] as const) {
    const v = await verifyRegistrySignatures(keyed(fixture.keys[key]), image.repository, image.digest, { client });
    const [r] = v.requirements;
    assert.equal(v.requirements.length, 1);
    assert.equal(r?.met, true, `${key}: ${r?.reason}`);
    assert.match(r?.reason ?? '', new RegExp(`sha256-[0-9a-f]{64}\\.sig layer \\d: signature over ${image.digest}`));
    assert.match(r?.signer ?? '', key === 'ed25519' ? /Ed25519 key/ : /ECDSA P-\d+ key/);
    assert.equal(v.fromCache, false);
  }
  const none = await verifyRegistrySignatures(
    { ...keyed(fixture.keys.p256), requireSignature: undefined } as ImagePolicy,
    image.repository,
    image.digest,
    { client },
  );
  assert.deepEqual(none.requirements, []);
});

test('unsigned, signed by another key, and a signature made for another digest: not met, saying why', {
  skip,
}, async () => {
  if ('skip' in fixture) return;
  const p256 = keyed(fixture.keys.p256);
  const [unsigned] = (await verifyRegistrySignatures(p256, repo('rancher/unsigned'), fixture.extraDigest, { client }))
    .requirements;
  assert.equal(unsigned?.met, false);
  assert.match(
    unsigned?.reason ?? '',
    new RegExp(
      `no cosign signature \\(no ${sigTag(fixture.extraDigest).replace('.', '\\.')} tag in .*/rancher/unsigned\\)`,
    ),
  );
  assert.match(unsigned?.hint ?? '', /cosign sign/);
  const [other] = (
    await verifyRegistrySignatures(keyed(fixture.keys.unused), repo('rancher/test'), fixture.testDigest, { client })
  ).requirements;
  assert.equal(other?.met, false);
  // Every layer was tried, and each says why it failed.
  assert.equal(
    (other?.reason.match(/\[SIGNATURE_ERROR\]|\[PUBLIC_KEY_ERROR\]|key/g) ?? []).length >= 3,
    true,
    other?.reason,
  );
  assert.match(other?.reason ?? '', /layer 1: .*layer 2: .*layer 3: /);
  assert.match(other?.hint ?? '', /does not verify with this key/);
  const [copied] = (await verifyRegistrySignatures(p256, repo('rancher/copied'), fixture.extraDigest, { client }))
    .requirements;
  console.error(JSON.stringify({ unsigned, other, copied }, null, 1));
  assert.equal(copied?.met, false);
  assert.match(
    copied?.reason ?? '',
    new RegExp(`signature is for ${fixture.testDigest}, not this image .*\\[SIGNED_OTHER_IMAGE\\]`),
  );
  assert.match(copied?.hint ?? '', /made for another image/);
});

test('keyless: the real public-good signature pushed as a .sig tag meets an identity policy, not another identity', {
  skip,
}, async () => {
  if ('skip' in fixture) return;
  const opts = { client, trustedRootPath: SHIPPED_TRUSTED_ROOT };
  const identity = policy({ kind: 'keyless', issuer: K.issuer, identity: { exact: K.identity } });
  const [ok] = (await verifyRegistrySignatures(identity, repo('cosign-test/myimage'), K.imageDigest, opts))
    .requirements;
  assert.equal(ok?.met, true, ok?.reason);
  assert.equal(ok?.signer, `identity ${K.identity}, issuer ${K.issuer}`);
  assert.match(ok?.reason ?? '', /1 Rekor entry \(SET\)/);
  const someone = policy({ kind: 'keyless', issuer: K.issuer, identity: { exact: 'someone@example.com' } });
  const [no] = (await verifyRegistrySignatures(someone, repo('cosign-test/myimage'), K.imageDigest, opts)).requirements;
  assert.equal(no?.met, false);
  assert.match(no?.reason ?? '', /UNTRUSTED_SIGNER/);
});

test('the cache answers without a request; offline answers only from it; expired or damaged entries are not used', {
  skip,
}, async () => {
  if ('skip' in fixture) return;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const dir = join(work, 'cache');
  const cache = new RegistryCache(dir, { now: () => clock });
  const p256 = keyed(fixture.keys.p256);
  const ref = `${repo('rancher/test')}:1.0`;
  const start = proxy.requests.length;
  const image = await resolveImage(client, ref, { cache });
  const first = await verifyRegistrySignatures(p256, image.repository, image.digest, { client, cache });
  const unsigned = await verifyRegistrySignatures(p256, repo('rancher/unsigned'), fixture.extraDigest, {
    client,
    cache,
  });
  assert.equal(first.fromCache, false);
  assert.equal(first.requirements[0]?.met, true);
  assert.equal(unsigned.requirements[0]?.met, false);
  const asked = proxy.requests.length;
  assert.ok(asked > start, 'the first answers came from the registry');

  const again = await resolveImage(client, ref, { cache });
  assert.equal(again.source, 'cache');
  const cached = await verifyRegistrySignatures(p256, again.repository, again.digest, { client, cache });
  assert.equal(cached.fromCache, true);
  assert.deepEqual(cached.requirements, first.requirements);
  assert.equal(proxy.requests.length, asked, 'no request for a cached answer');

  // Offline: no client at all; the cache answers, and says when it cannot.
  const offline = { cache, offline: true };
  assert.equal((await resolveImage(undefined, ref, offline)).digest, image.digest);
  assert.equal(
    (await verifyRegistrySignatures(p256, image.repository, image.digest, offline)).requirements[0]?.met,
    true,
  );
  const miss = await verifyRegistrySignatures(keyed(fixture.keys.p384), image.repository, image.digest, offline).catch(
    (e: unknown) => e,
  );
  assert.ok(miss instanceof InputError && miss.code === 'REGISTRY_OFFLINE', String(miss));
  assert.match(miss.oneLine(), /@sha256:[0-9a-f]{64}: offline, and the cache holds no fresh signature verdict for it/);
  const tagMiss = await resolveImage(undefined, `${repo('rancher/extra')}:2.0`, offline).catch((e: unknown) => e);
  assert.ok(tagMiss instanceof InputError && tagMiss.code === 'REGISTRY_OFFLINE', String(tagMiss));
  assert.match(tagMiss.message, /pin the digest/);
  assert.equal(proxy.requests.length, asked, 'offline asks nothing');

  // Two minutes on: the tag and the unmet verdict have expired, the met verdict has not.
  clock += 2 * 60_000;
  await assert.rejects(resolveImage(undefined, ref, offline), /REGISTRY_OFFLINE|offline/);
  assert.equal((await verifyRegistrySignatures(p256, image.repository, image.digest, offline)).fromCache, true);
  await assert.rejects(
    verifyRegistrySignatures(p256, repo('rancher/unsigned'), fixture.extraDigest, offline),
    /offline/,
  );

  // A damaged entry (truncated, another format version, a value of the wrong shape) is ignored and replaced.
  const verdicts = join(dir, 'verdict');
  for (const damage of [
    (text: string) => text.slice(0, text.length / 2),
    (text: string) => text.replace('registry-cache@1', 'registry-cache@0'),
    (text: string) => text.replace('"met":true', '"met":"yes"'),
  ]) {
    for (const f of readdirSync(verdicts)) {
      const path = join(verdicts, f);
      writeFileSync(path, damage(readFileSync(path, 'utf8')));
    }
    await assert.rejects(verifyRegistrySignatures(p256, image.repository, image.digest, offline), /offline/);
    const before = proxy.requests.length;
    const fresh = await verifyRegistrySignatures(p256, image.repository, image.digest, { client, cache });
    assert.equal(fresh.fromCache, false);
    assert.equal(fresh.requirements[0]?.met, true);
    assert.ok(proxy.requests.length > before);
  }
});

test('a registry that fails gives no verdict, and nothing is cached', { skip }, async () => {
  if ('skip' in fixture) return;
  const gone = await startRegistry({ dir: join(work, 'gone') });
  await gone.stop();
  const down = new RegistryClient({ plainHttp: [gone.host], timeoutMs: 2000 });
  const cache = new RegistryCache(join(work, 'cache-down'));
  try {
    const e = await verifyRegistrySignatures(
      keyed(fixture.keys.p256),
      `${gone.host}/rancher/test`,
      fixture.testDigest,
      {
        client: down,
        cache,
      },
    ).catch((err: unknown) => err);
    assert.ok(e instanceof InputError && e.code === 'REGISTRY_UNREACHABLE', String(e));
    await assert.rejects(
      verifyRegistrySignatures(keyed(fixture.keys.p256), `${gone.host}/rancher/test`, fixture.testDigest, {
        cache,
        offline: true,
      }),
      /offline/,
    );
  } finally {
    down.close();
  }
});
