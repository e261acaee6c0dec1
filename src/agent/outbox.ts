// The agent's outbox: every alert and report is written here, durably, before anything says it
// was sent, so a receiver that is down or an agent killed with -9 loses nothing. Each channel
// (webhook, server) has its own folder and is delivered independently: a message meant for both
// is enqueued twice, one file per channel, each removed when its own receiver acknowledged it.
//
// Layout of `dir`:
//   <channel>/<17-digit sequence>.msg       waiting, oldest (smallest name) first
//   <channel>/dead/<name>.msg + .note        rejected by the receiver for good (a 4xx)
//   <channel>/corrupt/<name>.msg + .note     torn or damaged files, moved aside, never sent
// The sequence starts from the clock in microseconds and only grows, so names sort in enqueue
// order within a run and after a restart. One agent owns an outbox folder at a time.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, removeStaleTemps, writeFileDurably } from '../io/durable-file.ts';
import { InputError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import {
  CHANNELS,
  type Channel,
  decodeRecord,
  encodeRecord,
  type MessageKind,
  type OutboxRecord,
} from './outbox-record.ts';

export type { Channel, MessageKind, OutboxRecord } from './outbox-record.ts';
export { CHANNELS } from './outbox-record.ts';

/** A message read back from the outbox; `name` is its file name in the channel's folder. */
export interface OutboxMessage extends OutboxRecord {
  readonly name: string;
}

/** What happened to the outbox, for metrics; `pending` is the channel's count after it. */
export type OutboxNotice =
  // At construction, per channel: what a previous run left.
  | { readonly kind: 'opened'; readonly channel: Channel; readonly pending: number }
  | { readonly kind: 'enqueued'; readonly channel: Channel; readonly id: string; readonly pending: number }
  | { readonly kind: 'delivered'; readonly channel: Channel; readonly id: string; readonly pending: number }
  | { readonly kind: 'dropped'; readonly channel: Channel; readonly name: string; readonly pending: number }
  | {
      readonly kind: 'dead-lettered';
      readonly channel: Channel;
      readonly id: string;
      readonly reason: string;
      readonly pending: number;
    }
  | {
      readonly kind: 'corrupt';
      readonly channel: Channel;
      readonly name: string;
      readonly problem: string;
      readonly pending: number;
    };

export interface OutboxOptions {
  /** Messages kept per channel; past it the oldest is dropped (default LIMITS.outboxMessages). */
  readonly maxMessages?: number;
  /** Bytes kept per channel; past it the oldest are dropped (default LIMITS.outboxBytes). */
  readonly maxBytes?: number;
  readonly onNotice?: (notice: OutboxNotice) => void;
}

const MESSAGE_NAME = /^\d{17}\.msg$/;
const TEMP_NAME = /^(\d{17}\.msg)\.\d+\.[0-9a-f]+\.tmp$/;
// The id travels in an HTTP header: printable ASCII, no spaces, bounded.
const ID = /^[\x21-\x7e]{1,256}$/;

interface Entry {
  readonly name: string;
  readonly size: number;
}

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

export class Outbox {
  readonly dir: string;
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #onNotice: (notice: OutboxNotice) => void;
  readonly #queues = new Map<Channel, Entry[]>();
  #lastSequence = 0;

  /** Opens (creating it if needed) the outbox in `dir` and lists what a previous run left. */
  constructor(dir: string, options: OutboxOptions = {}) {
    this.dir = dir;
    this.#maxMessages = options.maxMessages ?? LIMITS.outboxMessages;
    this.#maxBytes = options.maxBytes ?? LIMITS.outboxBytes;
    this.#onNotice = options.onNotice ?? (() => {});
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const channel of CHANNELS) {
        mkdirSync(this.#folder(channel), { recursive: true, mode: 0o700 });
        this.#queues.set(channel, this.#scan(channel));
      }
      fsyncDir(dir);
    } catch (e) {
      throw new InputError('OUTPUT', dir, `cannot open the outbox (${errno(e)})`, { cause: e });
    }
    for (const channel of CHANNELS) this.#onNotice({ kind: 'opened', channel, pending: this.pending(channel) });
  }

  /**
   * Writes the message to disk and makes it durable (temp file, fsync, rename, fsync of the
   * folder) before returning: once this returns, the message survives a crash. `body` is JSON text.
   * Throws InputError OUTPUT when the disk refuses (full, read-only): nothing was enqueued then.
   */
  enqueue(channel: Channel, id: string, body: string, options: { kind?: MessageKind } = {}): void {
    if (!ID.test(id))
      throw new TypeError(`outbox: message id must be 1-256 printable ASCII characters: ${JSON.stringify(id)}`);
    JSON.parse(body); // a body that is not JSON is a caller's bug: refuse it here, not at the receiver
    const kind = options.kind ?? (channel === 'server' ? 'report' : 'event');
    const sequence = Math.max(this.#lastSequence + 1, Date.now() * 1000);
    this.#lastSequence = sequence;
    const name = `${String(sequence).padStart(17, '0')}.msg`;
    const target = join(this.#folder(channel), name);
    const data = encodeRecord({ id, channel, kind, enqueuedAt: new Date().toISOString(), body });
    try {
      writeFileDurably(target, data);
    } catch (e) {
      throw new InputError('OUTPUT', target, `cannot write the outbox message (${errno(e)})`, { cause: e });
    }
    const queue = this.#queue(channel);
    queue.push({ name, size: data.length });
    this.#enforceBounds(channel, queue);
    this.#onNotice({ kind: 'enqueued', channel, id, pending: queue.length });
  }

  /** How many messages wait in the channel. */
  pending(channel: Channel): number {
    return this.#queue(channel).length;
  }

  /**
   * Whether a message with this id waits in the channel. Read from the files (rarely needed: the
   * agent asks at start, for events a killed run decided, so a re-hand never queues one twice).
   */
  holds(channel: Channel, id: string): boolean {
    return this.#queue(channel).some((e) => {
      try {
        const decoded = decodeRecord(readFileSync(join(this.#folder(channel), e.name)), channel);
        return decoded.ok && decoded.record.id === id;
      } catch {
        return false; // removed or unreadable: next() deals with it
      }
    });
  }

  /** Bytes of the messages waiting in the channel. */
  pendingBytes(channel: Channel): number {
    return this.#queue(channel).reduce((n, e) => n + e.size, 0);
  }

  /** The oldest whole message of the channel; torn or damaged files before it are moved aside. */
  next(channel: Channel): OutboxMessage | undefined {
    const queue = this.#queue(channel);
    for (let head = queue[0]; head !== undefined; head = queue[0]) {
      const path = join(this.#folder(channel), head.name);
      let data: Buffer;
      try {
        data = readFileSync(path);
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw new InputError('UNREADABLE', path, `cannot read (${errno(e)})`, { cause: e });
        queue.shift(); // removed behind our back: nothing to deliver
        continue;
      }
      const decoded = decodeRecord(data, channel);
      if (decoded.ok) return { ...decoded.record, name: head.name };
      queue.shift();
      this.#moveAside(channel, head.name, 'corrupt', `problem: ${decoded.problem}\n`);
      this.#onNotice({ kind: 'corrupt', channel, name: head.name, problem: decoded.problem, pending: queue.length });
    }
    return undefined;
  }

  /** The receiver acknowledged the message: remove it. */
  ack(message: OutboxMessage): void {
    const queue = this.#forget(message);
    const folder = this.#folder(message.channel);
    rmSync(join(folder, message.name), { force: true });
    fsyncDir(folder);
    this.#onNotice({ kind: 'delivered', channel: message.channel, id: message.id, pending: queue.length });
  }

  /** The receiver refused the message for good: move it to the dead-letter folder with the reason. */
  deadLetter(message: OutboxMessage, reason: string): void {
    const queue = this.#forget(message);
    this.#moveAside(message.channel, message.name, 'dead', `id: ${message.id}\nreason: ${reason}\n`);
    this.#onNotice({ kind: 'dead-lettered', channel: message.channel, id: message.id, reason, pending: queue.length });
  }

  #folder(channel: Channel): string {
    return join(this.dir, channel);
  }

  #queue(channel: Channel): Entry[] {
    const queue = this.#queues.get(channel);
    if (!queue) throw new TypeError(`outbox: unknown channel ${JSON.stringify(channel)}`);
    return queue;
  }

  #forget(message: OutboxMessage): Entry[] {
    const queue = this.#queue(message.channel);
    const at = queue.findIndex((e) => e.name === message.name);
    if (at >= 0) queue.splice(at, 1);
    return queue;
  }

  /** What a previous run left: its messages in order; its half-written temp files removed. */
  #scan(channel: Channel): Entry[] {
    const folder = this.#folder(channel);
    const entries: Entry[] = [];
    for (const name of readdirSync(folder).sort()) {
      const temp = TEMP_NAME.exec(name);
      if (temp) removeStaleTemps(join(folder, temp[1] as string));
      if (!MESSAGE_NAME.test(name)) continue;
      entries.push({ name, size: statSync(join(folder, name)).size });
      this.#lastSequence = Math.max(this.#lastSequence, Number(name.slice(0, 17)));
    }
    return entries;
  }

  /** Over the count or byte bound, the oldest go first; the message just enqueued always stays. */
  #enforceBounds(channel: Channel, queue: Entry[]): void {
    let bytes = queue.reduce((n, e) => n + e.size, 0);
    let dropped = false;
    while (queue.length > 1 && (queue.length > this.#maxMessages || bytes > this.#maxBytes)) {
      const oldest = queue.shift() as Entry;
      bytes -= oldest.size;
      rmSync(join(this.#folder(channel), oldest.name), { force: true });
      dropped = true;
      this.#onNotice({ kind: 'dropped', channel, name: oldest.name, pending: queue.length });
    }
    if (dropped) fsyncDir(this.#folder(channel));
  }

  /** Moves a message file into `<channel>/<aside>/` and writes a note beside it saying why. */
  #moveAside(channel: Channel, name: string, aside: 'dead' | 'corrupt', note: string): void {
    const folder = this.#folder(channel);
    const to = join(folder, aside);
    mkdirSync(to, { recursive: true, mode: 0o700 });
    let target = join(to, name);
    try {
      statSync(target);
      target = join(to, `${name}.${Date.now()}`); // a name from an earlier run: keep both
    } catch {
      // free: the usual case
    }
    renameSync(join(folder, name), target);
    writeFileSync(`${target}.note`, `time: ${new Date().toISOString()}\n${note}`, { mode: 0o600 });
    fsyncDir(to);
    fsyncDir(folder);
  }
}
