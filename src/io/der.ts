// DER (ASN.1 Distinguished Encoding Rules), encoding side: the few types an X.509 certificate
// needs. Each function returns one whole TLV; constructed values take their members' TLVs.
// DER has one encoding per value, so nothing here has options: lengths are minimal, integers
// have no superfluous leading bytes, and bit strings name their unused bits.

/** One TLV: tag byte, minimal length, content. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  let length: number[];
  if (n < 0x80) {
    length = [n];
  } else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    length = [0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}

export const sequence = (...members: Uint8Array[]): Buffer => tlv(0x30, Buffer.concat(members));
export const set = (...members: Uint8Array[]): Buffer => tlv(0x31, Buffer.concat(members));
export const octetString = (bytes: Uint8Array): Buffer => tlv(0x04, bytes);
export const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
export const boolean = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));

/** A constructed context-specific tag `[n]` around `members` (EXPLICIT tagging). */
export const explicit = (n: number, ...members: Uint8Array[]): Buffer => tlv(0xa0 | n, Buffer.concat(members));
/** A primitive context-specific tag `[n]` replacing the type's own (IMPLICIT tagging of a primitive). */
export const implicit = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);

/** A non-negative INTEGER from its big-endian magnitude. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const bytes = magnitude.subarray(start);
  // A set top bit would read as negative: a zero byte in front keeps it positive.
  const content =
    bytes.length === 0
      ? Buffer.from([0])
      : (bytes[0] as number) & 0x80
        ? Buffer.concat([Buffer.from([0]), bytes])
        : bytes;
  return tlv(0x02, content);
}

export const smallInteger = (value: number): Buffer => unsignedInteger(Buffer.from([value]));

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new Error(`not an OID: ${dotted}`);
  const out: number[] = [];
  const [first, second, ...rest] = arcs as [number, number, ...number[]];
  for (const arc of [first * 40 + second, ...rest]) {
    const groups: number[] = [];
    for (let v = arc; ; v = Math.floor(v / 128)) {
      groups.unshift(v % 128);
      if (v < 128) break;
    }
    for (const [i, g] of groups.entries()) out.push(i < groups.length - 1 ? g | 0x80 : g);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A BIT STRING of whole bytes whose last `unusedBits` bits are padding. */
export const bitString = (bytes: Uint8Array, unusedBits = 0): Buffer =>
  tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));

/** UTCTime up to 2049, GeneralizedTime from 2050, both to the second in UTC (RFC 5280 4.1.2.5). */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-12-03T18:56:20.000Z
  const digits = iso.slice(0, 19).replace(/[-:T]/g, ''); // 20261203185620
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}
