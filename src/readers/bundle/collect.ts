// Turns the tar events of an embedded bundle into members: each regular file hashed as it
// streams, ELF files held (as the chunks they arrived in) just long enough for the caller to
// inspect them, the two manifests kept for the checks, and every path checked so that the
// bundle could not write outside its directory when extracted. Nothing touches the disk.
import { createHash, type Hash } from 'node:crypto';
import { chunkListSource } from '../../io/chunksource.ts';
import { ancestors, normalizeMemberPath, resolveInRoot } from '../../io/member-paths.ts';
import type { TarEntry, TarEvent } from '../../io/tar.ts';
import { ELF_MAGIC } from '../../io/target.ts';
import { InputError } from '../../model/errors.ts';
import { LIMITS } from '../../model/limits.ts';
import { LINKS_PATH, type ManifestData, SUMS_PATH } from './manifest.ts';
import type { BundleMember, FileMember, OnElf } from './types.ts';

interface Current {
  path: string;
  entry: TarEntry;
  hash: Hash;
  /** Kept chunks (ELF or manifest, or undecided until 4 bytes are in). */
  chunks: Buffer[] | undefined;
  got: number;
  head: Buffer;
  manifest: boolean;
}

export interface CollectorOptions {
  /** The outer file as the user named it: InputErrors name it. */
  file: string;
  /** Prefix of the ByteSource names handed to onElf. */
  sourcePrefix: string;
  onElf?: OnElf;
  maxElfMemberBytes?: number;
  maxMembers?: number;
}

export class TarMemberCollector {
  /** Members by clean path, in archive order; a repeated path keeps its last entry (what extraction leaves). */
  readonly members = new Map<string, BundleMember>();
  readonly duplicates: string[] = [];
  /** Symlinks that resolve into a loop (filled by finish()). */
  readonly loops: string[] = [];
  sums: ManifestData = { kind: 'absent', why: 'is not in the bundle' };
  links: ManifestData = { kind: 'absent', why: 'is not in the bundle' };
  private readonly symlinks = new Map<string, string>();
  private readonly parents = new Set<string>();
  private readonly opts: CollectorOptions;
  private readonly maxElf: number;
  private readonly maxMembers: number;
  private entries = 0;
  private current: Current | undefined;

  constructor(opts: CollectorOptions) {
    this.opts = opts;
    this.maxElf = opts.maxElfMemberBytes ?? LIMITS.elfMemberBytes;
    this.maxMembers = opts.maxMembers ?? LIMITS.bundleMembers;
  }

  private unsafe(name: string, why: string): InputError {
    return new InputError('UNSAFE_PATH', this.opts.file, `bundle member ${JSON.stringify(name)} ${why}`);
  }

  /** Handle one event; returns a promise only when the caller's onElf must be awaited. */
  handle(ev: TarEvent): Promise<void> | undefined {
    if (ev.type === 'entry') this.onEntry(ev.entry);
    else if (ev.type === 'data') this.onData(ev.data);
    else return this.finishFile();
    return undefined;
  }

  private add(member: BundleMember): void {
    const previous = this.members.get(member.path);
    if (previous && (previous.type !== 'dir' || member.type !== 'dir')) this.duplicates.push(member.path);
    this.members.delete(member.path); // keep archive order of the entry that wins
    this.members.set(member.path, member);
    if (member.type !== 'symlink') this.symlinks.delete(member.path);
  }

  private onEntry(entry: TarEntry): void {
    if (++this.entries > this.maxMembers) {
      throw new InputError('TAR_LIMIT', this.opts.file, `bundle has more than ${this.maxMembers} members`);
    }
    const clean = normalizeMemberPath(entry.name);
    if (!clean.ok) throw this.unsafe(entry.name, clean.reason);
    const path = clean.path;
    if (path === '') {
      if (entry.type === 'dir') return; // `../`: the bundle root itself
      throw this.unsafe(entry.name, 'has an empty path');
    }
    for (const a of ancestors(path)) {
      const target = this.symlinks.get(a);
      if (target !== undefined) throw this.unsafe(entry.name, `lies under the symlink ${a} -> ${target}`);
    }
    if (entry.type !== 'dir' && this.parents.has(path)) {
      throw this.unsafe(entry.name, 'replaces a directory that holds other members');
    }
    for (const a of ancestors(path)) this.parents.add(a);
    const mode = entry.mode;
    switch (entry.type) {
      case 'file':
        this.current = {
          path,
          entry,
          hash: createHash('sha256'),
          chunks: [],
          got: 0,
          head: Buffer.alloc(0),
          manifest: path === SUMS_PATH || path === LINKS_PATH,
        };
        if (entry.size === 0) this.finishFile(); // no data events come for an empty file
        return;
      case 'hardlink': {
        const target = normalizeMemberPath(entry.linkname);
        if (!target.ok)
          throw this.unsafe(entry.name, `is a hard link to ${JSON.stringify(entry.linkname)}, which ${target.reason}`);
        const linked = this.members.get(target.path);
        if (!linked || (linked.type !== 'file' && linked.type !== 'hardlink')) {
          throw this.unsafe(entry.name, `is a hard link to ${target.path}, which is not an earlier file in the bundle`);
        }
        this.add({ type: 'hardlink', path, mode, size: linked.size, sha256: linked.sha256, linkTarget: target.path });
        return;
      }
      case 'symlink': {
        if (entry.linkname === '') throw this.unsafe(entry.name, 'is a symlink with an empty target');
        this.symlinks.set(path, entry.linkname);
        const where = resolveInRoot(path, this.symlinks);
        if (where.kind === 'escape')
          throw this.unsafe(entry.name, `is a symlink to ${entry.linkname}, which ${where.reason}`);
        this.add({ type: 'symlink', path, mode, linkTarget: entry.linkname });
        return;
      }
      case 'dir':
        this.add({ type: 'dir', path, mode });
        return;
      default:
        this.add({ type: 'special', path, mode, what: entry.type });
    }
  }

  private onData(data: Buffer): void {
    const cur = this.current;
    if (!cur) return;
    cur.hash.update(data);
    cur.got += data.length;
    if (cur.chunks) cur.chunks.push(data);
    if (cur.head.length < 4) {
      cur.head = Buffer.concat([cur.head, data.subarray(0, 4 - cur.head.length)]);
      if (cur.head.length === 4 || cur.got === cur.entry.size) this.decideKeep(cur);
    }
  }

  /** Once the first bytes are in: keep ELF files (for onElf) and the manifests, drop the rest. */
  private decideKeep(cur: Current): void {
    const elf = cur.head.equals(ELF_MAGIC);
    const keepElf = elf && this.opts.onElf !== undefined && cur.entry.size <= this.maxElf;
    const keepManifest = cur.manifest && cur.entry.size <= LIMITS.bundleManifestBytes;
    if (!keepElf && !keepManifest) cur.chunks = undefined;
  }

  private finishFile(): Promise<void> | undefined {
    const cur = this.current;
    if (!cur) return undefined;
    this.current = undefined;
    const elf = cur.head.equals(ELF_MAGIC);
    const member: FileMember = {
      type: 'file',
      path: cur.path,
      mode: cur.entry.mode,
      size: cur.entry.size,
      sha256: cur.hash.digest('hex'),
      elf,
    };
    if (elf && cur.entry.size > this.maxElf) {
      member.notInspected = `larger than the ${this.maxElf}-byte limit for inspected members`;
    }
    this.add(member);
    if (cur.manifest) {
      const data: ManifestData = cur.chunks
        ? { kind: 'present', data: Buffer.concat(cur.chunks) }
        : { kind: 'absent', why: `is larger than ${LIMITS.bundleManifestBytes} bytes and was not read` };
      if (cur.path === SUMS_PATH) this.sums = data;
      else this.links = data;
    }
    if (elf && cur.chunks && this.opts.onElf) {
      const source = chunkListSource(`${this.opts.sourcePrefix}${cur.path}`, cur.chunks);
      const done = this.opts.onElf(member, source);
      return done instanceof Promise ? done : undefined;
    }
    return undefined;
  }

  /** After the archive: links whose chain (with links that came later) escapes or loops. */
  finish(): void {
    for (const [path, target] of this.symlinks) {
      const where = resolveInRoot(path, this.symlinks);
      if (where.kind === 'escape') throw this.unsafe(path, `is a symlink to ${target}, which ${where.reason}`);
      if (where.kind === 'loop') this.loops.push(path);
    }
  }
}
