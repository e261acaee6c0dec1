// Random access to bytes, whether they live in a file on disk or in memory (a member of a
// bundle that was streamed out of a zstd frame). Readers take a ByteSource so the same ELF
// and Go build info code serves both, and a file is never read whole into memory.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ByteSource {
  /** How the user knows this input: a path, or `outer!bundle/bin/runc`. */
  readonly name: string;
  readonly size: number;
  /** Up to `length` bytes at `offset`; fewer only at the end of the source. */
  read(offset: number, length: number): Buffer;
  /**
   * Optional: fill `target` with the bytes at `offset` and return how many were read (fewer
   * only at the end). Lets a whole-file pass reuse one buffer instead of leaving a fresh one
   * per read for the garbage collector, which otherwise piles up to over 100 MB.
   */
  readInto?(target: Buffer, offset: number): number;
}

export function bufferSource(name: string, data: Buffer): ByteSource {
  return {
    name,
    size: data.length,
    read(offset, length) {
      if (offset >= data.length || length <= 0) return Buffer.alloc(0);
      return data.subarray(offset, Math.min(data.length, offset + length));
    },
  };
}

export interface FileSource extends ByteSource {
  close(): void;
}

/** A file opened for positional reads. Call close() when done. */
export function fileSource(path: string, name: string = path): FileSource {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const readInto = (target: Buffer, offset: number): number => {
    const want = Math.max(0, Math.min(target.length, size - offset));
    let got = 0;
    while (got < want) {
      const n = readSync(fd, target, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  };
  return {
    name,
    size,
    read(offset, length) {
      if (offset >= size || length <= 0) return Buffer.alloc(0);
      const buf = Buffer.allocUnsafe(Math.min(length, size - offset));
      const got = readInto(buf, offset);
      return got === buf.length ? buf : buf.subarray(0, got);
    },
    readInto,
    close() {
      closeSync(fd);
    },
  };
}

/** The first `length` bytes of a file (fewer when it is shorter): enough to sniff its format. */
export function readFileHead(path: string, length: number): Buffer {
  const head = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    return head.subarray(0, readSync(fd, head, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}
