// Walks a byte range of a source in fixed-size chunks, so a scan of a data segment never
// holds more than one chunk in memory. Consecutive chunks overlap by `lookahead` bytes, so a
// pattern that starts in one chunk is always seen whole.
import type { ByteSource } from './bytesource.ts';

const CHUNK = 1 << 20;

/**
 * Calls `visit(buf, offset, owned)` for each chunk of [start, end): `buf` holds the bytes from
 * file offset `offset`; matches should start before `owned` (the rest is lookahead, seen again
 * in the next chunk). Stops at the first result other than undefined and returns it.
 */
export function scanChunks<T>(
  src: ByteSource,
  start: number,
  end: number,
  lookahead: number,
  visit: (buf: Buffer, offset: number, owned: number) => T | undefined,
): T | undefined {
  for (let at = start; at < end; at += CHUNK) {
    const owned = Math.min(CHUNK, end - at);
    const buf = src.read(at, Math.min(owned + lookahead, end - at));
    if (buf.length === 0) return undefined;
    const found = visit(buf, at, Math.min(owned, buf.length));
    if (found !== undefined) return found;
  }
  return undefined;
}
