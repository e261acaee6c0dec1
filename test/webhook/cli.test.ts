// `k3sguard webhook` as a process: started with a policy file and an openssl-made certificate,
// asked over HTTPS, stopped by its PID with SIGTERM (exit 0). No registry is needed: the image
// comes from a registry the policy does not allow, which is refused before any registry is asked.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, k3sguard } from '../cli/run.ts';
import { freePort, makeServingCertificate } from '../fixtures/registry.ts';
import { hasTool } from '../fixtures/tools.ts';

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
