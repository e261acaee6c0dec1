// `k3sguard webhook` as a process: started with a policy file and an openssl-made certificate,
// asked over HTTPS, stopped by its PID with SIGTERM (exit 0). No registry is needed: the image
// comes from a registry the policy does not allow, which is refused before any registry is asked.
// Then the whole install path: `webhook certs` makes the TLS, the webhook reads credentials and
// the registry's CA from a registries.yaml, and decides against a real registry that requires
// basic auth over https, for /validate and /mutate; its /metrics count what it did.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, k3sguard } from '../cli/run.ts';
import { freePort, makeServingCertificate, registrySkip, skopeoPush, startRegistry } from '../fixtures/registry.ts';
import { hasTool } from '../fixtures/tools.ts';
import { skopeoSigned } from '../verify/cosign-fixtures.ts';

const skip = hasTool('openssl') ? false : 'openssl not installed (apt-get install -y openssl)';

const POLICY = `apiVersion: k3sguard.dev/v1
kind: ImagePolicy
images:
  allowedRegistries: [registry.example.com]
  requireDigest: true
`;

/** Resolves with the stderr so far once it contains `text`; rejects if the process exits first. */
function waitForLine(child: ChildProcess, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      if (err.includes(text)) resolve(err);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before "${text}": ${err}`)));
  });
}

test('k3sguard webhook serves reviews over HTTPS and stops cleanly on SIGTERM', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-webhook-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tls = makeServingCertificate(join(dir, 'tls'));
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      CLI,
      'webhook',
      '--tls-cert',
      tls.certFile,
      '--tls-key',
      tls.keyFile,
      '--policy',
      join(dir, 'policy.yaml'),
      '--listen',
      `127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, K3SGUARD_LOG_LEVEL: 'error' } },
  );
  const pid = child.pid as number;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
  });
  const ready = await waitForLine(child, 'listening on');
  assert.match(
    ready,
    /k3sguard webhook: enforce, listening on https:\/\/127\.0\.0\.1:\d+ \(POST \/validate, \/mutate\)/,
  );
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'default',
      name: 'web',
      operation: 'CREATE',
      object: { spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
    },
  };
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      `https://127.0.0.1:${port}/validate`,
      { method: 'POST', ca: readFileSync(tls.caFile), agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
        });
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(review));
  });
  const response = JSON.parse(body).response;
  assert.equal(response.uid, 'u-1');
  assert.equal(response.allowed, false);
  assert.match(
    response.status.message,
    /container "app" image docker\.io\/library\/nginx:1\.27: .*\[K3SG-POLICY-REGISTRY\]/,
  );
  process.kill(pid, 'SIGTERM');
  assert.equal(await exited, 0);
});

test('k3sguard webhook without a certificate or a policy is a usage error', () => {
  const noTls = k3sguard(['webhook', '--policy', 'p.yaml'], { timeout: 60_000 });
  assert.equal(noTls.code, 2);
  assert.match(noTls.stderr, /--tls-cert and --tls-key are required/);
  const noPolicy = k3sguard(['webhook', '--tls-cert', 'c', '--tls-key', 'k'], { timeout: 60_000 });
  assert.equal(noPolicy.code, 2);
  assert.match(noPolicy.stderr, /--policy is required/);
  const badMode = k3sguard(['webhook', '--tls-cert', 'c', '--tls-key', 'k', '--policy', 'p', '--mode', 'warn'], {
    timeout: 60_000,
  });
  assert.equal(badMode.code, 2);
  assert.match(badMode.stderr, /--mode: enforce or audit/);
});

/** One HTTPS request to the webhook as the API server makes it (trusting the CA, for the Service's name). */
function ask(
  port: number,
  ca: Buffer,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `https://127.0.0.1:${port}${path}`,
      {
        method,
        ca,
        servername: 'k3sguard-webhook.k3sguard.svc',
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const authSkip = registrySkip({ users: true, tls: true });
const fixture = authSkip ? { skip: authSkip } : await skopeoSigned();

test('installed as documented: webhook certs, registries.yaml credentials, a basic-auth https registry', {
  skip: 'skip' in fixture ? fixture.skip : false,
}, async (t) => {
  if ('skip' in fixture) return;
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-webhook-auth-'));
  const registry = await startRegistry({ dir: join(dir, 'registry'), users: { puller: 's3cret pass' }, tls: true });
  t.after(async () => {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const creds = 'puller:s3cret pass';
  skopeoPush(registry, `dir:${fixture.dirs.test}`, 'rancher/test:1.0', { creds, registriesD: fixture.registriesD });
  skopeoPush(registry, `dir:${fixture.dirs.extra}`, 'rancher/unsigned:1', { creds, removeSignatures: true });
  const certs = k3sguard([
    'webhook',
    'certs',
    '--service',
    'k3sguard-webhook',
    '--namespace',
    'k3sguard',
    '-o',
    join(dir, 'certs'),
  ]);
  assert.equal(certs.code, 0, certs.stderr);
  writeFileSync(
    join(dir, 'policy.yaml'),
    `apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  allowedRegistries: ["${registry.host}"]\n  requireDigest: true\n  requireSignature: { key: ${fixture.keys.p256} }\n`,
  );
  writeFileSync(
    join(dir, 'registries.yaml'),
    `configs:\n  "${registry.host}":\n    auth: { username: puller, password: "s3cret pass" }\n    tls: { ca_file: ${registry.caFile} }\n`,
  );
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      CLI,
      'webhook',
      `--tls-cert=${join(dir, 'certs', 'tls.crt')}`,
      `--tls-key=${join(dir, 'certs', 'tls.key')}`,
      `--policy=${join(dir, 'policy.yaml')}`,
      `--registries=${join(dir, 'registries.yaml')}`,
      `--cache-dir=${join(dir, 'cache')}`,
      `--listen=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, K3SGUARD_LOG_LEVEL: 'error' } },
  );
  const pid = child.pid as number;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
  });
  await waitForLine(child, 'listening on');
  const ca = readFileSync(join(dir, 'certs', 'ca.crt'));
  const review = (uid: string, image: string) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      namespace: 'shop',
      name: 'web',
      operation: 'CREATE',
      object: { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } },
    },
  });
  const decide = async (path: string, uid: string, image: string) => {
    const a = await ask(port, ca, 'POST', path, review(uid, image));
    assert.equal(a.status, 200, a.text);
    return JSON.parse(a.text).response;
  };
  const signed = await decide('/validate', 'u-signed', `${registry.host}/rancher/test@${fixture.testDigest}`);
  assert.equal(signed.allowed, true, signed.status?.message);
  const unsigned = await decide('/validate', 'u-unsigned', `${registry.host}/rancher/unsigned@${fixture.extraDigest}`);
  assert.equal(unsigned.allowed, false);
  assert.match(
    unsigned.status.message,
    /^k3sguard denied Deployment shop\/web:\n- container "app" image .*rancher\/unsigned@sha256:[0-9a-f]{64}: signature required .*no cosign signature/,
  );
  const mutated = await decide('/mutate', 'u-tag', `${registry.host}/rancher/test:1.0`);
  assert.equal(mutated.patchType, 'JSONPatch');
  assert.deepEqual(JSON.parse(Buffer.from(mutated.patch, 'base64').toString('utf8')), [
    {
      op: 'replace',
      path: '/spec/template/spec/containers/0/image',
      value: `${registry.host}/rancher/test:1.0@${fixture.testDigest}`,
    },
  ]);
  const metrics = await ask(port, ca, 'GET', '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(
    metrics.text,
    /k3sguard_webhook_decisions_total\{endpoint="validate",verdict="denied",rule="K3SG-POLICY-SIGNATURE"\} 1/,
  );
  assert.match(metrics.text, /k3sguard_webhook_decisions_total\{endpoint="mutate",verdict="mutated",rule="none"\} 1/);
  process.kill(pid, 'SIGTERM');
  assert.equal(await exited, 0);
});

test('webhook: a lock the policy names that is missing is a usage error at start', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-webhook-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'policy.yaml'),
    'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  requireLocked: k3sguard.lock\n',
  );
  const r = k3sguard(['webhook', '--tls-cert', 'c', '--tls-key', 'k', '--policy', join(dir, 'policy.yaml')], {
    timeout: 60_000,
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /k3sguard\.lock.*no such lock file/);
});

test('webhook --mode audit admits with warnings and logs the event as a JSON line on stdout', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-webhook-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tls = makeServingCertificate(join(dir, 'tls'));
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      CLI,
      'webhook',
      `--tls-cert=${tls.certFile}`,
      `--tls-key=${tls.keyFile}`,
      `--policy=${join(dir, 'policy.yaml')}`,
      '--mode=audit',
      `--listen=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, K3SGUARD_LOG_LEVEL: 'warn' } },
  );
  const pid = child.pid as number;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  await waitForLine(child, 'listening on');
  const a = await new Promise<string>((resolve, reject) => {
    const req = request(
      `https://127.0.0.1:${port}/validate`,
      { method: 'POST', ca: readFileSync(tls.caFile), agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
        });
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end(
      JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'u-audit',
          kind: { group: '', version: 'v1', kind: 'Pod' },
          namespace: 'default',
          name: 'web',
          operation: 'CREATE',
          object: { spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
        },
      }),
    );
  });
  const response = JSON.parse(a).response;
  assert.equal(response.allowed, true);
  assert.match(response.warnings[0], /^k3sguard \(audit, would deny\): container "app" .*\[K3SG-POLICY-REGISTRY\]/);
  process.kill(pid, 'SIGTERM');
  assert.equal(await exited, 0);
  const event = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((e) => e.event === 'k3sguard.webhook.audit');
  assert.ok(event, `an audit event on stdout: ${out}`);
  assert.equal(event.uid, 'u-audit');
  assert.equal(event.kind, 'Pod');
  assert.equal(event.namespace, 'default');
  assert.match(event.lines[0], /container "app" image docker\.io\/library\/nginx:1\.27: .*\[K3SG-POLICY-REGISTRY\]/);
});
