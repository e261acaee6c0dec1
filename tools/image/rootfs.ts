// What the image's single layer holds, as a sorted list of tar entries, and the Debian packages
// its files came from. Distroless in spirit: the executable, the shared libraries the loader
// needs for it (with every link the loader follows), the CA certificates, os-release (so
// scanners know which distribution's advisories apply), users and groups with an unprivileged
// one to run as, /tmp, each package's copyright file, and each package's control stanza under
// /var/lib/dpkg/status.d/ as distroless images record theirs (there is no dpkg, nor any shell).
import { posix } from 'node:path';
import type { TarOwner, TarWriteEntry } from '../../src/io/tar-writer.ts';
import { CA_BUNDLE_PATH, CA_PACKAGE, caBundle } from './ca-bundle.ts';
import { type DebianPackage, installedPackage, owningPackage } from './debian.ts';
import { hostFile } from './host-paths.ts';
import { sharedLibraries } from './shared-libs.ts';

export const EXECUTABLE_PATH = '/usr/local/bin/k3sguard';
export const NONROOT = { uid: 65532, gid: 65532, name: 'nonroot', home: '/home/nonroot' } as const;
/** The Debian architecture of the image (and of the executable, which build.ts checks). */
export const ARCH = 'amd64';
export const STATUS_D = '/var/lib/dpkg/status.d';
/** Where each package's licence terms are, in every Debian system. */
const copyrightOf = (pkg: string) => `/usr/share/doc/${pkg}/copyright`;
/** os-release and its link, and debian_version, which some scanners read instead. */
const OS_FILES = ['/etc/os-release', '/etc/debian_version'];

const ROOT_OWNER: TarOwner = { uid: 0, gid: 0, uname: 'root', gname: 'root' };
const NONROOT_OWNER: TarOwner = { uid: NONROOT.uid, gid: NONROOT.gid, uname: NONROOT.name, gname: NONROOT.name };

const PASSWD = [
  'root:x:0:0:root:/root:/sbin/nologin',
  'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin',
  `${NONROOT.name}:x:${NONROOT.uid}:${NONROOT.gid}:${NONROOT.name}:${NONROOT.home}:/sbin/nologin`,
];
const GROUP = ['root:x:0:', 'nobody:x:65534:', `${NONROOT.name}:x:${NONROOT.gid}:`];

export interface Rootfs {
  /** Sorted by path, parents before children. */
  entries: TarWriteEntry[];
  /** Every Debian package a file in the image came from, sorted by name. */
  packages: DebianPackage[];
}

/** Entries by image path (no leading `/`); the same path twice must mean the same entry. */
class EntrySet {
  private readonly byPath = new Map<string, TarWriteEntry>();

  add(entry: TarWriteEntry): void {
    const known = this.byPath.get(entry.path);
    if (known && !sameEntry(known, entry)) throw new Error(`/${entry.path}: two different entries for one path`);
    this.byPath.set(entry.path, entry);
  }

  /** The entries, each missing parent directory added (root-owned, 0755). */
  sorted(): TarWriteEntry[] {
    for (const path of [...this.byPath.keys()]) {
      for (let dir = posix.dirname(path); dir !== '.'; dir = posix.dirname(dir)) {
        const parent = this.byPath.get(dir);
        if (parent && parent.type !== 'dir') throw new Error(`/${path}: its parent /${dir} is not a directory`);
        if (!parent) this.byPath.set(dir, { type: 'dir', path: dir, mode: 0o755, owner: ROOT_OWNER });
      }
    }
    // In byte order a directory, a prefix of each path in it, comes before them all.
    return [...this.byPath.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  }
}

function sameEntry(a: TarWriteEntry, b: TarWriteEntry): boolean {
  if (a.type !== b.type || a.mode !== b.mode || a.owner.uid !== b.owner.uid || a.owner.gid !== b.owner.gid)
    return false;
  if (a.type === 'symlink' && b.type === 'symlink') return a.target === b.target;
  if (a.type === 'file' && b.type === 'file') return 'from' in a && 'from' in b && a.from === b.from;
  return a.type === 'dir';
}

const rel = (absolute: string) => absolute.slice(1);

const lines = (l: readonly string[]) => Buffer.from(`${l.join('\n')}\n`);

/**
 * Add a host file, with the links leading to it, where the host has them. Returns the package
 * that owns it, asked under each name the walk met, its real path first.
 */
function addHostFile(set: EntrySet, path: string): string {
  const f = hostFile(path);
  for (const link of f.links)
    set.add({ type: 'symlink', path: rel(link.path), target: link.target, mode: 0o777, owner: ROOT_OWNER });
  // Write bits for group and others would mean nothing in an image run as one user: dropped.
  set.add({ type: 'file', path: rel(f.path), from: f.path, size: f.size, mode: f.mode & 0o755, owner: ROOT_OWNER });
  return owningPackage(f.path, [...f.names].reverse(), ARCH);
}

export function rootfs(executable: string, executableSize: number): Rootfs {
  const set = new EntrySet();
  const owners = new Set<string>([CA_PACKAGE]);
  set.add({
    type: 'file',
    path: rel(EXECUTABLE_PATH),
    from: executable,
    size: executableSize,
    mode: 0o755,
    owner: ROOT_OWNER,
  });
  for (const lib of sharedLibraries(executable)) owners.add(addHostFile(set, lib));
  for (const file of OS_FILES) owners.add(addHostFile(set, file));
  set.add({ type: 'file', path: rel(CA_BUNDLE_PATH), data: caBundle(), mode: 0o644, owner: ROOT_OWNER });
  set.add({ type: 'file', path: 'etc/passwd', data: lines(PASSWD), mode: 0o644, owner: ROOT_OWNER });
  set.add({ type: 'file', path: 'etc/group', data: lines(GROUP), mode: 0o644, owner: ROOT_OWNER });
  set.add({ type: 'dir', path: 'root', mode: 0o700, owner: ROOT_OWNER });
  set.add({ type: 'dir', path: rel(NONROOT.home), mode: 0o755, owner: NONROOT_OWNER });
  set.add({ type: 'dir', path: 'tmp', mode: 0o1777, owner: ROOT_OWNER });

  // A copyright file can be another package's (libstdc++6's doc folder is a link to
  // gcc-12-base's): that package is in the image then too, and its own copyright joins it.
  const packages = new Map<string, DebianPackage>();
  const pending = [...owners];
  for (let query = pending.shift(); query !== undefined; query = pending.shift()) {
    const pkg = installedPackage(query);
    if (packages.has(pkg.name)) continue;
    packages.set(pkg.name, pkg);
    const owner = addHostFile(set, copyrightOf(pkg.name));
    if (!packages.has(owner.split(':')[0] as string)) pending.push(owner);
  }
  const sortedPackages = [...packages.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const pkg of sortedPackages) {
    set.add({
      type: 'file',
      path: rel(`${STATUS_D}/${pkg.name}`),
      data: Buffer.from(pkg.control),
      mode: 0o644,
      owner: ROOT_OWNER,
    });
  }
  return { entries: set.sorted(), packages: sortedPackages };
}
