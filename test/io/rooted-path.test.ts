// The one resolver of paths inside a root, over a small in-memory tree (as a bundle's member
// list or an image's file view is). On disk it is tested through NodeRoot
// (test/audit/node/rootfs.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type LeavingRoot, MAX_SYMLINK_HOPS, type RootedNode, resolveRooted } from '../../src/io/rooted-path.ts';

type Tree = Record<string, 'dir' | 'file' | { link: string }>;

/** A lookup over `tree` (clean path -> what it is); the root is a directory. */
function lookupIn(tree: Tree): (path: string) => RootedNode {
  return (path) => {
    if (path === '') return { kind: 'dir' };
    const e = tree[path];
    if (e === undefined) return { kind: 'missing' };
    if (e === 'dir') return { kind: 'dir' };
    if (e === 'file') return { kind: 'other' };
    return { kind: 'symlink', target: e.link };
  };
}

function walk(tree: Tree, path: string, leaving: LeavingRoot = 'clamp', followLast = true) {
  return resolveRooted(path, { lookup: lookupIn(tree), leaving, followLast });
}

const TREE: Tree = {
  etc: 'dir',
  'etc/os-release': { link: '../usr/lib/os-release' },
  usr: 'dir',
  'usr/lib': 'dir',
  'usr/lib/os-release': 'file',
  lib: { link: 'usr/lib' },
  abs: { link: '/usr/lib' },
  up: { link: '../../../usr' },
  dangling: { link: 'nothere/x' },
  a: { link: 'b' },
  b: { link: 'a' },
  self: { link: './self' },
  file: 'file',
};

describe('resolveRooted over a tree', () => {
  test('a chain of links in every component ends at the file', () => {
    assert.deepEqual(walk(TREE, 'lib/../../etc/os-release'), {
      kind: 'found',
      path: 'usr/lib/os-release',
      node: { kind: 'other' },
    });
    assert.deepEqual(walk(TREE, '/lib/./os-release'), {
      kind: 'found',
      path: 'usr/lib/os-release',
      node: { kind: 'other' },
    });
  });

  test('the root, `.` and `..` components', () => {
    assert.deepEqual(walk(TREE, ''), { kind: 'found', path: '', node: { kind: 'dir' } });
    assert.deepEqual(walk(TREE, '/./usr/../usr/lib/.'), { kind: 'found', path: 'usr/lib', node: { kind: 'dir' } });
    assert.deepEqual(walk(TREE, '..', 'clamp'), { kind: 'found', path: '', node: { kind: 'dir' } });
    assert.deepEqual(walk(TREE, '..', 'escape'), { kind: 'escape', at: '', how: 'above' });
  });

  test('escape or clamp: a link climbing above the root, an absolute target', () => {
    assert.deepEqual(walk(TREE, 'up/lib', 'clamp'), { kind: 'found', path: 'usr/lib', node: { kind: 'dir' } });
    assert.deepEqual(walk(TREE, 'up/lib', 'escape'), { kind: 'escape', at: 'up', how: 'above' });
    assert.deepEqual(walk(TREE, 'abs', 'clamp'), { kind: 'found', path: 'usr/lib', node: { kind: 'dir' } });
    assert.deepEqual(walk(TREE, 'abs/os-release', 'escape'), {
      kind: 'escape',
      at: 'abs',
      how: 'absolute',
      target: '/usr/lib',
    });
    // `..` back to the root is not leaving it.
    assert.equal(walk(TREE, 'etc/os-release', 'escape').kind, 'found');
  });

  test('loops: two links, a link to itself; a long chain just under the limit resolves', () => {
    assert.deepEqual(walk(TREE, 'a'), { kind: 'loop', at: 'a' });
    assert.deepEqual(walk(TREE, 'self/x'), { kind: 'loop', at: 'self' });
    const chain: Tree = { end: 'file' };
    for (let i = 0; i < MAX_SYMLINK_HOPS; i++)
      chain[`l${i}`] = { link: i === MAX_SYMLINK_HOPS - 1 ? 'end' : `l${i + 1}` };
    assert.deepEqual(walk(chain, 'l0'), { kind: 'found', path: 'end', node: { kind: 'other' } });
    chain.l00 = { link: 'l0' };
    assert.deepEqual(walk(chain, 'l00'), { kind: 'loop', at: `l${MAX_SYMLINK_HOPS - 1}` });
  });

  test('dangling links and missing components: the first missing one, and where the walk ended', () => {
    assert.deepEqual(walk(TREE, 'dangling'), { kind: 'missing', at: 'nothere', path: 'nothere/x' });
    assert.deepEqual(walk(TREE, 'usr/nope/../lib'), { kind: 'missing', at: 'usr/nope', path: 'usr/lib' });
    assert.deepEqual(walk(TREE, 'new/dir'), { kind: 'missing', at: 'new', path: 'new/dir' });
  });

  test('a file in the middle: not a directory, even before `..`', () => {
    assert.deepEqual(walk(TREE, 'file/x'), { kind: 'not-a-directory', at: 'file', path: 'file/x' });
    assert.deepEqual(walk(TREE, 'usr/lib/os-release/..'), {
      kind: 'not-a-directory',
      at: 'usr/lib/os-release',
      path: 'usr/lib',
    });
    // A trailing slash or `.` on a file: nothing goes on under it.
    assert.equal(walk(TREE, 'file/').kind, 'found');
    assert.equal(walk(TREE, 'file/.').kind, 'found');
  });

  test('followLast: false leaves a link in the last component (a trailing slash too), not in the middle', () => {
    assert.deepEqual(walk(TREE, 'lib', 'clamp', false), {
      kind: 'found',
      path: 'lib',
      node: { kind: 'symlink', target: 'usr/lib' },
    });
    assert.equal(walk(TREE, 'lib/', 'clamp', false).kind, 'found');
    assert.equal((walk(TREE, 'lib/', 'clamp', false) as { path: string }).path, 'lib');
    assert.deepEqual(walk(TREE, 'lib/os-release', 'clamp', false), {
      kind: 'found',
      path: 'usr/lib/os-release',
      node: { kind: 'other' },
    });
    assert.deepEqual(walk(TREE, 'a', 'clamp', false), {
      kind: 'found',
      path: 'a',
      node: { kind: 'symlink', target: 'b' },
    });
  });

  test('a lookup that fails ends the walk with its reason', () => {
    const failing = (path: string): RootedNode =>
      path === 'etc' ? { kind: 'unreadable', why: 'cannot read (EACCES)' } : lookupIn(TREE)(path);
    assert.deepEqual(resolveRooted('etc/os-release', { lookup: failing, leaving: 'clamp' }), {
      kind: 'unreadable',
      at: 'etc',
      why: 'cannot read (EACCES)',
    });
  });
});
