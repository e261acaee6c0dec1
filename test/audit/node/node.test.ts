// `audit node` over whole node trees: a well-configured node (nothing to report) and a node
// with every problem the node rules know, each rule firing where the problem is written.
import assert from 'node:assert/strict';
import { chmodSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditNode } from '../../../src/audit/node/index.ts';
import { NODE_RULES } from '../../../src/model/rules/node.ts';
import {
  CONFIG_YAML,
  extractBundle,
  goodNode,
  installK3s,
  k3sBinary,
  LOCKED_FILES,
  lockOf,
  MANIFESTS,
  policy,
  put,
  sha256Of,
  tempDir,
  unitFile,
} from './node-fixtures.ts';

test('a well-configured node: every file audited, no findings, no problems', async (t) => {
  const k3s = await k3sBinary(t);
  if (!k3s) return;
  const root = tempDir(t);
  goodNode(root);
  installK3s(root, k3s);
  const lock = lockOf(root, [...LOCKED_FILES, 'usr/local/bin/k3s']);
  const r = await auditNode(root, { policy: policy(), lock, lockFile: '/srv/k3sguard.lock' });
  assert.deepEqual(r.findings, []);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.waived, []);
  assert.equal(r.area, 'node');
  assert.deepEqual(r.filesAudited, [
    'etc/rancher/k3s/config.yaml',
    'etc/rancher/k3s/config.yaml.d/50-labels.yaml',
    'etc/rancher/k3s/registries.yaml',
    'etc/systemd/system/k3s.service',
    'usr/local/bin/k3s',
    'var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst',
    `var/lib/rancher/k3s/data/${k3s.bundleHash}`,
    `${MANIFESTS}/cert-manager.yaml`,
    `${MANIFESTS}/podinfo.yaml`,
    `${MANIFESTS}/traefik.yaml`,
    'var/lib/rancher/k3s/server/static/charts/traefik-34.2.1+up34.2.0.tgz',
  ]);
});

const BAD_REGISTRIES = `mirrors:
  docker.io:
    endpoint:
      - "https://registry.example.com:5000"
  "*":
    endpoint:
      - "http://mirror.internal.example:5000"
configs:
  "registry.example.com:5000":
    auth:
      username: k3s-pull
      password: pull-token-0f9e8d
  "mirror.internal.example:5000":
    tls:
      insecure_skip_verify: true
`;

const EVIL_YAML = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-helper
  namespace: kube-system
spec:
  template:
    spec:
      hostPID: true
      containers:
        - name: helper
          image: docker.io/library/busybox:1.36
---
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata:
  name: ingress-nginx
  namespace: kube-system
spec:
  repo: https://kubernetes.github.io/ingress-nginx
  chart: ingress-nginx
`;

test('a node with every problem: each node rule fires, at the line that causes it', async (t) => {
  const good = await k3sBinary(t);
  const flipped = good && (await k3sBinary(t, 'frame-byte-flipped'));
  if (!good || !flipped) return;
  const root = tempDir(t);
  goodNode(root);
  installK3s(root, good, flipped);
  const lock = lockOf(root, [...LOCKED_FILES]);
  lock.artifacts.push({ name: 'k3s', ...sha256Of(good.path), sources: [{ name: 'github' }] });

  put(root, 'etc/rancher/k3s/registries.yaml', BAD_REGISTRIES, 0o644);
  put(
    root,
    'etc/rancher/k3s/config.yaml',
    `${CONFIG_YAML.replace('registry.example.com:5000', 'registry.evil.example').replace('"0600"', '"0644"')}embedded-registry: true\n`,
    0o600,
  );
  put(root, 'etc/rancher/k3s/config.yaml.d/60-join.yaml', 'token: K10secret::server:secret\n', 0o644);
  put(root, 'etc/systemd/system/k3s.service', unitFile("/opt/k3s/k3s server --tls-san 'other.example.com'"));
  put(root, `${MANIFESTS}/node-helper.yaml`, EVIL_YAML);
  put(root, 'var/lib/rancher/k3s/server/static/charts/ingress-nginx-4.12.0.tgz', 'not reviewed');
  put(root, 'var/lib/rancher/k3s/agent/images/extra-images.tar', 'not reviewed');
  chmodSync(join(root, 'usr/local/bin/k3s'), 0o777);
  // data/current now points at another extraction, in which runc was replaced afterwards.
  const other = extractBundle(root, good, 'e'.repeat(64));
  put(root, `${other}/bin/runc`, '#!/bin/sh\nexec /tmp/.x "$@"\n', 0o755);
  rmSync(join(root, 'var/lib/rancher/k3s/data/current'));
  symlinkSync(`/${other}`, join(root, 'var/lib/rancher/k3s/data/current'));

  const r = await auditNode(root, { policy: policy(), lock });
  assert.deepEqual(r.problems, []);
  const fired = new Set(r.findings.map((f) => f.id));
  assert.deepEqual([...fired].sort(), NODE_RULES.map((rule) => rule.id).sort());
  const at = (id: string) => r.findings.filter((f) => f.id === id).map((f) => `${f.region?.file}:${f.region?.line}`);
  assert.deepEqual(at('K3SG-NODE-REGISTRY-HTTP-ENDPOINT'), ['etc/rancher/k3s/registries.yaml:7']);
  assert.deepEqual(at('K3SG-NODE-REGISTRY-MIRROR-HOST'), ['etc/rancher/k3s/registries.yaml:7']);
  assert.deepEqual(at('K3SG-NODE-REGISTRY-INSECURE-TLS'), ['etc/rancher/k3s/registries.yaml:15']);
  assert.deepEqual(at('K3SG-NODE-REGISTRY-CREDENTIALS-READABLE'), ['etc/rancher/k3s/registries.yaml:10']);
  assert.deepEqual(at('K3SG-NODE-CONFIG-DEFAULT-REGISTRY'), ['etc/rancher/k3s/config.yaml:6']);
  assert.deepEqual(at('K3SG-NODE-CONFIG-EMBEDDED-REGISTRY'), ['etc/rancher/k3s/config.yaml:10']);
  assert.deepEqual(at('K3SG-NODE-CONFIG-FLAG-CONFLICT'), ['etc/rancher/k3s/config.yaml:2']);
  assert.deepEqual(at('K3SG-NODE-CONFIG-SECRET-READABLE'), ['etc/rancher/k3s/config.yaml.d/60-join.yaml:1']);
  assert.deepEqual(at('K3SG-NODE-KUBECONFIG-READABLE'), ['etc/rancher/k3s/config.yaml:1']);
  assert.deepEqual(at('K3SG-NODE-UNIT-EXECSTART'), ['etc/systemd/system/k3s.service:28']);
  assert.deepEqual(at('K3SG-NODE-MANIFEST-UNLOCKED'), [`${MANIFESTS}/node-helper.yaml:1`]);
  assert.deepEqual(at('K3SG-NODE-MANIFEST-IMAGE-TAG'), [`${MANIFESTS}/node-helper.yaml:12`]);
  assert.deepEqual(at('K3SG-NODE-HELMCHART-VERSION'), [`${MANIFESTS}/node-helper.yaml:21`]);
  assert.deepEqual(at('K3SG-NODE-CHART-UNLOCKED'), [
    'var/lib/rancher/k3s/server/static/charts/ingress-nginx-4.12.0.tgz:1',
  ]);
  assert.deepEqual(at('K3SG-NODE-AIRGAP-UNLOCKED'), ['var/lib/rancher/k3s/agent/images/extra-images.tar:1']);
  for (const id of ['K3SG-NODE-BINARY-WRITABLE', 'K3SG-NODE-BINARY-UNLOCKED', 'K3SG-NODE-BINARY-BUNDLE'])
    assert.deepEqual(at(id), ['usr/local/bin/k3s:1'], id);
  assert.deepEqual(at('K3SG-NODE-DATA-CURRENT'), ['var/lib/rancher/k3s/data/current:1']);
  assert.ok(at('K3SG-NODE-DATA-MODIFIED').includes(`${other}/bin/runc:1`), at('K3SG-NODE-DATA-MODIFIED').join('\n'));
  // Every finding carries its rule's severity and title, and a region in a file under the root.
  for (const f of r.findings) {
    const rule = NODE_RULES.find((x) => x.id === f.id);
    assert.equal(f.severity, rule?.severity);
    assert.equal(f.title, rule?.title);
    assert.ok(f.region && f.region.line >= 1 && f.region.column >= 1 && !f.region.file.startsWith('/'));
  }
  if (process.env.K3SG_SHOW)
    for (const f of r.findings) console.log(f.id, f.region?.file, f.region?.line, f.region?.column, f.message);
});
