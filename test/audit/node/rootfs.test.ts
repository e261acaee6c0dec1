// NodeRoot's walk on a real directory (the shared resolver of io/rooted-path.ts over lstat):
// where a path stays inside, it ends where the kernel's realpath(3) does; where the kernel would
// leave the root, it stays at the root, as in a chroot.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NodeRoot } from '../../../src/audit/node/rootfs.ts';

test('paths that stay inside resolve where realpath says; loops and escapes do not leave the root', (t) => {
  const base = mkdtempSync(join(tmpdir(), 'k3sg-rooted-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'usr/lib/os-release'), 'ID=test\n');
  writeFileSync(join(base, 'host-secret'), 'outside\n');
  symlinkSync('../usr/lib/os-release', join(root, 'etc/os-release'));
  symlinkSync('usr/lib', join(root, 'lib'));
  symlinkSync('../host-secret', join(root, 'climb'));
  symlinkSync('/usr/lib', join(root, 'abs'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  const node = new NodeRoot(root);
  for (const path of [
    'etc/os-release',
    'lib/../../etc/os-release',
    'lib/../lib/os-release',
    'lib/os-release',
    'usr/./lib',
  ]) {
    const r = node.resolve(path);
    assert.equal(r.kind, 'found', path);
    if (r.kind === 'found') assert.equal(r.host, realpathSync.native(`${root}/${path}`), path);
  }
  // The kernel would leave the root here; the walk stays at it, as in a chroot.
  assert.deepEqual(node.resolve('climb'), { kind: 'absent' });
  const abs = node.resolve('/abs/os-release');
  assert.equal(abs.kind === 'found' && abs.rel, 'usr/lib/os-release');
  const loop = node.resolve('loop1');
  assert.equal(loop.kind === 'problem' && loop.problem.kind, 'symlink-loop');
  assert.deepEqual(node.resolve('usr/lib/os-release/x'), { kind: 'absent' });
  assert.deepEqual(node.resolve('usr/lib/os-release/..'), { kind: 'absent' });
});
