// One layer's tar, recorded as it streams: every member's metadata in order, the bytes of the
// few small files a caller collects (OS package databases), and what a caller's hook made of
// the large files it asked for (binaries, inspected while their bytes are at hand). Recording
// is separate from applying because an archive's members come in any order: a layer blob can
// stream past before the manifest that says which image it belongs to, and at which position.
// Recording it as it passes lets one read of the archive serve integrity and contents both;
// `replayLayer` (fileview-layer.ts) applies a record onto an image's view afterwards.
//
// Everything here is synchronous: it is fed from a decompressor's 'data' events.

import { normalizeMemberPath } from '../../io/member-paths.ts';
import { type TarEntryType, TarReader } from '../../io/tar.ts';
import { InputError } from '../../model/errors.ts';

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
  got: number;
}

export class LayerRecorder {
  readonly record: LayerRecord;
  private readonly tar: TarReader;
  private readonly opts: LayerRecorderOptions;
  private current: Taking | undefined;

  constructor(name: string, opts: LayerRecorderOptions) {
    this.record = { name, members: [], bytes: 0 };
    this.tar = new TarReader(name, undefined, 'image layer tar');
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
      path: normalizeMemberPath(e.name),
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
    if (hook && e.size > 0 && e.size <= limits.maxHookFile && hook.want(path, e.size)) {
      // Allocated once at the size the header gives: no second copy when it is handed over.
      taking.hookBuf = Buffer.allocUnsafe(e.size);
    }
    if (e.size > 0 && (taking.collectParts || taking.hookBuf)) this.current = taking;
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
    t.got += data.length;
    if (!t.collectParts && !t.hookBuf) this.current = undefined;
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
