// An extracted K3s bundle, `/var/lib/rancher/k3s/data/<hash>/`, read as it is on disk now.
// K3s checks `bin/.sha256sums` and `bin/.links` once, when it extracts the bundle; anything
// changed later runs unnoticed. Here the same checks run on the files as they are: every
// regular file hashed (ELF files handed to onElf as positional-read sources, never loaded
// whole), symlinks read with readlink and never followed. A symlink that leads outside the
// directory or loops is a finding, not an error: the directory is what is being audited.

import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  realpathSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import type { ByteSource } from '../io/bytesource.ts';
import { fsError } from '../io/fs-error.ts';
import { resolveInRoot } from '../io/member-paths.ts';
import { ELF_MAGIC } from '../io/target.ts';
import { InputError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import { BundleFindings } from './bundle/findings.ts';
import { checkManifests, LINKS_PATH, type ManifestData, SUMS_PATH } from './bundle/manifest.ts';
import type { BundleMember, BundleReadOptions, BundleScan, FileMember } from './bundle/types.ts';

const READ_STEP = 1024 * 1024;

/** Positional reads on an open descriptor (the one the file was hashed through). */
function fdSource(fd: number, name: string, size: number): ByteSource {
  return {
    name,
    size,
    read(offset, length) {
      const want = Math.max(0, Math.min(length, size - offset));
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return buf.subarray(0, got);
    },
  };
}

function unreadable(file: string, e: unknown): InputError {
  const why = e instanceof Error ? e.message : String(e);
  return new InputError('UNREADABLE', file, `cannot read: ${why}`, { cause: e });
}

interface Walk {
  root: string;
  display: string;
  options: BundleReadOptions;
  members: BundleMember[];
  symlinks: Map<string, string>;
  sums: ManifestData;
  links: ManifestData;
  buffer: Buffer;
  regularBytes: number;
}

/** Hash a regular file through one O_NOFOLLOW descriptor; hand it to onElf when it is an ELF. */
async function readFile(w: Walk, rel: string, st: Stats): Promise<FileMember> {
  const full = join(w.root, rel);
  let fd: number;
  try {
    fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw unreadable(full, e);
  }
  try {
    const now = fstatSync(fd);
    if (!now.isFile() || now.ino !== st.ino) throw new InputError('UNREADABLE', full, 'changed while being read');
    const hash = createHash('sha256');
    const keepManifest = (rel === SUMS_PATH || rel === LINKS_PATH) && now.size <= LIMITS.bundleManifestBytes;
    const manifestParts: Buffer[] = [];
    let head = Buffer.alloc(0);
    let at = 0;
    for (;;) {
      const n = readSync(fd, w.buffer, 0, w.buffer.length, at);
      if (n === 0) break;
      const part = w.buffer.subarray(0, n);
      hash.update(part);
      if (at === 0) head = Buffer.from(part.subarray(0, 4));
      if (keepManifest) manifestParts.push(Buffer.from(part));
      at += n;
    }
    const member: FileMember = {
      type: 'file',
      path: rel,
      mode: now.mode & 0o7777,
      size: at, // the bytes actually hashed, should the file change under us
      sha256: hash.digest('hex'),
      elf: head.equals(ELF_MAGIC),
    };
    w.regularBytes += at;
    if (rel === SUMS_PATH || rel === LINKS_PATH) {
      const data: ManifestData = keepManifest
        ? { kind: 'present', data: Buffer.concat(manifestParts) }
        : { kind: 'absent', why: `is larger than ${LIMITS.bundleManifestBytes} bytes and was not read` };
      if (rel === SUMS_PATH) w.sums = data;
      else w.links = data;
    }
    const maxElf = w.options.maxElfMemberBytes ?? LIMITS.elfMemberBytes;
    if (member.elf && member.size > maxElf) {
      member.notInspected = `larger than the ${maxElf}-byte limit for inspected members`;
    } else if (member.elf && w.options.onElf) {
      await w.options.onElf(member, fdSource(fd, `${w.display}/${rel}`, member.size));
    }
    return member;
  } finally {
    closeSync(fd);
  }
}

function special(st: Stats): 'char' | 'block' | 'fifo' | 'socket' {
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

async function walkDir(w: Walk, rel: string): Promise<void> {
  const dir = rel === '' ? w.root : join(w.root, rel);
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw unreadable(dir, e);
  }
  const max = w.options.maxMembers ?? LIMITS.bundleMembers;
  for (const name of names) {
    const path = rel === '' ? name : `${rel}/${name}`;
    if (w.members.length >= max) throw new InputError('TAR_LIMIT', w.display, `more than ${max} entries`);
    let st: Stats;
    try {
      st = lstatSync(join(w.root, path));
    } catch (e) {
      throw unreadable(join(w.root, path), e);
    }
    const mode = st.mode & 0o7777;
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = readlinkSync(join(w.root, path));
      } catch (e) {
        throw unreadable(join(w.root, path), e);
      }
      w.symlinks.set(path, target);
      const manifest: ManifestData = { kind: 'absent', why: `is a symlink (to ${target}), not a file` };
      if (path === SUMS_PATH) w.sums = manifest;
      else if (path === LINKS_PATH) w.links = manifest;
      w.members.push({ type: 'symlink', path, mode, linkTarget: target });
    } else if (st.isDirectory()) {
      w.members.push({ type: 'dir', path, mode });
      await walkDir(w, path);
    } else if (st.isFile()) {
      w.options.progress?.(`hashing ${w.display}/${path}`);
      w.members.push(await readFile(w, path, st));
    } else {
      w.members.push({ type: 'special', path, mode, what: special(st) });
    }
  }
}

/**
 * Read a K3s data dir (`.../data/<hash>`, or `data/current`, which is resolved): members,
 * manifest checks, symlink checks. Throws InputError only for what cannot be read.
 */
export async function readDataDir(dir: string, options: BundleReadOptions = {}): Promise<BundleScan> {
  const display = options.displayName ?? dir;
  let root: string;
  try {
    root = realpathSync(dir);
  } catch (e) {
    throw fsError(e, display, { missing: 'no such directory' });
  }
  if (!lstatSync(root).isDirectory()) throw new InputError('USAGE', display, 'not a directory');
  const name = basename(root);
  const location = options.location ?? [display];
  const w: Walk = {
    root,
    display,
    options,
    members: [],
    symlinks: new Map(),
    sums: { kind: 'absent', why: 'is not in the directory' },
    links: { kind: 'absent', why: 'is not in the directory' },
    buffer: Buffer.allocUnsafe(READ_STEP),
    regularBytes: 0,
  };
  await walkDir(w, '');
  const findings = new BundleFindings(location, 'datadir', display);
  for (const [path, target] of w.symlinks) {
    const where = resolveInRoot(path, w.symlinks);
    if (where.kind === 'escape') {
      findings.add(
        'K3SG-BUNDLE-SYMLINK-ESCAPE',
        `${path} is a symlink to ${target}, which ${where.reason}: whatever runs it runs a file from outside the bundle.`,
        path,
      );
    } else if (where.kind === 'loop') {
      findings.add('K3SG-BUNDLE-SYMLINK-LOOP', `${path} is a symlink that never resolves (a loop).`, path);
    }
  }
  checkManifests(new Map(w.members.map((m) => [m.path, m])), w.sums, w.links, findings);
  return {
    source: 'datadir',
    location,
    declaredHash: /^[0-9a-f]{64}$/.test(name) ? name : '',
    uncompressedSize: w.regularBytes,
    members: w.members,
    links: w.members.flatMap((m) => (m.type === 'symlink' ? [{ name: m.path, target: m.linkTarget }] : [])),
    findings: findings.list,
  };
}
