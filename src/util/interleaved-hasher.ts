// sha256 of a file on the main thread, in slices between other work: while a bundle is
// decompressed (on the libuv pool) the main thread mostly waits, and those gaps hash the
// whole file for free, without the memory and start-up of a worker thread.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { InputError } from '../errors.ts';
import type { FileHasher } from './hashpool.ts';

const SLICE = 2 * 1024 * 1024;

export class InterleavedHasher implements FileHasher {
  private readonly buf = Buffer.allocUnsafe(SLICE);

  async hashFile(path: string, file: string): Promise<string> {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new InputError(
        'UNREADABLE',
        file,
        `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    try {
      const hash = createHash('sha256');
      for (let at = 0; ; ) {
        await yieldToEventLoop();
        const n = readSync(fd, this.buf, 0, SLICE, at);
        if (n === 0) return hash.digest('hex');
        hash.update(this.buf.subarray(0, n));
        at += n;
      }
    } finally {
      closeSync(fd);
    }
  }

  async close(): Promise<void> {}
}
