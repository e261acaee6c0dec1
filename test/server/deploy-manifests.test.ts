// deploy/kubernetes/server.yaml (SQLite, one replica) and server-postgres.yaml (several replicas
// on PostgreSQL): what each promises (non-root, read-only root, no capabilities, resources,
// probes, TLS from a Secret, the claim or the database Secret), `audit iac` clean, accepted by
// the release's renderer; then the container's own args, as the kubelet would run them (env
// `$(VAR)` expanded, each mount a temp dir), start the real server and answer its probes over
// HTTPS; on PostgreSQL two such replicas share one private database. Only `--listen` is changed
// (127.0.0.1:0: a fixed port may be taken here) and `--db-update-every` left out (it downloads
// OSV's export at start, and this machine reaches no such host).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { DIGEST_PLACEHOLDER, renderDeploy } from '../../tools/release-deploy.ts';
import { k3sguard, tempDir } from '../cli/run.ts';
import { loopbackCertificate } from '../fixtures/loopback-cert.ts';
import { hasTool } from '../fixtures/tools.ts';
import { freshDatabase, postgresSkip } from './fixtures.ts';
import { startServerProcess } from './server-process.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const IMAGE = `docker.io/library/k3sguard:${PKG.version}`;
const SQLITE = 'deploy/kubernetes/server.yaml';
const POSTGRES = 'deploy/kubernetes/server-postgres.yaml';

interface Probe {
  httpGet: { path: string; port: string; scheme?: string };
}
interface Container {
  name: string;
  image: string;
  args: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  ports: Array<{ name: string; containerPort: number }>;
  startupProbe?: Probe;
  readinessProbe: Probe;
  livenessProbe: Probe;
  securityContext: {
    allowPrivilegeEscalation: boolean;
    privileged?: boolean;
    readOnlyRootFilesystem: boolean;
    capabilities: { drop: string[]; add?: string[] };
  };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface Volume {
  name: string;
  secret?: { secretName: string };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: unknown;
}
// biome-ignore lint/suspicious/noExplicitAny: a parsed manifest, checked field by field below
type Doc = any;

function manifests(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(join(ROOT, file), 'utf8'));
  for (const d of docs) assert.deepEqual(d.errors, [], `${file}: YAML errors`);
  return docs.map((d) => d.toJS());
}

function one(docs: Doc[], kind: string): Doc {
  const found = docs.filter((d) => d?.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
}

/** What both variants promise of the server's pod and Service. */
function checkServerPod(file: string, docs: Doc[]): { container: Container; volumes: Volume[] } {
  const ns = one(docs, 'Namespace');
  assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted', `${file}: restricted namespace`);
  for (const d of docs.filter((x) => x.kind !== 'Namespace')) assert.equal(d.metadata.namespace, ns.metadata.name);
  const deployment = one(docs, 'Deployment');
  const labels = deployment.spec.template.metadata.labels;
  assert.deepEqual(deployment.spec.selector.matchLabels, labels);
  const pod = deployment.spec.template.spec;
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0, 'a non-root uid');
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0] as Container;
  assert.equal(c.image, `${IMAGE}@${DIGEST_PLACEHOLDER}`, `${file}: the release's image, by digest`);
  assert.equal(c.args[0], 'server');
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.notEqual(c.securityContext.privileged, true);
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
  for (const r of ['cpu', 'memory']) assert.ok(c.resources.requests[r] && c.resources.limits[r], `${file}: ${r}`);
  const portNames = c.ports.map((p) => p.name);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  for (const p of [c.startupProbe, c.readinessProbe, c.livenessProbe].filter((x) => x !== undefined)) {
    assert.ok(portNames.includes(p.httpGet.port), `probe port ${p.httpGet.port} is a container port`);
    assert.equal(p.httpGet.scheme, 'HTTPS', 'the server serves TLS: probes too');
  }
  const volumes = pod.volumes as Volume[];
  for (const m of c.volumeMounts)
    assert.ok(
      volumes.some((v) => v.name === m.name),
      `volume ${m.name}`,
    );
  const tls = volumes.find((v) => v.secret && c.args.includes(`--tls-cert=${mountOf(c, v.name)}/tls.crt`));
  assert.ok(tls, `${file}: --tls-cert and --tls-key from a mounted Secret`);
  assert.ok(c.args.includes(`--tls-key=${mountOf(c, tls.name)}/tls.key`));
  assert.ok(
    c.volumeMounts.some((m) => m.mountPath === '/tmp' && volumes.find((v) => v.name === m.name)?.emptyDir),
    'a writable /tmp under a read-only root',
  );
  const service = one(docs, 'Service');
  assert.deepEqual(service.spec.selector, labels);
  for (const p of service.spec.ports) assert.ok(portNames.includes(p.targetPort), `Service targets ${p.targetPort}`);
  return { container: c, volumes };
}

function mountOf(c: Container, volume: string): string {
  const m = c.volumeMounts.find((x) => x.name === volume);
  assert.ok(m, `a mount of ${volume}`);
  return m.mountPath;
}

test('server.yaml: one replica on SQLite, Recreate, its database on a claim', () => {
  const docs = manifests(SQLITE);
  const { container, volumes } = checkServerPod(SQLITE, docs);
  const deployment = one(docs, 'Deployment');
  assert.equal(deployment.spec.replicas, 1);
  assert.equal(deployment.spec.strategy.type, 'Recreate');
  const claim = one(docs, 'PersistentVolumeClaim');
  const data = volumes.find((v) => v.persistentVolumeClaim?.claimName === claim.metadata.name);
  assert.ok(data, 'the claim is mounted');
  const db = container.args.find((a) => a.startsWith('--db=sqlite:'));
  assert.ok(db?.startsWith(`--db=sqlite:${mountOf(container, data.name)}/`), 'the SQLite file is on the claim');
  const vulndb = container.args.find((a) => a.startsWith('--vuln-db='));
  assert.ok(vulndb?.startsWith(`--vuln-db=${mountOf(container, data.name)}/`), 'the vulnerability database too');
});

test('server-postgres.yaml: several replicas rolled with none down, the URL from a Secret, no claim', () => {
  const docs = manifests(POSTGRES);
  const { container } = checkServerPod(POSTGRES, docs);
  const deployment = one(docs, 'Deployment');
  assert.ok(deployment.spec.replicas >= 2);
  assert.equal(deployment.spec.strategy.type, 'RollingUpdate');
  assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
  assert.equal(docs.filter((d) => d.kind === 'PersistentVolumeClaim').length, 0);
  const vulndb = container.args.find((a) => a.startsWith('--vuln-db='))?.slice('--vuln-db='.length) ?? '';
  const mount = container.volumeMounts.find((m) => vulndb.startsWith(`${m.mountPath}/`));
  assert.ok(mount && !mount.readOnly, 'each replica updates its vulnerability database on a writable volume');
  assert.ok(container.args.includes('--db=$(K3SGUARD_DB_URL)'));
  const env = container.env?.find((e) => e.name === 'K3SGUARD_DB_URL');
  assert.ok(env?.valueFrom?.secretKeyRef, 'the URL (with its password) only in a Secret');
  const budget = one(docs, 'PodDisruptionBudget');
  assert.deepEqual(budget.spec.selector.matchLabels, deployment.spec.template.metadata.labels);
  assert.ok(budget.spec.maxUnavailable < deployment.spec.replicas, 'a drain leaves replicas serving');
});

test('audit iac is clean for both, and the release renders them pinned to the image digest', (t) => {
  const r = k3sguard(['audit', 'iac', SQLITE, POSTGRES], { cwd: ROOT });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /2 file\(s\) audited, no findings/);
  const out = join(tempDir(t), 'k3sguard-deploy.yaml');
  const digest = `sha256:${'ab'.repeat(32)}`;
  renderDeploy(join(ROOT, 'deploy'), IMAGE, digest, out);
  const rendered = readFileSync(out, 'utf8');
  assert.ok(rendered.includes(`# ${SQLITE}\n`) && rendered.includes(`# ${POSTGRES}\n`));
  const servers = parseAllDocuments(rendered)
    .map((d) => d.toJS())
    .filter((d) => d?.kind === 'Deployment' && d.metadata?.name === 'k3sguard-server');
  assert.equal(servers.length, 2);
  for (const s of servers) assert.equal(s.spec.template.spec.containers[0].image, `${IMAGE}@${digest}`);
});

/** The container's args as the kubelet runs them: `$(NAME)` from env, each mount path moved under `root`. */
function kubeletArgs(c: Container, env: Record<string, string>, root: string): string[] {
  const mounts = c.volumeMounts.map((m) => m.mountPath).sort((a, b) => b.length - a.length);
  return c.args
    .slice(1) // `server`: the test runs the CLI's server command itself
    .filter((a) => !a.startsWith('--listen=') && !a.startsWith('--db-update-every='))
    .map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, name: string) => env[name] ?? `$(${name})`))
    .map((a) => {
      const m = mounts.find((p) => a.includes(`=${p}/`) || a.includes(`:${p}/`));
      return m ? a.replace(m, join(root, m)) : a;
    });
}

function getStatus(url: string, ca: Buffer): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = request(url, { ca, timeout: 30_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 30 s`)));
    req.end();
  });
}

/** The TLS Secret as `kubectl create secret tls` makes it: tls.crt and tls.key in the mounted dir. */
function tlsSecret(dir: string): Buffer {
  return readFileSync(loopbackCertificate(dir, { cert: 'tls.crt', key: 'tls.key' }).cert);
}

async function probeAll(c: Container, url: string, ca: Buffer): Promise<void> {
  for (const p of [c.startupProbe, c.readinessProbe, c.livenessProbe].filter((x) => x !== undefined)) {
    assert.equal(await getStatus(`${url}${p.httpGet.path}`, ca), 200, p.httpGet.path);
  }
}

test("server.yaml's container args start the server on its claim and answer its probes", async (t) => {
  if (!hasTool('openssl')) return t.skip('openssl is not installed (apt-get install openssl)');
  const { container: c, volumes } = checkServerPod(SQLITE, manifests(SQLITE));
  const root = tempDir(t);
  const ca = tlsSecret(join(root, mountOf(c, volumes.find((v) => v.secret)?.name as string)));
  const dataDir = join(root, mountOf(c, volumes.find((v) => v.persistentVolumeClaim)?.name as string));
  const server = await startServerProcess(kubeletArgs(c, {}, root));
  t.after(() => server.stop());
  assert.match(server.url, /^https:/);
  await probeAll(c, server.url, ca);
  assert.ok(existsSync(join(dataDir, 'fleet.sqlite')), 'the database is on the claim');
  assert.equal(await server.stop(), 0, 'SIGTERM (what Recreate sends): a clean exit');
});

test("server-postgres.yaml's container args: two replicas on one database answer their probes", async (t) => {
  if (!hasTool('openssl')) return t.skip('openssl is not installed (apt-get install openssl)');
  const skip = postgresSkip();
  if (skip) return t.skip(skip);
  const { container: c, volumes } = checkServerPod(POSTGRES, manifests(POSTGRES));
  const root = tempDir(t);
  const ca = tlsSecret(join(root, mountOf(c, volumes.find((v) => v.secret)?.name as string)));
  const { text: url } = await freshDatabase('postgres');
  const args = kubeletArgs(c, { K3SGUARD_DB_URL: url }, root);
  assert.ok(args.includes(`--db=${url}`));
  const replicas = await Promise.all([startServerProcess(args), startServerProcess(args)]);
  t.after(() => Promise.all(replicas.map((r) => r.stop())));
  for (const r of replicas) await probeAll(c, r.url, ca);
  for (const r of replicas) assert.equal(await r.stop(), 0);
});
