// Node trees for `audit node`, written by the tests into temp dirs: the files K3s reads on a
// server node (K3S-FACTS §6), in the shape K3s's docs and install.sh give them. `goodNode`
// is a well-configured node; tests break one thing at a time. The k3s binary and its data
// dir come from the K3s-shaped fixture (a real Go wrapper embedding a real zstd/tar bundle),
// extracted with zstd and tar as K3s would.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type ImagePolicy, parseImagePolicy } from '../../../src/policy/image-policy.ts';
import { LOCK_SCHEMA, type Lockfile } from '../../../src/verify/lock/format.ts';
import { type K3sShaped, type K3sShapedVariant, k3sShaped } from '../../fixtures/k3s-shaped.ts';

export const DIGEST = `sha256:${'4f'.repeat(32)}`;

export const REGISTRIES_YAML = `# Pull Docker Hub images through the company mirror.
mirrors:
  docker.io:
    endpoint:
      - "https://registry.example.com:5000"
    rewrite:
      "^rancher/(.*)": "mirrorproject/rancher-images/$1"
configs:
  "registry.example.com:5000":
    auth:
      username: k3s-pull # this is the registry username
      password: pull-token-0f9e8d # this is the registry password
    tls:
      ca_file: /etc/ssl/certs/registry-example-ca.pem
`;

export const CONFIG_YAML = `write-kubeconfig-mode: "0600"
tls-san:
  - "k3s.example.com"
node-label:
  - "topology.kubernetes.io/region=eu-west"
system-default-registry: "registry.example.com:5000"
disable:
  - traefik
secrets-encryption: true
`;

export const CONFIG_DROPIN = `# Added by the provisioning tool for this node only.
node-label+:
  - "topology.kubernetes.io/zone=eu-west-1a"
`;

/** k3s.service as install.sh writes it for `INSTALL_K3S_EXEC="server --disable traefik"`. */
export function unitFile(
  execStart = "/usr/local/bin/k3s \\\n    server \\\n\t'--disable' \\\n\t'traefik' \\\n",
): string {
  return `[Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-/etc/systemd/system/k3s.service.env
KillMode=process
Delegate=yes
User=root
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=/bin/sh -xc '! /usr/bin/systemctl is-enabled --quiet nm-cloud-setup.service 2>/dev/null'
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=${execStart}
`;
}

export const PODINFO_YAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: apps
spec:
  replicas: 2
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfo
          image: registry.example.com:5000/apps/podinfo:6.7.1@${DIGEST}
          ports:
            - containerPort: 9898
`;

export const CERT_MANAGER_YAML = `apiVersion: v1
kind: Namespace
metadata:
  name: cert-manager
---
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata:
  name: cert-manager
  namespace: kube-system
spec:
  repo: https://charts.jetstack.io
  chart: cert-manager
  version: v1.16.2
  targetNamespace: cert-manager
  valuesContent: |-
    crds:
      enabled: true
`;

/** Like K3s's packaged traefik.yaml: a chart served from static/charts, no version needed. */
export const TRAEFIK_YAML = `apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata:
  name: traefik
  namespace: kube-system
spec:
  chart: https://%{KUBERNETES_API}%/static/charts/traefik-34.2.1+up34.2.0.tgz
  set:
    global.systemDefaultRegistry: "%{SYSTEM_DEFAULT_REGISTRY_RAW}%"
`;

/** A packaged manifest disabled with `.skip`: K3s does not apply it, so neither is it audited. */
export const LOCAL_STORAGE_YAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: local-path-provisioner
  namespace: kube-system
spec:
  template:
    spec:
      containers:
        - name: local-path-provisioner
          image: "%{SYSTEM_DEFAULT_REGISTRY}%rancher/local-path-provisioner:v0.0.30"
`;

export const POLICY_YAML = `apiVersion: k3sguard.dev/v1
kind: ImagePolicy
images:
  allowedRegistries:
    - registry.example.com:5000
    - docker.io
  requireDigest: true
`;

export const policy = (): ImagePolicy => parseImagePolicy('policy.yaml', POLICY_YAML);

export const CHART = 'var/lib/rancher/k3s/server/static/charts/traefik-34.2.1+up34.2.0.tgz';
export const AIRGAP = 'var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst';
export const MANIFESTS = 'var/lib/rancher/k3s/server/manifests';

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'k3sg-node-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Write `text` at node path `rel` (no leading slash) under `root`. */
export function put(root: string, rel: string, text: string | Buffer, mode = 0o644): string {
  const path = join(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

/** A real gzip'd tar (a chart) or zstd'd tar (an airgap tarball) of one small file. */
function tarball(root: string, rel: string, inner: string, compress: 'gzip' | 'zstd'): void {
  const work = mkdtempSync(join(tmpdir(), 'k3sg-tar-'));
  try {
    put(work, inner, `# ${basename(rel)}\nname: ${basename(inner)}\n`);
    const out = join(root, rel);
    mkdirSync(dirname(out), { recursive: true });
    const flag = compress === 'gzip' ? '--gzip' : '--zstd';
    execFileSync('tar', [
      '-c',
      flag,
      '--mtime=2025-01-01',
      '--owner=0',
      '--group=0',
      '-f',
      out,
      '-C',
      work,
      inner.split('/')[0] as string,
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The configuration and what K3s deploys of a well-configured server node (no binary). */
export function goodNode(root: string): void {
  put(root, 'etc/rancher/k3s/registries.yaml', REGISTRIES_YAML, 0o600);
  put(root, 'etc/rancher/k3s/config.yaml', CONFIG_YAML, 0o600);
  put(root, 'etc/rancher/k3s/config.yaml.d/50-labels.yaml', CONFIG_DROPIN, 0o600);
  put(root, 'etc/systemd/system/k3s.service', unitFile());
  put(root, `${MANIFESTS}/podinfo.yaml`, PODINFO_YAML, 0o600);
  put(root, `${MANIFESTS}/cert-manager.yaml`, CERT_MANAGER_YAML, 0o600);
  put(root, `${MANIFESTS}/traefik.yaml`, TRAEFIK_YAML, 0o600);
  put(root, `${MANIFESTS}/local-storage.yaml`, LOCAL_STORAGE_YAML, 0o600);
  put(root, `${MANIFESTS}/local-storage.yaml.skip`, '', 0o600);
  tarball(root, CHART, 'traefik/Chart.yaml', 'gzip');
  tarball(root, AIRGAP, 'manifest.json', 'zstd');
  put(root, 'var/lib/rancher/k3s/agent/images/k3s-images.txt', 'docker.io/rancher/mirrored-pause:3.6\n');
}

export function sha256Of(path: string): { sha256: string; size: number } {
  const bytes = readFileSync(path);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

/** A lock holding the digests of `rels` (node paths) as they are now: what `lock add` would record. */
export function lockOf(root: string, rels: string[]): Lockfile {
  return {
    schema: LOCK_SCHEMA,
    artifacts: rels.map((rel) => ({
      name: basename(rel),
      ...sha256Of(join(root, rel)),
      sources: [{ name: 'review' }],
    })),
  };
}

export const LOCKED_FILES = [
  `${MANIFESTS}/podinfo.yaml`,
  `${MANIFESTS}/cert-manager.yaml`,
  `${MANIFESTS}/traefik.yaml`,
  CHART,
  AIRGAP,
];

export async function k3sBinary(
  t: { skip: (m: string) => void },
  variant: K3sShapedVariant = 'good',
): Promise<K3sShaped | undefined> {
  const f = await k3sShaped(variant);
  if ('skip' in f) {
    t.skip(f.skip);
    return undefined;
  }
  return f;
}

/** Extract the bundle embedded in `k3s` (its frame) to data/<name>, as K3s does at start. */
export function extractBundle(root: string, k3s: K3sShaped, name = k3s.bundleHash): string {
  const rel = `var/lib/rancher/k3s/data/${name}`;
  const data = join(root, rel);
  mkdirSync(data, { recursive: true });
  execFileSync('bash', [
    '-c',
    `tail -c +${k3s.frame.offset + 1} "$0" | head -c ${k3s.frame.length} | zstd -dc --long=25 | tar -x -C "$1"`,
    k3s.path,
    data,
  ]);
  return rel;
}

/** Install the binary at /usr/local/bin/k3s and its extracted bundle, data/current pointing at it. */
export function installK3s(root: string, k3s: K3sShaped, binary: K3sShaped = k3s): void {
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  chmodSync(join(root, 'usr/local/bin'), 0o755);
  copyFileSync(binary.path, join(root, 'usr/local/bin/k3s'));
  chmodSync(join(root, 'usr/local/bin/k3s'), 0o755);
  const rel = extractBundle(root, k3s);
  // K3s writes an absolute link; inside --root it must resolve inside the root.
  symlinkSync(`/${rel}`, join(root, 'var/lib/rancher/k3s/data/current'));
}
