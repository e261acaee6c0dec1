// Signatures served by a registry of our own (a loopback server): real cosign signatures
// (containers/image's fixtures, made by cosign) as OCI 1.1 referrers, which Debian's
// docker-registry cannot serve; and damaged `.sig` tags, which must give a signature that is
// not met (with the reason), never an error a fail-open caller would admit on. A registry that
// fails as a service is an error, not a verdict.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InputError } from '../../src/model/errors.ts';
import type { ImagePolicy } from '../../src/policy/image-policy.ts';
import { RegistryClient } from '../../src/readers/registry/client.ts';
import { COSIGN_SIGNATURE_ARTIFACT } from '../../src/readers/registry/signatures.ts';
import { verifyRegistrySignatures } from '../../src/verify/cosign/registry.ts';
import { type LoopbackServer, startScripted } from '../readers/registry-servers.ts';
import { realCosign, SIMPLESIGNING, type SigLayer, sigTag } from './cosign-fixtures.ts';

const real = realCosign();
const skip = 'skip' in real ? real.skip : false;
const OCI = 'application/vnd.oci.image.manifest.v1+json';
const digestOf = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function sigManifest(layers: SigLayer[], artifactType?: string): Buffer {
  const config = Buffer.from('{}');
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI,
      ...(artifactType ? { artifactType } : {}),
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf(config), size: 2 },
      layers: layers.map((l) => ({
        mediaType: SIMPLESIGNING,
        digest: digestOf(l.payload),
        size: l.payload.length,
        annotations: l.annotations,
      })),
    }),
  );
}

let server: LoopbackServer | undefined;
let client: RegistryClient | undefined;
after(async () => {
  client?.close();
  await server?.close();
});

/** path -> [status, body, headers] */
type Routes = Map<string, [number, Buffer | string, Record<string, string>?]>;

async function serve(routes: Routes): Promise<{ host: string; server: LoopbackServer }> {
  server = await startScripted((req, res: ServerResponse) => {
    const r = routes.get(req.url ?? '');
    if (!r) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      return;
    }
    res.writeHead(r[0], r[2] ?? {});
    res.end(r[1]);
  });
  client = new RegistryClient({ plainHttp: [server.host] });
  return { host: server.host, server };
}

test('cosign signatures as OCI 1.1 referrers; damaged .sig tags are unmet signatures, a failing registry an error', {
  skip,
}, async () => {
  if ('skip' in real) return;
  const routes: Routes = new Map();
  const { host, server } = await serve(routes);
  const image = real.manifestDigest;
  const json = { 'content-type': OCI };
  // referred: no .sig tag; its referrers are an SBOM (another artifact type, not fetched) and cosign's signature.
  const sig = sigManifest([real.unknownKey, real.valid], COSIGN_SIGNATURE_ARTIFACT);
  const sbom = `sha256:${'5'.repeat(64)}`;
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { mediaType: OCI, digest: sbom, size: 10, artifactType: 'application/spdx+json' },
      { mediaType: OCI, digest: digestOf(sig), size: sig.length, artifactType: COSIGN_SIGNATURE_ARTIFACT },
    ],
  };
  routes.set(`/v2/referred/referrers/${image}?artifactType=${encodeURIComponent(COSIGN_SIGNATURE_ARTIFACT)}`, [
    200,
    JSON.stringify(index),
    { 'content-type': 'application/vnd.oci.image.index.v1+json' },
  ]);
  routes.set(`/v2/referred/manifests/${digestOf(sig)}`, [200, sig, json]);
  for (const l of [real.unknownKey, real.valid])
    routes.set(`/v2/referred/blobs/${digestOf(l.payload)}`, [200, l.payload]);
  // damaged: the .sig manifest is not what its Docker-Content-Digest says.
  const good = sigManifest([real.valid]);
  routes.set(`/v2/damaged/manifests/${sigTag(image)}`, [
    200,
    good,
    { ...json, 'docker-content-digest': digestOf('x') },
  ]);
  // badpayload: the .sig manifest is fine, its payload blob has one bit changed.
  routes.set(`/v2/badpayload/manifests/${sigTag(image)}`, [200, good, json]);
  const flipped = Buffer.from(real.valid.payload);
  flipped[10] = (flipped[10] ?? 0) ^ 1;
  routes.set(`/v2/badpayload/blobs/${digestOf(real.valid.payload)}`, [200, flipped]);
  // notjson: a .sig "manifest" that is not JSON.
  routes.set(`/v2/notjson/manifests/${sigTag(image)}`, [200, '{"layers": [', json]);
  // down: the registry is unavailable.
  routes.set(`/v2/down/manifests/${sigTag(image)}`, [503, '']);

  const policy: ImagePolicy = {
    file: join(process.cwd(), 'policy.yaml'),
    requireDigest: false,
    requireSignature: { kind: 'key', key: real.pub },
  };
  const verdict = async (repo: string) => {
    const v = await verifyRegistrySignatures(policy, `${host}/${repo}`, image, { client });
    assert.equal(v.requirements.length, 1);
    return v.requirements[0] as NonNullable<(typeof v.requirements)[0]>;
  };

  const referred = await verdict('referred');
  assert.equal(referred.met, true, referred.reason);
  assert.match(
    referred.reason,
    new RegExp(`referred@${digestOf(sig)} \\(referrer\\) layer 2: signature over ${image}`),
  );
  assert.ok(!server.requests.some((r) => r.includes(sbom)), 'the SBOM referrer was not fetched');

  const damaged = await verdict('damaged');
  assert.equal(damaged.met, false);
  assert.match(
    damaged.reason,
    /damaged:sha256-[0-9a-f]{64}\.sig: the manifest sent hashes to .* as Docker-Content-Digest says/,
  );
  const badPayload = await verdict('badpayload');
  assert.equal(badPayload.met, false);
  assert.match(
    badPayload.reason,
    /layer 1: payload sha256:[0-9a-f]{64}: the blob sent hashes to .*\[PAYLOAD_UNREADABLE\]/,
  );
  const notJson = await verdict('notjson');
  assert.equal(notJson.met, false);
  assert.match(notJson.reason, /the manifest is not JSON/);
  // No tag and a registry without the referrers API (404): no signature.
  const none = await verdict('nothing');
  assert.equal(none.met, false);
  assert.match(none.reason, /no cosign signature/);

  const down = await verifyRegistrySignatures(policy, `${host}/down`, image, { client }).catch((e: unknown) => e);
  assert.ok(down instanceof InputError && down.code === 'REGISTRY_UNREACHABLE', String(down));
});
