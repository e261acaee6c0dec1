// One outbox message as it lies on disk: a header line that says how long the payload is and
// what its sha256 is, then the payload (JSON). The header is what lets a reader tell a whole
// message from one a crash or a disk error left torn: a torn file is never delivered half.
import { createHash } from 'node:crypto';

export type Channel = 'webhook' | 'server';
export const CHANNELS: readonly Channel[] = ['webhook', 'server'];

/** What a message is, for the server channel's endpoint (`/api/v1/events` or `/api/v1/reports`). */
export type MessageKind = 'event' | 'report';

export interface OutboxRecord {
  /** The id the receiver dedupes on (sent as `X-K3sguard-Event-Id`). */
  readonly id: string;
  readonly channel: Channel;
  readonly kind: MessageKind;
  /** ISO 8601, when enqueue was called. */
  readonly enqueuedAt: string;
  /** The request body, JSON text, sent byte for byte (the webhook signature covers these bytes). */
  readonly body: string;
}

const MAGIC = 'k3sguard-outbox/1';
// The header is short: magic, a decimal length, 64 hex digits. Anything longer is not ours.
const MAX_HEADER = 128;
const HEADER = /^k3sguard-outbox\/1 (\d{1,15}) ([0-9a-f]{64})$/;

export function encodeRecord(record: OutboxRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(record), 'utf8');
  const sum = createHash('sha256').update(payload).digest('hex');
  return Buffer.concat([Buffer.from(`${MAGIC} ${payload.length} ${sum}\n`, 'ascii'), payload]);
}

export type DecodedRecord = { ok: true; record: OutboxRecord } | { ok: false; problem: string };

/** The record in `data`, or what is wrong with it (truncated, checksum mismatch, not ours). */
export function decodeRecord(data: Buffer, channel: Channel): DecodedRecord {
  const nl = data.subarray(0, MAX_HEADER).indexOf(0x0a);
  if (nl < 0) return { ok: false, problem: data.length === 0 ? 'empty file' : 'no outbox header line' };
  const m = HEADER.exec(data.subarray(0, nl).toString('latin1'));
  if (!m) return { ok: false, problem: 'not an outbox header line' };
  const length = Number(m[1]);
  const payload = data.subarray(nl + 1);
  if (payload.length !== length) {
    return { ok: false, problem: `payload is ${payload.length} bytes, the header says ${length} (torn write)` };
  }
  if (createHash('sha256').update(payload).digest('hex') !== m[2]) {
    return { ok: false, problem: 'payload sha256 does not match the header' };
  }
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, problem: 'payload is not JSON' };
  }
  const r = value as Partial<OutboxRecord> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.id !== 'string' ||
    r.channel !== channel ||
    (r.kind !== 'event' && r.kind !== 'report') ||
    typeof r.enqueuedAt !== 'string' ||
    typeof r.body !== 'string'
  ) {
    return { ok: false, problem: `payload is not an outbox record of channel ${channel}` };
  }
  return {
    ok: true,
    record: { id: r.id, channel: r.channel, kind: r.kind, enqueuedAt: r.enqueuedAt, body: r.body },
  };
}
