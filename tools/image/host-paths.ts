// A host file as the image must hold it: not only the file, but every symlink met on the way
// to it, so each name a program or the dynamic loader uses for it resolves in the image as on
// the host. /lib64/ld-linux-x86-64.so.2 (the interpreter path written into every x86-64
// executable) is, on Debian, /lib64 -> usr/lib64, then a link to
// /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2, then /lib -> usr/lib again: all of those links
// go into the image, and the file itself at its real path.
import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';

export interface HostLink {
  /** Absolute path of the link in the image (the same as on the host). */
  path: string;
  target: string;
}

export interface HostFile {
  /** Every name the walk went through, the file's real path last. */
  names: string[];
  links: HostLink[];
  /** The real path: where the file is on the host and where it goes in the image. */
  path: string;
  mode: number;
  size: number;
}

/** Linux's own limit on links followed in one lookup. */
const MAX_LINKS = 40;

const components = (p: string) => p.split('/').filter((c) => c !== '');

/** Resolve absolute `path` one component at a time, keeping each symlink it passes through. */
export function hostFile(path: string): HostFile {
  if (!path.startsWith('/')) throw new Error(`${path}: not an absolute path`);
  const names = [path];
  const links: HostLink[] = [];
  let pending = components(path);
  let at = '/';
  for (;;) {
    const [head, ...rest] = pending;
    if (head === undefined) throw new Error(`${path}: not a regular file`);
    const next = posix.join(at, head);
    const st = lstatSync(next);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(next);
      if (!links.some((l) => l.path === next)) links.push({ path: next, target });
      if (links.length > MAX_LINKS) throw new Error(`${path}: too many symbolic links`);
      const resolved = posix.resolve(posix.dirname(next), target);
      names.push(posix.join(resolved, ...rest));
      pending = [...components(resolved), ...rest];
      at = '/';
      continue;
    }
    if (rest.length === 0) {
      if (!st.isFile()) throw new Error(`${path}: not a regular file`);
      return { names: [...new Set(names)], links, path: next, mode: st.mode & 0o7777, size: st.size };
    }
    if (!st.isDirectory()) throw new Error(`${path}: ${next} is not a directory`);
    at = next;
    pending = rest;
  }
}
