// Secrets on the node: the K3s token, agent token, datastore password and S3 key in
// config.yaml and its drop-ins, a token file, and the cluster-admin kubeconfig, each written
// with a real mode on a real node tree; a finding when group or others can read them, none at
// 0600, and never the secret itself in the report.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditNode } from '../../../src/audit/node/index.ts';
import type { Finding } from '../../../src/model/inventory.ts';
import { auditJson } from '../../../src/report/audit.ts';
import { CONFIG_YAML, goodNode, MANIFESTS, put, REGISTRIES_YAML, tempDir, unitFile } from './node-fixtures.ts';

type T = Parameters<typeof tempDir>[0];

const CONFIG = 'etc/rancher/k3s/config.yaml';
const UNIT = 'etc/systemd/system/k3s.service';
const TOKEN = 'K10f4c1a9e2b3d4c5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0::server:9d8c7b6a5f4e3d2c';

/** A good node (no lock, no policy: only these rules speak), then `change`, then the audit. */
async function audit(t: T, change: (root: string) => void): Promise<{ findings: Finding[]; json: string }> {
  const root = tempDir(t);
  goodNode(root);
  change(root);
  const result = await auditNode(root, {});
  assert.deepEqual(result.problems, [], 'no file problems');
  return { findings: result.findings, json: auditJson(result, 'test') };
}

const only = (findings: Finding[]) => findings.filter((f) => f.id === 'K3SG-NODE-KUBECONFIG-READABLE');
const show = (findings: Finding[]) =>
  findings.map((f) => `${f.id} ${f.region?.file}:${f.region?.line}:${f.region?.column}`);

test('CONFIG-SECRET-READABLE: token and agent-token in a world- or group-readable config, never printed', async (t) => {
  const text = `${CONFIG_YAML}token: ${TOKEN}\nagent-token: "agent-0a1b2c3d"\n`;
  const { findings, json } = await audit(t, (r) => put(r, CONFIG, text, 0o644));
  assert.deepEqual(show(findings), [
    `K3SG-NODE-CONFIG-SECRET-READABLE ${CONFIG}:10:1`,
    `K3SG-NODE-CONFIG-SECRET-READABLE ${CONFIG}:11:1`,
  ]);
  assert.equal(findings[0]?.message, `${CONFIG} holds the token and has mode 0644: readable by every local user.`);
  assert.equal(findings[0]?.region?.snippet, 'token: (value not shown)');
  assert.ok(!json.includes(TOKEN) && !json.includes('agent-0a1b2c3d'), 'the secrets are not in the report');
  assert.deepEqual((await audit(t, (r) => put(r, CONFIG, text, 0o600))).findings, []);
});

test('CONFIG-SECRET-READABLE: each drop-in by its own mode; a datastore-endpoint only with a password', async (t) => {
  const { findings } = await audit(t, (r) => {
    put(r, `${CONFIG}.d/10-join.yaml`, `token: ${TOKEN}\n`, 0o640);
    put(r, `${CONFIG}.d/20-db.yaml`, 'datastore-endpoint: "postgres://k3s:s3cr3t-pw@db.example.com:5432/k3s"\n', 0o644);
    put(r, `${CONFIG}.d/30-etcd.yaml`, 'datastore-endpoint: https://etcd.example.com:2379\n', 0o644);
    put(r, `${CONFIG}.d/40-mysql.yaml`, 'datastore-endpoint: mysql://k3s:pw@tcp(db:3306)/k3s\n', 0o600);
    // A later drop-in overrides the token, but the earlier file still holds it, readable.
    put(r, `${CONFIG}.d/90-token.yaml`, 'token: another\n', 0o600);
  });
  assert.deepEqual(show(findings), [
    `K3SG-NODE-CONFIG-SECRET-READABLE ${CONFIG}.d/10-join.yaml:1:1`,
    `K3SG-NODE-CONFIG-SECRET-READABLE ${CONFIG}.d/20-db.yaml:1:1`,
  ]);
  assert.match(findings[0]?.message ?? '', /holds the token and has mode 0640: readable by its group\.$/);
  assert.match(findings[1]?.message ?? '', /holds the datastore password \(in datastore-endpoint\)/);
  assert.equal(findings[1]?.region?.snippet, 'datastore-endpoint: (value not shown)');
});

test('CONFIG-SECRET-READABLE: token-file counts by the mode of the file it names', async (t) => {
  const { findings } = await audit(t, (r) => {
    put(
      r,
      CONFIG,
      `${CONFIG_YAML}token-file: /etc/rancher/k3s/token\nagent-token-file: /etc/rancher/k3s/agent-token\n`,
      0o600,
    );
    put(r, 'etc/rancher/k3s/token', `${TOKEN}\n`, 0o604);
    put(r, 'etc/rancher/k3s/agent-token', 'agent-0a1b2c3d\n', 0o600);
  });
  assert.deepEqual(show(findings), [`K3SG-NODE-CONFIG-SECRET-READABLE ${CONFIG}:10:1`]);
  assert.equal(
    findings[0]?.message,
    'token-file names /etc/rancher/k3s/token, which holds the token and has mode 0604: readable by every local user.',
  );
});

test('KUBECONFIG-READABLE: write-kubeconfig-mode giving group or others access, the unit flag winning', async (t) => {
  const wide = CONFIG_YAML.replace('write-kubeconfig-mode: "0600"', 'write-kubeconfig-mode: "644"');
  let { findings } = await audit(t, (r) => put(r, CONFIG, wide, 0o600));
  assert.deepEqual(show(findings), [`K3SG-NODE-KUBECONFIG-READABLE ${CONFIG}:1:1`]);
  assert.match(findings[0]?.message ?? '', /write-kubeconfig-mode is 644 \(config\): .*access for every local user/);
  // The command line is applied after the config: --write-kubeconfig-mode 0600 there wins.
  ({ findings } = await audit(t, (r) => {
    put(r, CONFIG, wide, 0o600);
    put(r, UNIT, unitFile('/usr/local/bin/k3s server --write-kubeconfig-mode 0600'));
  }));
  assert.deepEqual(only(findings), [], 'the flag conflict is CONFIG-FLAG-CONFLICT, not this rule');
  ({ findings } = await audit(t, (r) =>
    put(r, UNIT, unitFile('/usr/local/bin/k3s server --write-kubeconfig-mode=0640')),
  ));
  assert.deepEqual(show(only(findings)), [`K3SG-NODE-KUBECONFIG-READABLE ${UNIT}:28:37`]);
  assert.match(only(findings)[0]?.message ?? '', /\(k3s\.service\): .*access for its group/);
  // 0600 and 0700 (only the owner) are fine.
  const owner = CONFIG_YAML.replace('"0600"', '"0700"');
  assert.deepEqual((await audit(t, (r) => put(r, CONFIG, owner, 0o600))).findings, []);
});

test('KUBECONFIG-READABLE: the kubeconfig file itself (write-kubeconfig followed), not at 0600', async (t) => {
  let { findings } = await audit(t, (r) => put(r, 'etc/rancher/k3s/k3s.yaml', 'apiVersion: v1\nkind: Config\n', 0o644));
  assert.deepEqual(show(findings), ['K3SG-NODE-KUBECONFIG-READABLE etc/rancher/k3s/k3s.yaml:1:1']);
  ({ findings } = await audit(t, (r) => {
    put(r, CONFIG, `${CONFIG_YAML}write-kubeconfig: /root/.kube/config\n`, 0o600);
    put(r, 'root/.kube/config', 'apiVersion: v1\nkind: Config\n', 0o640);
    put(r, 'etc/rancher/k3s/k3s.yaml', 'stale copy\n', 0o600);
  }));
  assert.deepEqual(show(findings), ['K3SG-NODE-KUBECONFIG-READABLE root/.kube/config:1:1']);
  assert.deepEqual((await audit(t, (r) => put(r, 'etc/rancher/k3s/k3s.yaml', 'x: 1\n', 0o600))).findings, []);
});

test('REGISTRY-CREDENTIALS-READABLE shows the auth key, not the inline password', async (t) => {
  const inline = REGISTRIES_YAML.replace(
    /auth:\n.*\n.*\n/,
    'auth: {username: k3s-pull, password: pull-token-0f9e8d}\n',
  );
  const { findings, json } = await audit(t, (r) => put(r, 'etc/rancher/k3s/registries.yaml', inline, 0o644));
  assert.deepEqual(
    findings.map((f) => f.id),
    ['K3SG-NODE-REGISTRY-CREDENTIALS-READABLE'],
  );
  assert.equal(findings[0]?.region?.snippet, '    auth: (value not shown)');
  assert.ok(!json.includes('pull-token-0f9e8d'));
});

test('audit node: an image through an alias in an auto-deploy manifest is checked; an alias bomb is a problem', async (t) => {
  const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    base: &img "nginx:1.27"
spec:
  containers:
    - name: web
      image: *img
`;
  const { findings } = await audit(t, (r) => put(r, `${MANIFESTS}/web.yaml`, manifest, 0o600));
  assert.deepEqual(
    show(findings).filter((f) => f.includes('IMAGE-TAG')),
    [`K3SG-NODE-MANIFEST-IMAGE-TAG ${MANIFESTS}/web.yaml:6:16`],
  );
  const root = tempDir(t);
  goodNode(root);
  let bomb = 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
  for (let i = 1; i <= 10; i++)
    bomb += `a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  put(root, `${MANIFESTS}/lol.yaml`, bomb, 0o600);
  const result = await auditNode(root, {});
  assert.deepEqual(
    result.problems.map((p) => `${p.file} ${p.kind}`),
    [`${MANIFESTS}/lol.yaml invalid-yaml`],
  );
  assert.match(result.problems[0]?.message ?? '', /aliases stand for more than 1000000 nodes/);
});
