// The protobuf wire format, encoding side: the few field kinds k3sguard's requests use
// (strings, varints, nested messages). Fields are written in the order they are added; a
// proto3 field at its default value (empty string, zero) is simply not added.

/** Builds one message's bytes. */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  /** A length-delimited field holding UTF-8 text. */
  string(number: number, text: string): this {
    return this.bytes(number, Buffer.from(text, 'utf8'));
  }

  /** A length-delimited field: bytes, or a nested message's `finish()`. */
  bytes(number: number, bytes: Uint8Array): this {
    this.key(number, 2);
    this.parts.push(varintBytes(BigInt(bytes.length)), bytes);
    return this;
  }

  /** A varint field (uint32, uint64, bool, enum; int32/int64 two's complement in 64 bits). */
  varint(number: number, value: number | bigint): this {
    this.key(number, 0);
    this.parts.push(varintBytes(BigInt.asUintN(64, BigInt(value))));
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }

  private key(number: number, wire: number): void {
    this.parts.push(varintBytes((BigInt(number) << 3n) | BigInt(wire)));
  }
}

/** An unsigned value as a base-128 varint, least significant group first. */
export function varintBytes(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = value;
  do {
    const group = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v === 0n ? group : group | 0x80);
  } while (v !== 0n);
  return Uint8Array.from(out);
}
