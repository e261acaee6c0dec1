// One 512-byte tar header block and pax extended header records, parsed strictly: a field
// that one tar implementation could read differently from another is an error, since the
// bundle's content is what K3s's own (Go) extractor would write, and nothing else counts.

export interface RawHeader {
  name: string;
  mode: number;
  size: number;
  typeflag: string;
  linkname: string;
}

/** The pax keys this reader uses; every other key is read and ignored. */
export interface PaxFields {
  path?: string;
  linkpath?: string;
  size?: number;
}

const USTAR_MAGIC = Buffer.from('ustar\x0000', 'latin1'); // POSIX: magic "ustar\0", version "00"
const GNU_MAGIC = Buffer.from('ustar  \x00', 'latin1'); // GNU: magic "ustar ", version " \0"

/** A NUL-terminated text field. */
function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul < 0 ? length : nul);
}

/**
 * A numeric field: octal digits (leading spaces allowed, ended by space or NUL), or GNU
 * base-256 (high bit of the first byte set) for values that do not fit. Negative base-256
 * values and values past 2^53 are refused.
 */
export function parseNumber(block: Buffer, start: number, length: number, what: string): number {
  const field = block.subarray(start, start + length);
  const first = field[0] as number;
  if (first & 0x80) {
    if (first === 0xff) throw new Error(`negative base-256 ${what}`);
    let value = first & 0x7f;
    for (let i = 1; i < field.length; i++) {
      value = value * 256 + (field[i] as number);
      if (value > Number.MAX_SAFE_INTEGER) throw new Error(`${what} is too large`);
    }
    return value;
  }
  let i = 0;
  while (i < field.length && field[i] === 0x20) i++;
  let value = 0;
  let digits = 0;
  for (; i < field.length; i++) {
    const c = field[i] as number;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw new Error(`${what} field is not octal`);
    value = value * 8 + (c - 0x30);
    digits++;
  }
  // After the terminator only more terminators may follow.
  for (; i < field.length; i++) {
    const c = field[i];
    if (c !== 0 && c !== 0x20) throw new Error(`${what} field has bytes after its terminator`);
  }
  if (digits === 0 && what === 'checksum') throw new Error('empty checksum field');
  return value;
}

export function parseHeader(block: Buffer): RawHeader {
  const stored = parseNumber(block, 148, 8, 'checksum');
  // The checksum is the byte sum with the checksum field itself counted as spaces. Some old
  // tars summed signed bytes; accept either, as GNU tar and Go do.
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < 512; i++) {
    if (i >= 148 && i < 156) continue;
    const b = block[i] as number;
    unsigned += b;
    signed += b < 128 ? b : b - 256;
  }
  if (stored !== unsigned && stored !== signed) throw new Error('header checksum mismatch');

  const magic = block.subarray(257, 265);
  const posix = magic.equals(USTAR_MAGIC);
  if (!posix && !magic.equals(GNU_MAGIC)) throw new Error('not a ustar or GNU tar header');
  let name = text(block, 0, 100);
  // Only POSIX ustar has the prefix field; GNU keeps other data (times) in those bytes.
  if (posix) {
    const prefix = text(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    mode: parseNumber(block, 100, 8, 'mode') & 0o7777,
    size: parseNumber(block, 124, 12, 'size'),
    typeflag: String.fromCharCode(block[156] as number),
    linkname: text(block, 157, 100),
  };
}

/** pax records: `<length> <key>=<value>\n`, the length counting the whole record. */
export function parsePax(data: Buffer): PaxFields {
  const out: PaxFields = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0 || space - at > 20) throw new Error('malformed pax record length');
    const lenText = data.toString('latin1', at, space);
    if (!/^[1-9][0-9]*$/.test(lenText)) throw new Error('malformed pax record length');
    const len = Number(lenText);
    const end = at + len;
    if (end > data.length || data[end - 1] !== 0x0a) throw new Error('malformed pax record');
    const record = data.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new Error('malformed pax record: no key');
    const key = record.toString('utf8', 0, eq);
    const value = record.toString('utf8', eq + 1);
    if (key.startsWith('GNU.sparse.')) throw new Error('GNU sparse members are not supported');
    if (key === 'path' || key === 'linkpath') {
      if (value.includes('\0')) throw new Error(`pax ${key} contains a NUL byte`);
      out[key] = value;
    } else if (key === 'size') {
      if (!/^[0-9]{1,16}$/.test(value) || Number(value) > Number.MAX_SAFE_INTEGER) {
        throw new Error('malformed pax size');
      }
      out.size = Number(value);
    }
    at = end;
  }
  return out;
}
