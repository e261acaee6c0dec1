// Paths inside a bundle, checked without touching the filesystem. Member names and link
// targets are resolved against the bundle's own member list (a virtual tree), following the
// bundle's symlinks the way the kernel would once the bundle is extracted, so a chain of
// links that ends outside the bundle root is caught even when each link looks harmless.

import { LIMITS } from '../model/limits.ts';
import { type RootedEscape, resolveRooted } from './rooted-path.ts';

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

/**
 * A member name as a clean relative path (`./bin/k3s` and `bin//k3s` -> `bin/k3s`, `bin/` ->
 * `bin`; the root itself -> ''). Absolute names, `..` components and names longer than
 * LIMITS.memberName (PATH_MAX) are refused: a longer name is never a real path, and past
 * 16,383 characters V8 hashes all strings of one length alike, so such names as Map keys
 * would make every lookup linear.
 */
export function normalizeMemberPath(name: string): PathCheck {
  if (isOverNameLimit(name)) return { ok: false, reason: `is longer than ${LIMITS.memberName} bytes` };
  if (name.startsWith('/')) return { ok: false, reason: 'is an absolute path' };
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return { ok: false, reason: "has a '..' component" };
    parts.push(part);
  }
  return { ok: true, path: parts.join('/') };
}

/** Longer than LIMITS.memberName bytes of UTF-8 (at most three bytes per UTF-16 unit). */
export function isOverNameLimit(name: string): boolean {
  return name.length > LIMITS.memberName / 3 && Buffer.byteLength(name) > LIMITS.memberName;
}

const QUOTED_HEAD = 60;
const QUOTED_TAIL = 40;

/**
 * A member name or link target quoted for a message; a long one (as hostile ones are) by its
 * start and end, which tell apart names that differ only at the end.
 */
export function quoteMemberName(name: string): string {
  if (name.length <= QUOTED_HEAD + QUOTED_TAIL) return JSON.stringify(name);
  const head = JSON.stringify(name.slice(0, QUOTED_HEAD));
  const tail = JSON.stringify(name.slice(-QUOTED_TAIL));
  return `${head}...${tail} (${Buffer.byteLength(name)} bytes)`;
}

/** Every proper ancestor of a clean path: `bin/aux/x` -> `bin`, `bin/aux`. */
export function ancestors(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/** Only a bundle's links are known: every other path passes as a directory. */
type BundleNode = { kind: 'dir' } | { kind: 'symlink'; target: string };

export type Resolution = { kind: 'inside'; path: string } | { kind: 'escape'; reason: string } | { kind: 'loop' };

/**
 * Resolve a clean root-relative path, following every symlink in `links` (clean path ->
 * target as stored), including the last component. Components that do not exist are kept as they are (a dangling
 * link stays inside the root: it points at nothing).
 */
export function resolveInRoot(path: string, links: ReadonlyMap<string, string>): Resolution {
  const where = resolveRooted(path, {
    lookup: (p): BundleNode => {
      const target = links.get(p);
      return target === undefined ? { kind: 'dir' } : { kind: 'symlink', target };
    },
    leaving: 'escape',
  });
  switch (where.kind) {
    case 'escape':
      return { kind: 'escape', reason: escapeReason(where) };
    case 'loop':
      return { kind: 'loop' };
    default:
      return { kind: 'inside', path: where.path };
  }
}

/** Why a link chain leaves the root (of a `bundle`, an `archive`), in the words of a finding. */
export function escapeReason(e: RootedEscape, root = 'bundle'): string {
  return e.how === 'above' ? `climbs above the ${root} root` : `reaches the absolute path ${e.target}`;
}
