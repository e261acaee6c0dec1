// A ByteSource over the chunks a member arrived in, without joining them: joining a 50 MB
// member would double its memory for a moment, and the ELF readers only ever read small
// pieces (headers, a section, the build info), which mostly sit inside one chunk.
import type { ByteSource } from './bytesource.ts';

export function chunkListSource(name: string, chunks: readonly Buffer[]): ByteSource {
  const starts: number[] = [];
  let size = 0;
  for (const c of chunks) {
    starts.push(size);
    size += c.length;
  }
  /** Index of the chunk holding byte `offset` (binary search). */
  const chunkAt = (offset: number): number => {
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    name,
    size,
    read(offset, length) {
      if (offset >= size || length <= 0 || offset < 0) return Buffer.alloc(0);
      const end = Math.min(size, offset + length);
      let i = chunkAt(offset);
      const first = chunks[i] as Buffer;
      const from = offset - (starts[i] as number);
      if (from + (end - offset) <= first.length) return first.subarray(from, from + (end - offset));
      const out = Buffer.allocUnsafe(end - offset);
      let written = 0;
      let at = from;
      while (written < out.length) {
        const c = chunks[i] as Buffer;
        written += c.copy(out, written, at, Math.min(c.length, at + out.length - written));
        at = 0;
        i++;
      }
      return out;
    },
  };
}
