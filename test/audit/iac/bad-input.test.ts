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
  // The good document of multi.yaml is still checked.
  assert.deepEqual(
    r.findings.map((f) => `${f.region?.file}:${f.region?.line} ${f.id}`),
    [
      'multi.yaml:4 K3SG-IAC-IMAGE-TAG',
      'ok.sh:2 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
      'ok.sh:2 K3SG-IAC-INSTALL-UNPINNED',
    ],
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

test('CLI: exit 2 only when nothing could be audited, 1 with findings, 0 clean', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'bad.yaml'), 'a: [\n');
  writeFileSync(join(dir, 'ok.sh'), '#!/bin/sh\necho hello\n');
  let r = k3sguard(['audit', 'iac', join(dir, 'nope'), join(dir, 'also-nope')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /nothing could be audited/);
  r = k3sguard(['audit', 'iac', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /bad\.yaml {2}invalid-yaml/);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM alpine:3.20\n');
  r = k3sguard(['audit', 'iac', dir, '--fail-on', 'high']);
  assert.equal(r.code, 0, 'a medium finding is under --fail-on high');
  r = k3sguard(['audit', 'iac', dir, '--fail-on', 'medium']);
  assert.equal(r.code, 1);
});
