// A streaming tar reader: bytes go in as they come out of the decompressor, events come out
// (an entry's header, slices of its data, its end). Nothing is buffered beyond one 512-byte
// header and the bounded GNU long-name / pax records, so a member of any size streams through.
// Formats: POSIX ustar (with the prefix field), GNU (`L` long names, `K` long link names,
// base-256 numbers) and pax (`x` per-entry and `g` global records: path, linkpath, size).
// Anything else that could make two tar readers disagree about the archive is an error.
import { InputError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import { type PaxFields, parseHeader, parsePax, type RawHeader } from './tar-header.ts';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'dir' | 'char' | 'block' | 'fifo';

export interface TarEntry {
  /** The name as the archive gives it (after long-name and pax overrides); not yet checked. */
  name: string;
  type: TarEntryType;
  mode: number;
  size: number;
  /** Link target for symlinks and hard links, as stored. */
  linkname: string;
  /** Offset of the entry's header in the uncompressed tar, for messages. */
  headerOffset: number;
}

export type TarEvent = { type: 'entry'; entry: TarEntry } | { type: 'data'; data: Buffer } | { type: 'end-entry' };

export interface TarLimits {
  /** Largest GNU long name / long link name record. */
  maxLongName: number;
  /** Largest pax extended header record. */
  maxPaxHeader: number;
  /**
   * Longest member name or link target, in bytes (TAR_LIMIT past it). A reader whose caller
   * judges names itself (an image layer: a finding, not an error) passes Infinity.
   */
  maxName: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxLongName: LIMITS.tarLongName,
  maxPaxHeader: LIMITS.tarPaxHeader,
  maxName: LIMITS.memberName,
};

const BLOCK = 512;

type State =
  | { kind: 'header' }
  | { kind: 'data'; left: number; pad: number }
  | { kind: 'meta'; which: 'L' | 'K' | 'x' | 'g'; size: number; parts: Buffer[]; got: number; pad: number }
  | { kind: 'pad'; left: number }
  | { kind: 'zero1' } // one all-zero block seen
  | { kind: 'done' }; // end-of-archive seen; only zero padding may follow

/**
 * Push-style tar parser. Call `feed(chunk)` for each chunk and consume the events it yields
 * (data events are views into `chunk`, valid as long as the chunk is), then `finish()`.
 */
export class TarReader {
  private readonly file: string;
  private readonly limits: TarLimits;
  private readonly label: string;
  private state: State = { kind: 'header' };
  private readonly pending = Buffer.alloc(BLOCK);
  private pendingLength = 0;
  /** Bytes of tar consumed so far. */
  private offset = 0;
  private longName: string | undefined;
  private longLink: string | undefined;
  private pax: PaxFields = {};
  private globalPax: PaxFields = {};
  private metaSeen = false;

  /** `label` says which tar a message is about: `bundle tar`, `image layer tar`, ... */
  constructor(file: string, limits: TarLimits = DEFAULT_TAR_LIMITS, label = 'tar') {
    this.file = file;
    this.limits = limits;
    this.label = label;
  }

  private corrupt(message: string): InputError {
    return new InputError('TAR_CORRUPT', this.file, `${this.label}: ${message} (at byte ${this.offset} of the tar)`);
  }

  /** True once the end-of-archive marker (two zero blocks) was read. */
  get ended(): boolean {
    return this.state.kind === 'done';
  }

  *feed(chunk: Buffer): Generator<TarEvent> {
    let at = 0;
    while (at < chunk.length) {
      const state = this.state;
      const avail = chunk.length - at;
      if (state.kind === 'data') {
        const n = Math.min(state.left, avail);
        if (n > 0) {
          yield { type: 'data', data: chunk.subarray(at, at + n) };
          state.left -= n;
          at += n;
          this.offset += n;
        }
        if (state.left === 0) {
          this.state = state.pad > 0 ? { kind: 'pad', left: state.pad } : { kind: 'header' };
          yield { type: 'end-entry' };
        }
        continue;
      }
      if (state.kind === 'pad') {
        const n = Math.min(state.left, avail);
        state.left -= n;
        at += n;
        this.offset += n;
        if (state.left === 0) this.state = { kind: 'header' };
        continue;
      }
      if (state.kind === 'meta') {
        const n = Math.min(state.size - state.got, avail);
        state.parts.push(chunk.subarray(at, at + n));
        state.got += n;
        at += n;
        this.offset += n;
        if (state.got === state.size) {
          this.applyMeta(state.which, Buffer.concat(state.parts));
          this.state = state.pad > 0 ? { kind: 'pad', left: state.pad } : { kind: 'header' };
        }
        continue;
      }
      if (state.kind === 'done') {
        // Record padding after the end-of-archive marker: zeros, and nothing hidden in it.
        const rest = chunk.subarray(at);
        if (!isZero(rest)) throw this.corrupt('data after the end-of-archive marker');
        this.offset += rest.length;
        return;
      }
      // header or zero1: collect one 512-byte block.
      let block: Buffer;
      if (this.pendingLength === 0 && avail >= BLOCK) {
        block = chunk.subarray(at, at + BLOCK);
        at += BLOCK;
      } else {
        const n = Math.min(BLOCK - this.pendingLength, avail);
        chunk.copy(this.pending, this.pendingLength, at, at + n);
        this.pendingLength += n;
        at += n;
        if (this.pendingLength < BLOCK) continue;
        block = this.pending;
        this.pendingLength = 0;
      }
      const event = this.onBlock(block);
      this.offset += BLOCK;
      if (event) yield event;
    }
  }

  /** Call after the last chunk: an archive must end with its end-of-archive marker. */
  finish(): void {
    const s = this.state;
    if (s.kind === 'done') return;
    if (s.kind === 'zero1') throw this.corrupt('truncated: only one of the two end-of-archive blocks');
    if (s.kind === 'data') throw this.corrupt(`truncated: ${s.left} bytes of a member missing`);
    if (s.kind === 'meta') throw this.corrupt('truncated inside an extended header');
    if (this.pendingLength > 0) throw this.corrupt('truncated inside a header block');
    throw this.corrupt('truncated: no end-of-archive marker');
  }

  private onBlock(block: Buffer): TarEvent | undefined {
    if (isZero(block)) {
      if (this.state.kind === 'zero1') {
        if (this.metaSeen) throw this.corrupt('an extended header is followed by no entry');
        this.state = { kind: 'done' };
      } else this.state = { kind: 'zero1' };
      return undefined;
    }
    if (this.state.kind === 'zero1') throw this.corrupt('a lone zero block inside the archive');
    let raw: RawHeader;
    try {
      raw = parseHeader(block);
    } catch (e) {
      throw this.corrupt(e instanceof Error ? e.message : String(e));
    }
    const pad = (BLOCK - (raw.size % BLOCK)) % BLOCK;
    const t = raw.typeflag;
    if (t === 'L' || t === 'K' || t === 'x' || t === 'g') {
      const max = t === 'L' || t === 'K' ? this.limits.maxLongName : this.limits.maxPaxHeader;
      if (raw.size > max) {
        throw new InputError(
          'TAR_LIMIT',
          this.file,
          `${this.label}: a ${t} extended header of ${raw.size} bytes is over the ${max}-byte limit (at byte ${this.offset})`,
        );
      }
      this.metaSeen = true;
      if (raw.size === 0) this.applyMeta(t, Buffer.alloc(0));
      else this.state = { kind: 'meta', which: t, size: raw.size, parts: [], got: 0, pad };
      return undefined;
    }
    const entry = this.makeEntry(raw);
    const hasData = entry.type === 'file';
    if (!hasData && entry.size !== 0) {
      // Readers disagree on whether such data exists (Go's archive/tar skips none): refuse.
      throw this.corrupt(`${entry.type} entry ${JSON.stringify(entry.name)} declares ${entry.size} data bytes`);
    }
    const entryPad = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    if (entry.size > 0) this.state = { kind: 'data', left: entry.size, pad: entryPad };
    else this.state = { kind: 'header' };
    return { type: 'entry', entry };
  }

  private applyMeta(which: 'L' | 'K' | 'x' | 'g', data: Buffer): void {
    if (which === 'L' || which === 'K') {
      const nul = data.indexOf(0);
      const text = data.toString('utf8', 0, nul < 0 ? data.length : nul);
      if (which === 'L') this.longName = text;
      else this.longLink = text;
      return;
    }
    let fields: PaxFields;
    try {
      fields = parsePax(data);
    } catch (e) {
      throw this.corrupt(e instanceof Error ? e.message : String(e));
    }
    if (which === 'x') this.pax = { ...this.pax, ...fields };
    else this.globalPax = { ...this.globalPax, ...fields };
  }

  private makeEntry(raw: RawHeader): TarEntry {
    const pax = { ...this.globalPax, ...this.pax };
    const entry: TarEntry = {
      name: pax.path || this.longName || raw.name,
      type: entryType(raw.typeflag, raw.name, (m) => this.corrupt(m)),
      mode: raw.mode,
      size: pax.size ?? raw.size,
      linkname: pax.linkpath || this.longLink || raw.linkname,
      headerOffset: this.offset,
    };
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    this.metaSeen = false;
    if (entry.name === '') throw this.corrupt('an entry with an empty name');
    this.checkLength('member name', entry.name);
    this.checkLength('link target', entry.linkname);
    return entry;
  }

  /** No real path is longer than PATH_MAX; longer ones only serve to slow every lookup down. */
  private checkLength(what: string, text: string): void {
    const max = this.limits.maxName;
    // UTF-8 takes at most three bytes per UTF-16 unit: most names pass without being encoded.
    if (text.length <= max / 3 || Buffer.byteLength(text) <= max) return;
    throw new InputError(
      'TAR_LIMIT',
      this.file,
      `${this.label}: a ${what} of ${Buffer.byteLength(text)} bytes is over the ${max}-byte limit (at byte ${this.offset})`,
    );
  }
}

function entryType(flag: string, name: string, corrupt: (m: string) => InputError): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '7': // contiguous file: a regular file everywhere that matters
      return name.endsWith('/') && flag === '\0' ? 'dir' : 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
      return 'dir';
    case '6':
      return 'fifo';
    case 'S':
      throw corrupt('GNU sparse members are not supported');
    default:
      throw corrupt(`unsupported entry type ${JSON.stringify(flag)}`);
  }
}

const ZEROS = Buffer.alloc(64 * 1024);

/** All zero bytes? (memcmp against a zero buffer, 64 KiB at a time) */
export function isZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i += ZEROS.length) {
    const part = buf.subarray(i, Math.min(buf.length, i + ZEROS.length));
    if (!part.equals(ZEROS.subarray(0, part.length))) return false;
  }
  return true;
}
