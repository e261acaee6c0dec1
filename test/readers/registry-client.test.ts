// The registry client against real registries: Debian's docker-registry on loopback, plain http,
// with basic auth (htpasswd), and over https with a CA made by openssl, holding the image
// fixtures pushed by skopeo. What skopeo says a tag names is what the client resolves; wrong or
// missing credentials, a wrong CA, a registry that is down or never answers are coded errors.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InputError } from '../../src/model/errors.ts';
import { RegistryClient } from '../../src/readers/registry/client.ts';
import { loadRegistryConfig } from '../../src/readers/registry/config.ts';
import { type RunningRegistry, registrySkip, skopeoDigest, skopeoPush, startRegistry } from '../fixtures/registry.ts';
import { skopeoSigned } from '../verify/cosign-fixtures.ts';
import { startSilent } from './registry-servers.ts';

const USER = 'k3s';
const PASSWORD = 'pull-only secret';
const tools = registrySkip({ users: true, tls: true });
const fixture = tools ? { skip: tools } : await skopeoSigned();
const skip = 'skip' in fixture ? fixture.skip : false;

let work = '';
let plain: RunningRegistry;
let authed: RunningRegistry;
let secure: RunningRegistry;

before(async () => {
  if ('skip' in fixture) return;
  work = mkdtempSync(join(tmpdir(), 'k3sguard-registry-'));
  plain = await startRegistry({ dir: join(work, 'plain') });
  authed = await startRegistry({ dir: join(work, 'authed'), users: { [USER]: PASSWORD } });
  secure = await startRegistry({ dir: join(work, 'secure'), users: { [USER]: PASSWORD }, tls: true });
  const creds = `${USER}:${PASSWORD}`;
  for (const r of [plain, authed, secure]) {
    const c = r === plain ? {} : { creds };
    skopeoPush(r, `dir:${fixture.dirs.test}`, 'rancher/test:1.0', { ...c, removeSignatures: true });
    skopeoPush(r, `dir:${fixture.dirs.extra}`, 'rancher/extra:2.0', { ...c, removeSignatures: true });
  }
});

after(async () => {
  for (const r of [plain, authed, secure]) await r?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function config(yaml: string) {
  const file = join(work, `registries-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  return loadRegistryConfig(file);
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<InputError> {
  const e = await p.then(
    () => assert.fail(`expected ${code}`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof InputError, String(e));
  assert.equal(e.code, code, e.message);
  if (message) assert.match(e.oneLine(), message);
  return e;
}

test('plain registry: a tag resolves to the digest skopeo inspect reports; manifests and blobs by digest', {
  skip,
}, async (t) => {
  if ('skip' in fixture) return;
  const client = new RegistryClient({ plainHttp: [plain.host] });
  t.after(() => client.close());
  for (const [ref, expected] of [
    ['rancher/test:1.0', fixture.testDigest],
    ['rancher/extra:2.0', fixture.extraDigest],
  ] as const) {
    const r = await client.resolve(`${plain.host}/${ref}`);
    assert.equal(r.digest, skopeoDigest(plain, ref));
    assert.equal(r.digest, expected);
    assert.equal(r.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  }
  const byDigest = await client.resolve(`${plain.host}/rancher/test@${fixture.testDigest}`);
  assert.equal(byDigest.digest, fixture.testDigest);
  assert.equal(byDigest.reference, fixture.testDigest);
  const m = await client.manifest(`${plain.host}/rancher/test`, fixture.testDigest);
  const config = (m.json.config as { digest: string; size: number }).digest;
  const blob = await client.blob(`${plain.host}/rancher/test`, config, 1 << 20);
  assert.equal(JSON.parse(blob.toString()).rootfs.type, 'layers');
  await rejectsWith(client.blob(`${plain.host}/rancher/test`, config, 10), 'REGISTRY_LIMIT');
  await rejectsWith(
    client.resolve(`${plain.host}/rancher/test:2.0`),
    'REGISTRY_NOT_FOUND',
    /rancher\/test:2\.0: not found \(404\): MANIFEST_UNKNOWN/,
  );
  await rejectsWith(client.resolve(`${plain.host}/rancher/nothing:1`), 'REGISTRY_NOT_FOUND');
  await rejectsWith(client.manifest(`${plain.host}/rancher/test`, `sha256:${'0'.repeat(64)}`), 'REGISTRY_NOT_FOUND');
});

test('basic auth: the credentials of registries.yaml (username/password or auth), else REGISTRY_AUTH', {
  skip,
}, async (t) => {
  if ('skip' in fixture) return;
  const ref = `${authed.host}/rancher/test:1.0`;
  const expected = skopeoDigest(authed, 'rancher/test:1.0', `${USER}:${PASSWORD}`);
  const good = new RegistryClient({
    plainHttp: [authed.host],
    config: await config(
      `configs:\n  "${authed.host}":\n    auth:\n      username: ${USER}\n      password: "${PASSWORD}"\n`,
    ),
  });
  t.after(() => good.close());
  assert.equal((await good.resolve(ref)).digest, expected);
  const pair = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
  const dockerForm = new RegistryClient({
    plainHttp: [authed.host],
    config: await config(`configs:\n  "${authed.host}":\n    auth:\n      auth: ${pair}\n`),
  });
  t.after(() => dockerForm.close());
  assert.equal((await dockerForm.resolve(ref)).digest, expected);
  // K3s's "*" entry: the default for hosts without their own; a host's own entry wins over it.
  const star = `configs:\n  "*":\n    auth:\n      username: ${USER}\n      password: "${PASSWORD}"\n`;
  const byDefault = new RegistryClient({ plainHttp: [authed.host], config: await config(star) });
  t.after(() => byDefault.close());
  assert.equal((await byDefault.resolve(ref)).digest, expected);
  const own = new RegistryClient({
    plainHttp: [authed.host],
    config: await config(`${star}  "${authed.host}":\n    auth:\n      username: ${USER}\n      password: other\n`),
  });
  t.after(() => own.close());
  await rejectsWith(own.resolve(ref), 'REGISTRY_AUTH');
  const wrong = new RegistryClient({
    plainHttp: [authed.host],
    config: await config(`configs:\n  "${authed.host}":\n    auth:\n      username: ${USER}\n      password: wrong\n`),
  });
  t.after(() => wrong.close());
  await rejectsWith(wrong.resolve(ref), 'REGISTRY_AUTH', /access refused \(401\): UNAUTHORIZED/);
  const none = new RegistryClient({ plainHttp: [authed.host] });
  t.after(() => none.close());
  await rejectsWith(none.resolve(ref), 'REGISTRY_AUTH', /registries\.yaml has none for 127\.0\.0\.1:\d+/);
});

test('https: the registry CA from tls.ca_file; no CA is refused; insecure_skip_verify skips the check', {
  skip,
}, async (t) => {
  if ('skip' in fixture) return;
  const ref = `${secure.host}/rancher/extra:2.0`;
  const auth = `    auth:\n      username: ${USER}\n      password: "${PASSWORD}"\n`;
  const withCa = new RegistryClient({
    config: await config(`configs:\n  "${secure.host}":\n${auth}    tls:\n      ca_file: ${secure.caFile}\n`),
  });
  t.after(() => withCa.close());
  assert.equal((await withCa.resolve(ref)).digest, skopeoDigest(secure, 'rancher/extra:2.0', `${USER}:${PASSWORD}`));
  const noCa = new RegistryClient({ config: await config(`configs:\n  "${secure.host}":\n${auth}`) });
  t.after(() => noCa.close());
  await rejectsWith(noCa.resolve(ref), 'REGISTRY_UNREACHABLE', /certificate/i);
  const skipVerify = new RegistryClient({
    config: await config(`configs:\n  "${secure.host}":\n${auth}    tls:\n      insecure_skip_verify: true\n`),
  });
  t.after(() => skipVerify.close());
  assert.equal((await skipVerify.resolve(ref)).digest, fixture.extraDigest);
  // Plain http to an https registry is no registry at all.
  const asHttp = new RegistryClient({ plainHttp: [secure.host] });
  t.after(() => asHttp.close());
  await rejectsWith(asHttp.resolve(ref), 'REGISTRY_PROTOCOL', /unexpected status 400/);
});

test('a registry that is down is REGISTRY_UNREACHABLE; one that never answers is REGISTRY_TIMEOUT', {
  skip,
}, async (t) => {
  if ('skip' in fixture) return;
  const gone = await startRegistry({ dir: join(work, 'gone') });
  await gone.stop();
  const client = new RegistryClient({ plainHttp: [gone.host], timeoutMs: 2000 });
  t.after(() => client.close());
  await rejectsWith(client.resolve(`${gone.host}/rancher/test:1.0`), 'REGISTRY_UNREACHABLE', /ECONNREFUSED/);
  const silent = await startSilent();
  t.after(() => silent.close());
  const patient = new RegistryClient({ plainHttp: [silent.host], timeoutMs: 300 });
  t.after(() => patient.close());
  await rejectsWith(patient.resolve(`${silent.host}/rancher/test:1.0`), 'REGISTRY_TIMEOUT', /before the deadline/);
  assert.deepEqual(silent.requests, ['connection']);
  // The caller's deadline wins over the client's default.
  const slow = new RegistryClient({ plainHttp: [silent.host], timeoutMs: 60_000 });
  t.after(() => slow.close());
  await rejectsWith(
    slow.resolve(`${silent.host}/rancher/test:1.0`, { deadline: Date.now() + 200 }),
    'REGISTRY_TIMEOUT',
  );
});

test('registries.yaml: K3s shape only; what cannot be honoured is refused, not ignored', { skip }, async () => {
  if ('skip' in fixture) return;
  const cfg = await config(
    'mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example"]\nconfigs:\n  docker.io:\n    auth:\n      identitytoken: tok\n',
  );
  assert.deepEqual(cfg.hosts.get('docker.io')?.auth, { kind: 'identitytoken', token: 'tok' });
  await rejectsWith(config('configs:\n  h:\n    auth:\n      user: x\n'), 'REGISTRY_CONFIG', /unknown key "user"/);
  await rejectsWith(
    config('configs:\n  h:\n    tls:\n      cert_file: /c\n'),
    'REGISTRY_CONFIG',
    /client certificates/,
  );
  await rejectsWith(
    config('configs:\n  h:\n    tls:\n      ca_file: /nonexistent/ca.pem\n'),
    'REGISTRY_CONFIG',
    /cannot read/,
  );
  await rejectsWith(config('configs: [1, 2]\n'), 'REGISTRY_CONFIG', /configs must be a mapping/);
  await rejectsWith(
    config('configs:\n  h:\n    auth:\n      auth: bm9jb2xvbg==\n'),
    'REGISTRY_CONFIG',
    /not base64 of user:password/,
  );
});
