// Resolving a path inside a root the way the kernel resolves it, over any tree: a bundle's
// member list, an image's file view, or a directory on disk. The walk goes component by
// component and asks `lookup` what each prefix is, so the same rules (one hop limit, `.`,
// `..`, links in every component) hold whatever the tree is made of. What a link leaving the
// root means is the caller's choice: an escape to report (a bundle, which is extracted as it
// is) or the root itself (a chroot: an image, a node's file system).
//
// Components that do not exist, and components under a non-directory, are walked through as
// if they were empty directories, and the first one is reported with the path the walk
// reached: the image applier creates missing parents there (as containerd's RootPath does),
// and a bundle's dangling link still points inside the bundle.

/** Linux gives up after 40 symlinks (MAXSYMLINKS); so does every walk here. */
export const MAX_SYMLINK_HOPS = 40;

/** A symlink and its target as stored (relative to the link's directory, or absolute). */
export type RootedSymlink = { kind: 'symlink'; target: string };

/** What a root-relative path is, as `lstat` would say (a symlink is not followed). */
export type RootedNode =
  | { kind: 'dir' }
  | RootedSymlink
  /** A regular file, device, FIFO...: anything that is not a directory. */
  | { kind: 'other' }
  | { kind: 'missing' }
  /** The tree could not say (a read error on disk); `why` is the caller's own message. */
  | { kind: 'unreadable'; why: string };

/** How to treat a symlink that leads out of the root (`..` at the root, or an absolute target). */
export type LeavingRoot = 'escape' | 'clamp';

export interface RootedWalk<N extends RootedNode, L extends LeavingRoot> {
  /** The node at a clean root-relative path ('' is the root). */
  lookup: (path: string) => N;
  /** 'escape': the walk stops with an escape; 'clamp': `..` stays at the root, `/x` starts again there. */
  leaving: L;
  /** Follow a symlink in the last component too (default true); `lstat` does not. */
  followLast?: boolean;
}

export type RootedResolution<N extends RootedNode, L extends LeavingRoot = LeavingRoot> =
  /** Every component exists; `path` has no symlink left in it; `node` is what it is. */
  | { kind: 'found'; path: string; node: Exclude<N, { kind: 'missing' | 'unreadable' }> }
  /** `at` does not exist; `path` is where the walk ended, passing through it as an empty directory. */
  | { kind: 'missing'; path: string; at: string }
  /** `at` is not a directory but the path goes on under it; `path` as for missing. */
  | { kind: 'not-a-directory'; path: string; at: string }
  /** More than MAX_SYMLINK_HOPS symlinks; `at` is the link the walk gave up at. */
  | { kind: 'loop'; at: string }
  | Escape<L>
  | Unreadable<N>;

/**
 * The path leads out of the root: `above` it by `..` (`at`: the last link followed, '' for
 * none), or through the link `at` to an `absolute` target.
 */
export type RootedEscape =
  | { kind: 'escape'; at: string; how: 'above' }
  | { kind: 'escape'; at: string; how: 'absolute'; target: string };

/** Only a walk with leaving: 'escape' can end in one. */
type Escape<L extends LeavingRoot> = 'escape' extends L ? RootedEscape : never;

/** The lookup of `at` failed (only for trees whose lookup can fail). */
type Unreadable<N extends RootedNode> = [Extract<N, { kind: 'unreadable' }>] extends [never]
  ? never
  : { kind: 'unreadable'; at: string; why: string };

/**
 * Resolve `path` (split at `/`; a leading `/` is the root too) inside the root, following
 * symlinks in every component.
 */
export function resolveRooted<N extends RootedNode, L extends LeavingRoot>(
  path: string,
  walk: RootedWalk<N, L>,
): RootedResolution<N, L> {
  type Result = RootedResolution<N, L>;
  const followLast = walk.followLast ?? true;
  const root = walk.lookup('');
  const unreadable = (at: string, why: string) => ({ kind: 'unreadable', at, why }) as Result;
  const top: RootedNode = root;
  if (top.kind === 'unreadable') return unreadable('', top.why);
  // The resolved components and, in step, the node of each prefix (index 0: the root).
  const resolved: string[] = [];
  const nodes: N[] = [root];
  const queue = path.split('/');
  let blocked: { kind: 'missing' | 'not-a-directory'; at: string } | undefined;
  let hops = 0;
  let via = ''; // the last link followed: a `..` above the root comes from it
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (part === '' || part === '.') continue;
    const here = nodes[nodes.length - 1] as N;
    if (blocked === undefined && here.kind !== 'dir' && here.kind !== 'missing') {
      blocked = { kind: 'not-a-directory', at: resolved.join('/') };
    }
    if (part === '..') {
      if (resolved.length > 0) {
        resolved.pop();
        nodes.pop();
      } else if (walk.leaving === 'escape') {
        return { kind: 'escape', at: via, how: 'above' } as Result;
      }
      continue;
    }
    resolved.push(part);
    const at = resolved.join('/');
    const node = walk.lookup(at);
    const seen: RootedNode = node;
    if (seen.kind === 'unreadable') return unreadable(at, seen.why);
    if (seen.kind === 'symlink' && (followLast || !queue.every((p) => p === '' || p === '.'))) {
      if (++hops > MAX_SYMLINK_HOPS) return { kind: 'loop', at };
      via = at;
      resolved.pop();
      if (seen.target.startsWith('/')) {
        if (walk.leaving === 'escape') return { kind: 'escape', at, how: 'absolute', target: seen.target } as Result;
        resolved.length = 0;
        nodes.length = 1;
      }
      queue.unshift(...seen.target.split('/'));
      continue;
    }
    if (seen.kind === 'missing' && blocked === undefined) blocked = { kind: 'missing', at };
    nodes.push(node);
  }
  const end = resolved.join('/');
  if (blocked) return { ...blocked, path: end };
  return { kind: 'found', path: end, node: nodes[nodes.length - 1] } as Result;
}
