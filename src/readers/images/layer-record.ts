// One layer's tar, recorded as it streams: every member's metadata in order, the bytes of the
// few small files a caller collects (OS package databases), and what a caller's hook made of
// the large files it asked for (binaries, inspected while their bytes are at hand). Recording
// is separate from applying because an archive's members come in any order: a layer blob can
// stream past before the manifest that says which image it belongs to, and at which position.
// Recording it as it passes lets one read of the archive serve integrity and contents both;
// `replayLayer` (fileview-layer.ts) applies a record onto an image's view afterwards.
//
// Everything here is synchronous: it is fed from a decompressor's 'data' events.

import { isOverNameLimit, normalizeMemberPath } from '../../io/member-paths.ts';
import { DEFAULT_TAR_LIMITS, type TarEntryType, TarReader } from '../../io/tar.ts';
import { InputError } from '../../model/errors.ts';
import { LIMITS } from '../../model/limits.ts';

/** Whether to keep a regular file's bytes: `path` is `/` + the member's clean path. */
export type CollectPredicate = (path: string, size: number) => boolean;

/**
 * Large files handed to the caller whole, as the layer passes (e.g. every ELF file, to be
 * inspected). `take` runs synchronously with the bytes, which are not kept afterwards; what it
 * returns is kept on the member (and on its view entry as `facts`).
 */
export interface LayerFileHook {
  /** `path` is `/` + the member's clean path as stored in the layer. */
  want(path: string, size: number): boolean;
  /** Only files starting with these bytes are taken (others are dropped after their first bytes). */
  magic?: Buffer;
  take(path: string, bytes: Buffer, mode: number): unknown;
  /**
   * A wanted file (with the magic) over the size limit is not held: what this returns is kept
   * on it instead, e.g. why it was not inspected.
   */
  tooLarge?(path: string, size: number, limit: number): unknown;
}

export interface LayerRecordLimits {
  /** Uncompressed tar bytes of one layer. */
  maxLayerBytes: number;
  /** Members of one layer. */
  maxMembers: number;
  /** Largest file whose bytes are collected (bigger matching files are marked too large). */
  maxCollectFile: number;
  /** Largest file handed to the hook. */
  maxHookFile: number;
}

/** Shared by every layer of one read: bounds the bytes kept in memory. */
export interface CollectBudget {
  collected: number;
  maxCollectTotal: number;
}

export interface RecordedMember {
  /** The member's name as stored, for messages. */
  name: string;
  /** Clean path relative to the root (`usr/bin/x`), or why the name is unsafe. */
  path: { ok: true; path: string } | { ok: false; reason: string };
  type: TarEntryType;
  mode: number;
  size: number;
  linkname: string;
  /** The bytes, when collected. */
  contents?: Buffer;
  /** Matched the collect predicate but was over maxCollectFile. */
  tooLarge?: boolean;
  /** What the hook returned for this file. */
  facts?: unknown;
}

export interface LayerRecord {
  /** For messages: the archive and the blob. */
  name: string;
  members: RecordedMember[];
  /** Uncompressed tar bytes. */
  bytes: number;
}

export interface LayerRecorderOptions {
  collect: CollectPredicate;
  hook?: LayerFileHook;
  limits: LayerRecordLimits;
  budget: CollectBudget;
}

interface Taking {
  member: RecordedMember;
  collectParts?: Buffer[];
  hookBuf?: Buffer;
  /** The first bytes of a file too large for the hook, to compare with its magic. */
  tooLargeHead?: Buffer;
  got: number;
}

/** The member's clean path, or why it is skipped: its name, or a symlink target no kernel takes. */
function memberPath(name: string, type: TarEntryType, linkname: string): RecordedMember['path'] {
  const path = normalizeMemberPath(name);
  if (path.ok && type === 'symlink' && isOverNameLimit(linkname)) {
    return { ok: false, reason: `is a symlink to a target longer than ${LIMITS.memberName} bytes` };
  }
  return path;
}

export class LayerRecorder {
  readonly record: LayerRecord;
  private readonly tar: TarReader;
  private readonly opts: LayerRecorderOptions;
  private current: Taking | undefined;

  constructor(name: string, opts: LayerRecorderOptions) {
    this.record = { name, members: [], bytes: 0 };
    // Names past the length limit are judged here, member by member (a finding, the member
    // skipped), as other hostile layer paths are: the tar reader lets them through.
    this.tar = new TarReader(name, { ...DEFAULT_TAR_LIMITS, maxName: Number.POSITIVE_INFINITY }, 'image layer tar');
    this.opts = opts;
  }

  /** Uncompressed tar bytes, in order. Throws InputError on a corrupt tar or a limit. */
  write(chunk: Buffer): void {
    this.record.bytes += chunk.length;
    if (this.record.bytes > this.opts.limits.maxLayerBytes) {
      throw new InputError(
        'IMAGE_LIMIT',
        this.record.name,
        `image layer: over the ${this.opts.limits.maxLayerBytes}-byte uncompressed size limit (zip bomb?)`,
      );
    }
    for (const ev of this.tar.feed(chunk)) {
      if (ev.type === 'entry') this.onEntry(ev.entry);
      else if (ev.type === 'data') this.onData(ev.data);
      else this.onEnd();
    }
  }

  /** The end of the layer's bytes: a tar cut short is an error here. */
  finish(): LayerRecord {
    this.tar.finish();
    return this.record;
  }

  private onEntry(e: { name: string; type: TarEntryType; mode: number; size: number; linkname: string }): void {
    const member: RecordedMember = {
      name: e.name,
      path: memberPath(e.name, e.type, e.linkname),
      type: e.type,
      mode: e.mode,
      size: e.type === 'file' ? e.size : 0,
      linkname: e.linkname,
    };
    this.record.members.push(member);
    if (this.record.members.length > this.opts.limits.maxMembers) {
      throw new InputError(
        'IMAGE_LIMIT',
        this.record.name,
        `image layer: more than ${this.opts.limits.maxMembers} members`,
      );
    }
    if (e.type !== 'file' || !member.path.ok) return;
    const path = `/${member.path.path}`;
    const taking: Taking = { member, got: 0 };
    const { collect, hook, limits, budget } = this.opts;
    if (collect(path, e.size)) {
      if (e.size > limits.maxCollectFile) member.tooLarge = true;
      else {
        budget.collected += e.size;
        if (budget.collected > budget.maxCollectTotal) {
          throw new InputError(
            'IMAGE_LIMIT',
            this.record.name,
            `image: files kept in memory exceed ${budget.maxCollectTotal} bytes`,
          );
        }
        if (e.size === 0) member.contents = Buffer.alloc(0);
        else taking.collectParts = [];
      }
    }
    if (hook && e.size > 0 && hook.want(path, e.size)) {
      // Allocated once at the size the header gives: no second copy when it is handed over.
      if (e.size <= limits.maxHookFile) taking.hookBuf = Buffer.allocUnsafe(e.size);
      else if (hook.tooLarge && !hook.magic) member.facts = hook.tooLarge(path, e.size, limits.maxHookFile);
      else if (hook.tooLarge) taking.tooLargeHead = Buffer.alloc(0);
    }
    if (e.size > 0 && (taking.collectParts || taking.hookBuf || taking.tooLargeHead)) this.current = taking;
  }

  private onData(data: Buffer): void {
    const t = this.current;
    if (!t) return;
    t.collectParts?.push(Buffer.from(data)); // data is a view into a chunk that will be reused
    if (t.hookBuf) {
      data.copy(t.hookBuf, t.got);
      const magic = this.opts.hook?.magic;
      const end = t.got + data.length;
      // Once enough bytes are in to compare, a file without the magic is not wanted after all.
      if (magic && t.got < magic.length && end >= Math.min(magic.length, t.hookBuf.length)) {
        if (!t.hookBuf.subarray(0, magic.length).equals(magic)) t.hookBuf = undefined;
      }
    }
    if (t.tooLargeHead) this.sniffTooLarge(t, data);
    t.got += data.length;
    if (!t.collectParts && !t.hookBuf && !t.tooLargeHead) this.current = undefined;
  }

  /** Once its first bytes are in: a file too large for the hook that has its magic is marked. */
  private sniffTooLarge(t: Taking, data: Buffer): void {
    const hook = this.opts.hook;
    const magic = hook?.magic;
    if (!hook?.tooLarge || !magic || !t.tooLargeHead || !t.member.path.ok) {
      t.tooLargeHead = undefined;
      return;
    }
    const head = Buffer.concat([t.tooLargeHead, data.subarray(0, magic.length - t.tooLargeHead.length)]);
    if (head.length < magic.length) {
      t.tooLargeHead = head;
      return;
    }
    t.tooLargeHead = undefined;
    if (head.equals(magic))
      t.member.facts = hook.tooLarge(`/${t.member.path.path}`, t.member.size, this.opts.limits.maxHookFile);
  }

  private onEnd(): void {
    const t = this.current;
    this.current = undefined;
    if (!t) return;
    if (t.collectParts) t.member.contents = Buffer.concat(t.collectParts);
    if (t.hookBuf && t.member.path.ok) {
      t.member.facts = this.opts.hook?.take(`/${t.member.path.path}`, t.hookBuf, t.member.mode);
    }
  }
}
