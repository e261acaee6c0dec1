// Each configuration and deployment rule of `audit node`, once firing and once not, on a
// well-configured node tree (no k3s binary needed) with one thing changed.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditNode, type NodeAuditOptions } from '../../../src/audit/node/index.ts';
import type { Finding } from '../../../src/model/inventory.ts';
import {
  AIRGAP,
  CERT_MANAGER_YAML,
  CHART,
  CONFIG_YAML,
  DIGEST,
  goodNode,
  LOCKED_FILES,
  lockOf,
  MANIFESTS,
  PODINFO_YAML,
  policy,
  put,
  REGISTRIES_YAML,
  tempDir,
  unitFile,
} from './node-fixtures.ts';

type T = Parameters<typeof tempDir>[0];

/** A good node, the lock of its files as reviewed, then `change`, then the audit. */
async function audit(
  t: T,
  change: (root: string) => void,
  opts: NodeAuditOptions | 'no-lock' | 'no-policy' = {},
): Promise<{ findings: Finding[]; root: string; ids: string[]; result: Awaited<ReturnType<typeof auditNode>> }> {
  const root = tempDir(t);
  goodNode(root);
  const lock = lockOf(root, LOCKED_FILES);
  change(root);
  const base: NodeAuditOptions = { policy: policy(), lock };
  if (opts === 'no-lock') delete base.lock;
  if (opts === 'no-policy') delete base.policy;
  const result = await auditNode(root, typeof opts === 'string' ? base : { ...base, ...opts });
  assert.deepEqual(result.problems, [], 'no file problems');
  return { findings: result.findings, root, ids: result.findings.map((f) => f.id), result };
}

const only = (findings: Finding[], id: string) => findings.filter((f) => f.id === id);
const where = (f: Finding | undefined) => `${f?.region?.file}:${f?.region?.line}:${f?.region?.column}`;
const REGISTRIES = 'etc/rancher/k3s/registries.yaml';
const CONFIG = 'etc/rancher/k3s/config.yaml';
const UNIT = 'etc/systemd/system/k3s.service';

test('the well-configured node without a binary has no findings', async (t) => {
  const { findings, result } = await audit(t, () => {});
  assert.deepEqual(findings, []);
  assert.ok(result.filesAudited.includes(REGISTRIES));
  assert.ok(!result.filesAudited.includes(`${MANIFESTS}/local-storage.yaml`), '.skip keeps K3s (and the audit) off it');
});

test('REGISTRY-INSECURE-TLS fires on insecure_skip_verify: true, not on false', async (t) => {
  const on = REGISTRIES_YAML.replace('      ca_file:', '      insecure_skip_verify: true\n      ca_file:');
  const fired = only(
    (await audit(t, (r) => put(r, REGISTRIES, on, 0o600))).findings,
    'K3SG-NODE-REGISTRY-INSECURE-TLS',
  );
  assert.equal(fired.length, 1);
  assert.equal(where(fired[0]), `${REGISTRIES}:14:7`);
  assert.equal(fired[0]?.region?.snippet, '      insecure_skip_verify: true');
  assert.match(fired[0]?.message ?? '', /registry\.example\.com:5000/);
  const off = REGISTRIES_YAML.replace('      ca_file:', '      insecure_skip_verify: false\n      ca_file:');
  assert.deepEqual((await audit(t, (r) => put(r, REGISTRIES, off, 0o600))).ids, []);
});

test('REGISTRY-HTTP-ENDPOINT fires on an http:// endpoint, not on https:// or a bare host', async (t) => {
  const http = REGISTRIES_YAML.replace('"https://registry.example.com:5000"', '"http://registry.example.com:5000"');
  const { findings } = await audit(t, (r) => put(r, REGISTRIES, http, 0o600));
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-REGISTRY-HTTP-ENDPOINT ${REGISTRIES}:5:9`],
  );
  const bare = REGISTRIES_YAML.replace('"https://registry.example.com:5000"', 'registry.example.com:5000');
  assert.deepEqual((await audit(t, (r) => put(r, REGISTRIES, bare, 0o600))).ids, []);
});

test('REGISTRY-MIRROR-HOST fires for a mirror (or "*") outside the allowed registries, not inside or without a policy', async (t) => {
  const wildcard = `${REGISTRIES_YAML.split('configs:')[0]}  "*":\n    endpoint:\n      - "https://mirror.other.example"\n`;
  const { findings } = await audit(t, (r) => put(r, REGISTRIES, wildcard, 0o600));
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-REGISTRY-MIRROR-HOST ${REGISTRIES}:10:9`],
  );
  assert.match(
    findings[0]?.message ?? '',
    /every registry are pulled from mirror\.other\.example; policy\.yaml allows only/,
  );
  // The docs' rewrite example: docker.io through the allowed mirror, renamed on the way.
  const rewrite = REGISTRIES_YAML.replace('https://registry.example.com:5000', 'https://registry-mirror.other.example');
  const renamed = only(
    (await audit(t, (r) => put(r, REGISTRIES, rewrite, 0o600))).findings,
    'K3SG-NODE-REGISTRY-MIRROR-HOST',
  );
  assert.match(renamed[0]?.message ?? '', /renamed by "\^rancher\/\(\.\*\)" -> "mirrorproject\/rancher-images\/\$1"/);
  const allowed = `${REGISTRIES_YAML.split('configs:')[0]}  "*":\n    endpoint:\n      - "https://registry.example.com:5000"\n`;
  assert.deepEqual((await audit(t, (r) => put(r, REGISTRIES, allowed, 0o600))).ids, []);
  assert.deepEqual((await audit(t, (r) => put(r, REGISTRIES, wildcard, 0o600), 'no-policy')).ids, []);
});

test('REGISTRY-CREDENTIALS-READABLE fires for auth in a group- or world-readable file, not at 0600 or without auth', async (t) => {
  const { findings } = await audit(t, (r) => put(r, REGISTRIES, REGISTRIES_YAML, 0o640));
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-REGISTRY-CREDENTIALS-READABLE ${REGISTRIES}:10:5`],
  );
  assert.match(
    findings[0]?.message ?? '',
    /username, password for registry\.example\.com:5000 and has mode 0640: readable by its group/,
  );
  const noAuth = REGISTRIES_YAML.replace(/ {4}auth:\n.*\n.*\n/, '');
  assert.deepEqual((await audit(t, (r) => put(r, REGISTRIES, noAuth, 0o644))).ids, []);
});

test('CONFIG-DEFAULT-REGISTRY fires on the value in effect (a drop-in, the unit), not on an allowed one', async (t) => {
  const { findings } = await audit(t, (r) =>
    put(r, `${CONFIG}.d/90-registry.yml`, 'system-default-registry: quay.io\n', 0o600),
  );
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-CONFIG-DEFAULT-REGISTRY ${CONFIG}.d/90-registry.yml:1:1`],
  );
  const cli = await audit(t, (r) =>
    put(
      r,
      UNIT,
      unitFile('/usr/local/bin/k3s server --disable traefik --system-default-registry=registry.evil.example'),
    ),
  );
  const ids = cli.findings.map((f) => `${f.id} ${f.region?.file}`);
  assert.ok(ids.includes(`K3SG-NODE-CONFIG-DEFAULT-REGISTRY ${UNIT}`), ids.join('\n'));
  assert.deepEqual((await audit(t, () => {})).ids, []); // the good config's registry.example.com:5000 is allowed
});

test('CONFIG-EMBEDDED-REGISTRY fires on embedded-registry true (YAML 1.1 yes too, or the flag), not on false', async (t) => {
  const { findings } = await audit(t, (r) => put(r, CONFIG, `${CONFIG_YAML}embedded-registry: yes\n`, 0o600));
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-CONFIG-EMBEDDED-REGISTRY ${CONFIG}:10:1`],
  );
  const flag = await audit(t, (r) =>
    put(r, UNIT, unitFile("/usr/local/bin/k3s server '--disable' 'traefik' '--embedded-registry'")),
  );
  assert.deepEqual(flag.ids, ['K3SG-NODE-CONFIG-EMBEDDED-REGISTRY']);
  assert.equal(flag.findings[0]?.region?.file, UNIT);
  assert.deepEqual((await audit(t, (r) => put(r, CONFIG, `${CONFIG_YAML}embedded-registry: false\n`, 0o600))).ids, []);
});

test('CONFIG-FLAG-CONFLICT fires when the unit passes another value, not the same one', async (t) => {
  const other = unitFile("/usr/local/bin/k3s \\\n    server \\\n\t'--disable' \\\n\t'servicelb' \\\n");
  const { findings } = await audit(t, (r) => put(r, UNIT, other));
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-CONFIG-FLAG-CONFLICT ${CONFIG}:7:1`],
  );
  assert.match(
    findings[0]?.message ?? '',
    /disable is "traefik" in the config, but k3s\.service passes --disable "servicelb" \(etc\/systemd\/system\/k3s\.service:30\)/,
  );
  // node-label+ in the drop-in appends: the merged list is what the flag is compared with.
  const labels = unitFile(
    '/usr/local/bin/k3s server --disable=traefik --write-kubeconfig-mode 0600 ' +
      '--node-label topology.kubernetes.io/region=eu-west --node-label topology.kubernetes.io/zone=eu-west-1a',
  );
  assert.deepEqual((await audit(t, (r) => put(r, UNIT, labels))).ids, []);
});

test('a unit naming --config is followed to that file, drop-ins and all', async (t) => {
  const { findings } = await audit(t, (r) => {
    put(r, UNIT, unitFile('/usr/local/bin/k3s server --config /etc/k3s/server.yaml'));
    put(r, 'etc/k3s/server.yaml', 'embedded-registry: true\n', 0o600);
  });
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    ['K3SG-NODE-CONFIG-EMBEDDED-REGISTRY etc/k3s/server.yaml:1:1'],
  );
});

test('MANIFEST-UNLOCKED fires on a changed or new manifest (subdirectories too), not on locked or .skip ones', async (t) => {
  const { findings } = await audit(t, (r) => {
    put(r, `${MANIFESTS}/podinfo.yaml`, PODINFO_YAML.replace('replicas: 2', 'replicas: 3'));
    put(r, `${MANIFESTS}/metrics-server/metrics-apiservice.yaml`, 'apiVersion: v1\nkind: List\nitems: []\n');
    put(r, `${MANIFESTS}/disabled.yaml`, 'apiVersion: v1\nkind: List\nitems: []\n');
    put(r, `${MANIFESTS}/disabled.yaml.skip`, '');
    put(r, `${MANIFESTS}/README.md`, 'not applied: K3s applies .yaml, .yml and .json only\n');
  });
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [
      `K3SG-NODE-MANIFEST-UNLOCKED ${MANIFESTS}/metrics-server/metrics-apiservice.yaml:1:1`,
      `K3SG-NODE-MANIFEST-UNLOCKED ${MANIFESTS}/podinfo.yaml:1:1`,
    ],
  );
  assert.match(
    findings[1]?.message ?? '',
    /its sha256 [0-9a-f]{64} is not the one locked for podinfo\.yaml in k3sguard\.lock/,
  );
  assert.deepEqual((await audit(t, () => {}, 'no-lock')).ids, []);
});

test('MANIFEST-IMAGE-TAG fires on images by tag (K3s placeholders too), not by digest', async (t) => {
  const cron = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          initContainers:
            - name: wait
              image: "%{SYSTEM_DEFAULT_REGISTRY}%rancher/mirrored-library-busybox:1.36.1"
          containers:
            - name: backup
              image: registry.example.com:5000/ops/backup@${DIGEST}
`;
  const { findings } = await audit(t, (r) => put(r, `${MANIFESTS}/backup.yaml`, cron), 'no-lock');
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-MANIFEST-IMAGE-TAG ${MANIFESTS}/backup.yaml:13:22`],
  );
  const pinned = cron.replace(':1.36.1"', `:1.36.1@${DIGEST}"`);
  assert.deepEqual((await audit(t, (r) => put(r, `${MANIFESTS}/backup.yaml`, pinned), 'no-lock')).ids, []);
});

test('HELMCHART-VERSION fires on a missing or ranged version, not on an exact one, chartContent or a .tgz URL', async (t) => {
  const ranged = CERT_MANAGER_YAML.replace('version: v1.16.2', 'version: "^1.16"');
  const { findings } = await audit(t, (r) => put(r, `${MANIFESTS}/cert-manager.yaml`, ranged), 'no-lock');
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-HELMCHART-VERSION ${MANIFESTS}/cert-manager.yaml:14:12`],
  );
  assert.match(
    findings[0]?.message ?? '',
    /HelmChart cert-manager \(chart cert-manager\) has spec.version "\^1.16", a range/,
  );
  const missing = CERT_MANAGER_YAML.replace('  version: v1.16.2\n', '');
  const none = await audit(t, (r) => put(r, `${MANIFESTS}/cert-manager.yaml`, missing), 'no-lock');
  assert.deepEqual(
    none.findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-HELMCHART-VERSION ${MANIFESTS}/cert-manager.yaml:13:3`],
  );
  const embedded = missing.replace(
    '  chart: cert-manager\n',
    '  chartContent: H4sIAAAAAAAAA+3OMQ6CQBCF4a05xR5gk1lYWNfOxMKW\n',
  );
  assert.deepEqual((await audit(t, (r) => put(r, `${MANIFESTS}/cert-manager.yaml`, embedded), 'no-lock')).ids, []);
});

test('CHART-UNLOCKED fires on a chart whose digest is not locked, not without a lock', async (t) => {
  const { findings } = await audit(t, (r) => put(r, CHART, 'a different chart'));
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-CHART-UNLOCKED ${CHART}:1:1`],
  );
  assert.deepEqual((await audit(t, (r) => put(r, CHART, 'a different chart'), 'no-lock')).ids, []);
});

test('AIRGAP-UNLOCKED fires on an unlocked tarball, not on image lists or the import cache', async (t) => {
  const images = 'var/lib/rancher/k3s/agent/images';
  const { findings } = await audit(t, (r) => {
    put(r, `${images}/payload.tar.gz`, 'planted');
    put(r, `${images}/more-images.txt`, 'docker.io/library/nginx:1.27\n');
    put(r, `${images}/.cache.json`, '{}');
  });
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-AIRGAP-UNLOCKED ${images}/payload.tar.gz:1:1`],
  );
  assert.ok(!findings.some((f) => f.region?.file === AIRGAP));
});

test('UNIT-EXECSTART fires when a drop-in runs another binary, not when a symlink leads to the audited one', async (t) => {
  const { findings } = await audit(t, (r) =>
    put(r, `${UNIT}.d/override.conf`, '[Service]\nExecStart=\nExecStart=/usr/bin/k3s server\n'),
  );
  assert.deepEqual(
    findings.map((f) => `${f.id} ${where(f)}`),
    [`K3SG-NODE-UNIT-EXECSTART ${UNIT}.d/override.conf:3:11`],
  );
  const { ids } = await audit(t, (r) => {
    put(r, 'opt/k3s/v1.31.4/k3s', 'stands in for the binary');
    mkdirSync(join(r, 'usr/local/bin'), { recursive: true });
    symlinkSync('/opt/k3s/v1.31.4/k3s', join(r, 'usr/local/bin/k3s'));
    put(r, UNIT, unitFile('/opt/k3s/v1.31.4/k3s server --disable traefik'));
  });
  assert.ok(!ids.includes('K3SG-NODE-UNIT-EXECSTART'), ids.join('\n'));
});

test('inline waivers in a node file move the finding to waived, with the reason', async (t) => {
  const config = `${CONFIG_YAML}# k3sguard:ignore K3SG-NODE-CONFIG-EMBEDDED-REGISTRY edge sites pull by digest only\nembedded-registry: true\n`;
  const { findings, result } = await audit(t, (r) => put(r, CONFIG, config, 0o600));
  assert.deepEqual(findings, []);
  assert.equal(result.waived.length, 1);
  assert.equal(result.waived[0]?.finding.id, 'K3SG-NODE-CONFIG-EMBEDDED-REGISTRY');
  assert.deepEqual(result.waived[0]?.waiver, {
    source: 'inline',
    ruleId: 'K3SG-NODE-CONFIG-EMBEDDED-REGISTRY',
    reason: 'edge sites pull by digest only',
    file: CONFIG,
    line: 10,
  });
});
