// A clean K3s node and the same node compromised, for `ir diff` and `ir playbook`: built from
// the K3s-shaped fixture (a real Go wrapper embedding a real bundle, extracted as K3s does), a
// real containerd, and a proc tree whose /proc/<pid>/exe links point at the node's executables
// (what the kernel shows; the process check reads nothing else). The compromise: the binary
// replaced by one whose bundle carries another runc (extracted and made current), one image
// re-pointed to other content, a manifest added, an insecure registry setting, and processes
// running the replaced executables.
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { tarChunks } from '../../src/io/tar-writer.ts';
import { extractBundle, goodNode, installK3s, put, REGISTRIES_YAML } from '../audit/node/node-fixtures.ts';
import { k3sguard } from '../cli/run.ts';
import type { K3sShaped } from '../fixtures/k3s-shaped.ts';

export const DATA = 'var/lib/rancher/k3s';
export const PAUSE = 'docker.io/rancher/mirrored-pause:3.6';
export const EVIL_MANIFEST = `${DATA}/server/manifests/zz-helper.yaml`;
export const EVIL_YAML = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-helper
  namespace: kube-system
spec:
  selector:
    matchLabels: {app: node-helper}
  template:
    metadata:
      labels: {app: node-helper}
    spec:
      hostPID: true
      containers:
        - name: helper
          image: docker.io/attacker/helper:latest
          securityContext: {privileged: true}
`;
export function orgKeys(dir: string): { key: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'org.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'org.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  return { key: join(dir, 'org.pem'), pub: join(dir, 'org.pub') };
}

/** A process in the fake proc tree: its comm, and /proc/<pid>/exe linking to `exe` (a host path). */
export function fakeProcess(proc: string, pid: number, comm: string, exe: string): void {
  mkdirSync(join(proc, String(pid)), { recursive: true });
  writeFileSync(join(proc, String(pid), 'comm'), `${comm}\n`);
  symlinkSync(exe, join(proc, String(pid), 'exe'));
}

export function cleanNode(root: string, proc: string, good: K3sShaped): void {
  goodNode(root);
  installK3s(root, good);
  fakeProcess(proc, 100, 'k3s-server', join(root, 'usr/local/bin/k3s'));
  fakeProcess(proc, 300, 'runc', join(root, DATA, 'data', good.bundleHash, 'bin/runc'));
}

/** The clean node, then the compromise, in place. */
export function compromise(root: string, proc: string, good: K3sShaped, bad: K3sShaped): void {
  execFileSync('cp', [bad.path, join(root, 'usr/local/bin/k3s')]);
  extractBundle(root, bad);
  rmSync(join(root, DATA, 'data/current'));
  symlinkSync(`/${DATA}/data/${bad.bundleHash}`, join(root, DATA, 'data/current'));
  symlinkSync(`/${DATA}/data/${good.bundleHash}`, join(root, DATA, 'data/previous'));
  put(root, EVIL_MANIFEST, EVIL_YAML, 0o600);
  const registries = readFileSync(join(root, 'etc/rancher/k3s/registries.yaml'), 'utf8');
  if (registries !== REGISTRIES_YAML) throw new Error('registries.yaml is not the fixture');
  put(
    root,
    'etc/rancher/k3s/registries.yaml',
    registries.replace('    tls:\n', '    tls:\n      insecure_skip_verify: true\n'),
    0o600,
  );
  rmSync(proc, { recursive: true, force: true });
  fakeProcess(proc, 100, 'k3s-server', join(root, 'usr/local/bin/k3s'));
  fakeProcess(proc, 300, 'runc', join(root, DATA, 'data', bad.bundleHash, 'bin/runc'));
}

/** The agent's state after it saw the compromise: one finding standing since `firstSeen`. */
export function agentSaw(root: string, firstSeen: string): void {
  const finding = {
    id: 'K3SG-PROCESS-EXE-MODIFIED',
    severity: 'critical',
    title: 'process runs a modified executable',
    message: 'runc (pid 300) runs a modified executable',
    location: ['/var/lib/rancher/k3s/data'],
  };
  put(
    root,
    'var/lib/k3sguard/state.json',
    `${JSON.stringify({
      schema: 'k3sguard/agent-state@1',
      lastCheck: '2026-12-03T10:05:00.000Z',
      findings: [{ key: 'k1', source: 'processes', firstSeen, lastSeen: '2026-12-03T10:05:00.000Z', finding }],
      pending: [],
    })}\n`,
    0o600,
  );
  // One event waiting in the outbox for the webhook, as the agent writes it (docs/agent.md).
  const body = JSON.stringify({
    schema: 'k3sguard/event@1',
    id: 'e1',
    type: 'finding',
    status: 'new',
    time: firstSeen,
    finding,
  });
  const payload = Buffer.from(
    JSON.stringify({ id: 'e1', channel: 'webhook', kind: 'event', enqueuedAt: firstSeen, body }),
  );
  const header = `k3sguard-outbox/1 ${payload.length} ${createHash('sha256').update(payload).digest('hex')}\n`;
  put(
    root,
    'var/lib/k3sguard/outbox/webhook/00000000000000001.msg',
    Buffer.concat([Buffer.from(header), payload]),
    0o600,
  );
}

export function collect(
  root: string,
  proc: string,
  socket: string,
  key: string,
  out: string,
  ...extra: string[]
): void {
  const r = k3sguard([
    'ir',
    'collect',
    '--root',
    root,
    '--proc',
    proc,
    '--containerd-socket',
    socket,
    '-o',
    out,
    '--key',
    key,
    ...extra,
  ]);
  if (r.code !== 0) throw new Error(`ir collect: ${r.stderr}`);
}

/**
 * An evidence archive written directly (no node, no signature): a manifest listing `members`
 * with their digests, then the members, so `ir diff` and `ir playbook` read it as consistent.
 * For hostile contents a real node could not be made to hold.
 */
export function evidenceArchive(
  file: string,
  host: string,
  members: Record<string, Buffer>,
  /** What the manifest lists instead (a member changed after collection). */
  listed: Record<string, Buffer> = members,
): void {
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root' };
  const items = Object.entries(listed).map(([name, data]) => ({
    name,
    sha256: createHash('sha256').update(data).digest('hex'),
    size: data.length,
    source: 'test',
    collectedAt: '2026-12-03T00:00:00.000Z',
  }));
  const manifest = Buffer.from(
    JSON.stringify({
      schema: 'k3sguard/ir-evidence@1',
      tool: { name: 'k3sguard', version: '0.0.0' },
      host,
      root: '/',
      collectedAt: '2026-12-03T00:00:00.000Z',
      items,
    }),
  );
  const entries = [
    { type: 'file' as const, path: 'manifest.json', mode: 0o644, owner, data: manifest },
    ...Object.entries(members).map(([path, data]) => ({ type: 'file' as const, path, mode: 0o644, owner, data })),
  ];
  writeFileSync(file, zstdCompressSync(Buffer.concat([...tarChunks(entries, 0)])));
}
