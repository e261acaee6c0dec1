// Paths inside a bundle, checked without touching the filesystem. Member names and link
// targets are resolved against the bundle's own member list (a virtual tree), following the
// bundle's symlinks the way the kernel would once the bundle is extracted, so a chain of
// links that ends outside the bundle root is caught even when each link looks harmless.

import { type RootedEscape, resolveRooted } from './rooted-path.ts';

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

/**
 * A member name as a clean relative path (`./bin/k3s` and `bin//k3s` -> `bin/k3s`, `bin/` ->
 * `bin`; the root itself -> ''). Absolute names and `..` components are refused.
 */
export function normalizeMemberPath(name: string): PathCheck {
  if (name.startsWith('/')) return { ok: false, reason: 'is an absolute path' };
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return { ok: false, reason: "has a '..' component" };
    parts.push(part);
  }
  return { ok: true, path: parts.join('/') };
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

/** Why a link chain leaves the root, in the words of a finding. */
export function escapeReason(e: RootedEscape): string {
  return e.how === 'above' ? 'climbs above the bundle root' : `reaches the absolute path ${e.target}`;
}
