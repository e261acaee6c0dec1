// The protobuf wire format (https://protobuf.dev/programming-guides/encoding/), decoding side:
// enough to read the few messages k3sguard gets from a local gRPC API, without .proto files or
// generated code. A message is read as a flat sequence of fields (number, wire type, value);
// callers pick the fields they know by number and skip the rest, as protobuf's own decoders
// do, so a newer server's added fields pass unread. Input is hostile until proven otherwise:
// every length is checked against what is left, varints stop at ten bytes, nested messages
// are followed only to a fixed depth, and every failure is a PROTOBUF_CORRUPT InputError
// naming `where` (the socket and call it came from). Groups (wire types 3 and 4, deprecated
// since proto2 and never used by proto3 messages) are refused rather than skipped: skipping
// one means tracking unbounded nesting.
import { InputError } from '../model/errors.ts';

/** How deep messages may nest inside each other (the messages we read nest four levels). */
export const MAX_PROTO_DEPTH = 32;

export type ProtoField =
  | { number: number; wire: 'varint'; value: bigint }
  | { number: number; wire: 'fixed64'; bytes: Uint8Array }
  | { number: number; wire: 'bytes'; bytes: Uint8Array }
  | { number: number; wire: 'fixed32'; bytes: Uint8Array };

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;
/** Field numbers are 29 bits (1 to 2^29 - 1). */
const MAX_FIELD_NUMBER = 2 ** 29 - 1;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One message's bytes, read field by field. */
export class ProtoMessage {
  readonly where: string;
  readonly depth: number;
  private readonly bytes: Uint8Array;
  private pos = 0;

  constructor(bytes: Uint8Array, where: string, depth = 0) {
    if (depth > MAX_PROTO_DEPTH) throw protoError(where, `messages nested more than ${MAX_PROTO_DEPTH} deep`);
    this.bytes = bytes;
    this.where = where;
    this.depth = depth;
  }

  /** The fields in the order they were written (a repeated field appears once per element). */
  *fields(): Generator<ProtoField> {
    this.pos = 0;
    while (this.pos < this.bytes.length) {
      const at = this.pos;
      const key = this.varint();
      const wire = Number(key & 7n);
      const number = Number(key >> 3n);
      if (number < 1 || number > MAX_FIELD_NUMBER) throw this.error(`invalid field number ${key >> 3n} at byte ${at}`);
      switch (wire) {
        case WIRE_VARINT:
          yield { number, wire: 'varint', value: this.varint() };
          break;
        case WIRE_FIXED64:
          yield { number, wire: 'fixed64', bytes: this.take(8, number) };
          break;
        case WIRE_BYTES: {
          const length = this.varint();
          if (length > BigInt(this.bytes.length - this.pos)) {
            throw this.error(`field ${number} says ${length} bytes, past the end of the message`);
          }
          yield { number, wire: 'bytes', bytes: this.take(Number(length), number) };
          break;
        }
        case WIRE_FIXED32:
          yield { number, wire: 'fixed32', bytes: this.take(4, number) };
          break;
        case WIRE_START_GROUP:
        case WIRE_END_GROUP:
          throw this.error(`field ${number} is a group (wire type ${wire}), which proto3 messages never hold`);
        default:
          throw this.error(`field ${number} has unknown wire type ${wire}`);
      }
    }
  }

  /** A field holding a nested message, one level deeper. */
  nested(f: ProtoField, name: string): ProtoMessage {
    return new ProtoMessage(this.bytesOf(f, name), this.where, this.depth + 1);
  }

  string(f: ProtoField, name: string): string {
    const bytes = this.bytesOf(f, name);
    try {
      return utf8.decode(bytes);
    } catch {
      throw this.error(`${name} is not valid UTF-8`);
    }
  }

  bytesOf(f: ProtoField, name: string): Uint8Array {
    if (f.wire !== 'bytes') throw this.wrongWire(f, name, 'length-delimited');
    return f.bytes;
  }

  bool(f: ProtoField, name: string): boolean {
    return this.varintOf(f, name) !== 0n;
  }

  /** uint32 (and enums, which are int32 on the wire: a negative one is refused). */
  uint32(f: ProtoField, name: string): number {
    const v = this.varintOf(f, name);
    if (v > 0xffffffffn) throw this.error(`${name} is ${v}, not a uint32`);
    return Number(v);
  }

  /** int32 as the wire carries it: negatives are sign-extended to ten bytes. */
  int32(f: ProtoField, name: string): number {
    const v = BigInt.asIntN(64, this.varintOf(f, name));
    if (v < -0x80000000n || v > 0x7fffffffn) throw this.error(`${name} is ${v}, not an int32`);
    return Number(v);
  }

  /** int64 as a JavaScript number: one past the safe-integer range is refused, not rounded. */
  int64(f: ProtoField, name: string): number {
    const v = BigInt.asIntN(64, this.varintOf(f, name));
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.error(`${name} is ${v}, beyond what k3sguard reads exactly`);
    }
    return Number(v);
  }

  /**
   * One entry of a `map<string, string>` field: on the wire a nested message with the key as
   * field 1 and the value as field 2, either of which may be absent (then empty).
   */
  stringMapEntry(f: ProtoField, name: string): [string, string] {
    const entry = this.nested(f, name);
    let key = '';
    let value = '';
    for (const g of entry.fields()) {
      if (g.number === 1) key = entry.string(g, `${name} key`);
      else if (g.number === 2) value = entry.string(g, `${name} value`);
    }
    return [key, value];
  }

  /**
   * google.protobuf.Timestamp (google/protobuf/timestamp.proto: int64 seconds = 1, int32
   * nanos = 2), as a Date (millisecond precision). Out-of-range values are refused: the type
   * is defined for years 0001 to 9999, nanos 0 to 999,999,999.
   */
  timestamp(f: ProtoField, name: string): Date {
    const m = this.nested(f, name);
    let seconds = 0;
    let nanos = 0;
    for (const g of m.fields()) {
      if (g.number === 1) seconds = m.int64(g, `${name} seconds`);
      else if (g.number === 2) nanos = m.int32(g, `${name} nanos`);
    }
    if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS || nanos < 0 || nanos > 999_999_999) {
      throw this.error(`${name} is out of range (${seconds} s, ${nanos} ns)`);
    }
    return new Date(seconds * 1000 + Math.floor(nanos / 1_000_000));
  }

  error(why: string): InputError {
    return protoError(this.where, why);
  }

  private varintOf(f: ProtoField, name: string): bigint {
    if (f.wire !== 'varint') throw this.wrongWire(f, name, 'varint');
    return f.value;
  }

  private wrongWire(f: ProtoField, name: string, want: string): InputError {
    return this.error(`${name} (field ${f.number}) is ${f.wire}, not ${want}`);
  }

  /** A base-128 varint of at most ten bytes (64 bits), least significant group first. */
  private varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) throw this.error('a varint runs past the end of the message');
      const b = this.bytes[this.pos++] as number;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw this.error('a varint is longer than ten bytes');
  }

  private take(n: number, field: number): Uint8Array {
    if (this.bytes.length - this.pos < n) throw this.error(`field ${field} runs past the end of the message`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, as timestamp.proto defines the range. */
const MIN_TIMESTAMP_SECONDS = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799;

function protoError(where: string, why: string): InputError {
  return new InputError('PROTOBUF_CORRUPT', where, `malformed protobuf message: ${why}`);
}
