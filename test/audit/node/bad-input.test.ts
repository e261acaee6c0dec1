// Hostile or broken node files: each is a per-file problem and the rest of the audit goes on.
// Symlinks resolve inside the root, as in a chroot: a mounted node image cannot make the audit
// read the files of the machine running it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditNode } from '../../../src/audit/node/index.ts';
import { isInputError } from '../../../src/model/errors.ts';
import {
  CONFIG_YAML,
  goodNode,
  LOCKED_FILES,
  lockOf,
  MANIFESTS,
  policy,
  put,
  REGISTRIES_YAML,
  tempDir,
} from './node-fixtures.ts';

const REGISTRIES = 'etc/rancher/k3s/registries.yaml';
const CONFIG = 'etc/rancher/k3s/config.yaml';
const EMBEDDED = `${CONFIG_YAML}embedded-registry: true\n`;

test('invalid YAML: a problem with line and column; the other files are still audited', async (t) => {
  const root = tempDir(t);
  goodNode(root);
  put(root, REGISTRIES, 'mirrors:\n  docker.io:\n    endpoint: ["https://registry.example.com:5000"\n', 0o600);
  put(root, CONFIG, EMBEDDED, 0o600);
  put(
    root,
    `${MANIFESTS}/broken.yaml`,
    'apiVersion: v1\nkind: ConfigMap\n---\nkind: [unclosed\n---\nkind: Pod\nspec:\n  containers:\n    - image: nginx:1.27\n',
  );
  const r = await auditNode(root, { policy: policy() });
  assert.deepEqual(
    r.problems.map((p) => `${p.file} ${p.kind}`),
    [`${REGISTRIES} invalid-yaml`, `${MANIFESTS}/broken.yaml invalid-yaml`],
  );
  assert.match(r.problems[0]?.message ?? '', /^not valid YAML at \d+:\d+: /);
  // The documents of broken.yaml that parse are still checked.
  assert.deepEqual(
    r.findings.map((f) => `${f.id} ${f.region?.file}:${f.region?.line}`),
    [`K3SG-NODE-CONFIG-EMBEDDED-REGISTRY ${CONFIG}:10`, `K3SG-NODE-MANIFEST-IMAGE-TAG ${MANIFESTS}/broken.yaml:9`],
  );
});

test('binary content, a file over the size limit, a FIFO and a directory: problems, not crashes or hangs', async (t) => {
  const root = tempDir(t);
  goodNode(root);
  const lock = lockOf(root, LOCKED_FILES);
  put(root, CONFIG, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]), 0o600);
  put(root, `${CONFIG}.d/60-latin1.yaml`, Buffer.from('node-name: n\xe9ud\n', 'latin1'), 0o600);
  put(root, `${MANIFESTS}/huge.yaml`, `# ${'x'.repeat(5000)}\nkind: Pod\n`);
  rmSync(join(root, REGISTRIES));
  execFileSync('mkfifo', [join(root, REGISTRIES)]);
  rmSync(join(root, 'etc/systemd/system/k3s.service'));
  mkdirSync(join(root, 'etc/systemd/system/k3s.service'));
  const r = await auditNode(root, { policy: policy(), lock, maxFileSize: 4096 });
  assert.deepEqual(
    r.problems.map((p) => `${p.file} ${p.kind}`),
    [
      `${CONFIG} binary`,
      `${CONFIG}.d/60-latin1.yaml binary`,
      `${REGISTRIES} unreadable`,
      'etc/systemd/system/k3s.service unreadable',
      `${MANIFESTS}/huge.yaml too-large`,
    ],
  );
  // Too large to read as YAML, yet K3s would apply it: it is still hashed and held to the lock.
  assert.deepEqual(
    r.findings.map((f) => `${f.id} ${f.region?.file}`),
    [`K3SG-NODE-MANIFEST-UNLOCKED ${MANIFESTS}/huge.yaml`],
  );
  assert.ok(r.filesAudited.includes(`${MANIFESTS}/podinfo.yaml`));
});

test('symlink loops: a looping file link and a directory linked back to its parent', async (t) => {
  const root = tempDir(t);
  goodNode(root);
  rmSync(join(root, CONFIG));
  symlinkSync('config-b.yaml', join(root, CONFIG));
  symlinkSync('config.yaml', join(root, 'etc/rancher/k3s/config-b.yaml'));
  symlinkSync('..', join(root, MANIFESTS, 'again'));
  const r = await auditNode(root, { policy: policy() });
  assert.deepEqual(
    r.problems.map((p) => `${p.file} ${p.kind}`),
    // again -> .. is server/, whose manifests/ is the directory being walked.
    [`${CONFIG} symlink-loop`, `${MANIFESTS}/again/manifests symlink-loop`],
  );
  assert.deepEqual(r.findings, []);
  assert.ok(r.filesAudited.includes(REGISTRIES));
});

test('symlinks never leave the root: /etc/rancher -> /../../outside stays inside it', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'node');
  mkdirSync(root);
  // Outside the root: a registries.yaml that would fire if it were read.
  put(
    dir,
    'outside/k3s/registries.yaml',
    REGISTRIES_YAML.replace('      ca_file:', '      insecure_skip_verify: true\n      ca_file:'),
    0o600,
  );
  mkdirSync(join(root, 'etc'));
  symlinkSync('/../../outside', join(root, 'etc/rancher'));
  const escaped = await auditNode(root, {});
  assert.deepEqual(escaped.findings, []);
  assert.deepEqual(escaped.filesAudited, []);
  // The same link target, seen from inside the root, is the root's own /outside.
  put(
    root,
    'outside/k3s/registries.yaml',
    `${REGISTRIES_YAML}`.replace('ca_file: /etc', 'insecure_skip_verify: true\n      ca_file: /etc'),
    0o600,
  );
  const inside = await auditNode(root, {});
  assert.deepEqual(
    inside.findings.map((f) => `${f.id} ${f.region?.file}`),
    [`K3SG-NODE-REGISTRY-INSECURE-TLS ${REGISTRIES}`],
  );
  assert.deepEqual(inside.filesAudited, [REGISTRIES]);
});

test('a root that is not there is an input error; a root without K3s files is a problem, not a clean node', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(auditNode(join(dir, 'missing')), (e) => isInputError(e) && e.code === 'NOT_FOUND');
  const empty = await auditNode(dir, { policy: policy() });
  assert.deepEqual([empty.findings, empty.filesAudited], [[], []]);
  assert.deepEqual(
    empty.problems.map((p) => `${p.file} ${p.kind}`),
    ['. not-found'],
  );
  assert.match(empty.problems[0]?.message ?? '', /no K3s node file .* is it the root of a K3s node\?/);
});
