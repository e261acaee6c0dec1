// Bad input is reported per file and the rest of the audit completes: invalid YAML (one bad
// document of several too), binary files, files over the size limit, dangling links, symlink
// loops (file links and a directory linking to its ancestor). Exit 2 only when nothing at all
// could be audited.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditIac } from '../../../src/audit/iac/index.ts';
import { k3sguard, tempDir } from '../../cli/run.ts';

test('each bad file is a problem of its kind; the good file is still audited', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'ok.sh'), '#!/bin/sh\ncurl -sfL https://get.k3s.io | sh -\n');
  writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Pod\nspec: [unclosed\n');
  writeFileSync(
    join(dir, 'multi.yaml'),
    'apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, image: busybox}]\n---\nkey: "unterminated\n',
  );
  writeFileSync(join(dir, 'blob.sh'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]));
  writeFileSync(join(dir, 'latin1.yaml'), Buffer.from('name: caf\xe9\n', 'latin1'));
  writeFileSync(join(dir, 'huge.sh'), `#!/bin/sh\n${'echo x\n'.repeat(20_000)}`);
  symlinkSync('missing-target.sh', join(dir, 'dangling.sh'));
  symlinkSync('loop-b.sh', join(dir, 'loop-a.sh'));
  symlinkSync('loop-a.sh', join(dir, 'loop-b.sh'));
  mkdirSync(join(dir, 'sub'));
  symlinkSync('..', join(dir, 'sub', 'up'));
  writeFileSync(join(dir, 'picture.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0]));
  const r = await auditIac([dir], { root: dir, maxFileSize: 64 * 1024, workers: 0 });
  assert.deepEqual(
    r.problems.map((p) => `${p.file} ${p.kind}`),
    [
      'blob.sh binary',
      'broken.yaml invalid-yaml',
      'dangling.sh unreadable',
      'huge.sh too-large',
      'latin1.yaml binary',
      'loop-a.sh symlink-loop',
      'loop-b.sh symlink-loop',
      'multi.yaml invalid-yaml',
      'sub/up symlink-loop',
    ],
  );
  assert.match(r.problems.find((p) => p.file === 'broken.yaml')?.message ?? '', /^4:1: Flow sequence/);
  assert.deepEqual(r.filesAudited, ['broken.yaml', 'multi.yaml', 'ok.sh']);
  // The good document of multi.yaml is still checked; every file not (fully) audited is a
  // finding, but a symlink loop, which has no content of its own, is not.
  assert.deepEqual(
    r.findings.map((f) => `${f.region?.file}:${f.region?.line} ${f.id}`),
    [
      'blob.sh:1 K3SG-IAC-NOT-AUDITED',
      'broken.yaml:1 K3SG-IAC-NOT-AUDITED',
      'dangling.sh:1 K3SG-IAC-NOT-AUDITED',
      'huge.sh:1 K3SG-IAC-NOT-AUDITED',
      'latin1.yaml:1 K3SG-IAC-NOT-AUDITED',
      'multi.yaml:1 K3SG-IAC-NOT-AUDITED',
      'multi.yaml:4 K3SG-IAC-IMAGE-TAG',
      'ok.sh:2 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
      'ok.sh:2 K3SG-IAC-INSTALL-UNPINNED',
    ],
  );
  assert.match(
    r.findings.find((f) => f.region?.file === 'huge.sh')?.message ?? '',
    /^huge\.sh was not audited \(too-large\): \d+ bytes, over the 65536-byte limit/,
  );
});

test('a file that cannot be opened is a problem (skipped as root, who can read anything)', async (t) => {
  if (process.getuid?.() === 0) return t.skip('running as root: permissions do not stop reads');
  const dir = tempDir(t);
  writeFileSync(join(dir, 'secret.sh'), 'echo\n');
  chmodSync(join(dir, 'secret.sh'), 0);
  const r = await auditIac([dir], { root: dir, workers: 0 });
  assert.deepEqual(
    r.problems.map((p) => p.kind),
    ['unreadable'],
  );
});

test('CLI: exit 2 only when nothing could be audited, 1 with findings (a file not audited is one), 0 clean', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'bad.yaml'), 'a: [\n');
  writeFileSync(join(dir, 'ok.sh'), '#!/bin/sh\necho hello\n');
  let r = k3sguard(['audit', 'iac', join(dir, 'nope'), join(dir, 'also-nope')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /nothing could be audited/);
  r = k3sguard(['audit', 'iac', dir, '--fail-on', 'high']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /bad\.yaml {2}invalid-yaml/);
  assert.match(r.stdout, /bad\.yaml:1:1 {2}HIGH {2}K3SG-IAC-NOT-AUDITED/);
  // Waived by path in the policy (a file known not to be what its name says): 0 again.
  const policy = join(dir, 'policy.yml');
  writeFileSync(
    policy,
    'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  allowedRegistries: [docker.io]\naudit:\n  waivers:\n    - rule: K3SG-IAC-NOT-AUDITED\n      path: bad.yaml\n      reason: a fixture of broken YAML\n',
  );
  r = k3sguard(['audit', 'iac', dir, '--policy', policy]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM alpine:3.20\n');
  r = k3sguard(['audit', 'iac', dir, '--policy', policy, '--fail-on', 'high']);
  assert.equal(r.code, 0, 'a medium finding is under --fail-on high');
  r = k3sguard(['audit', 'iac', dir, '--policy', policy, '--fail-on', 'medium']);
  assert.equal(r.code, 1);
});

test('a file named outside the working directory is reported by its name, not as "."', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'install.sh'), '#!/bin/sh\ncurl -sfL https://get.k3s.io | sh -\n');
  // The tests run from the repository; the temp dir is elsewhere.
  const r = k3sguard(['audit', 'iac', '--format', 'json', join(dir, 'install.sh')]);
  assert.equal(r.code, 1, r.stderr);
  const files = new Set(JSON.parse(r.stdout).findings.map((f: { location: string[] }) => f.location[0]));
  assert.deepEqual([...files], ['install.sh']);
});
