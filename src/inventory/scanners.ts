// Reading every byte of every file (to hash it, and to find an embedded bundle) is most of
// the cost of an inventory. Two ways to keep it off the critical path:
// - a folder: a pool of worker threads scans files in parallel (one read per file), while
//   the main thread reads build info and decompresses bundles;
// - one file: the main thread finds the bundle at once (jumping over the frame, no hashing),
//   and hashes the file in its idle time while the bundle decompresses.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ByteSource } from '../io/bytesource.ts';
import { defaultPoolSize, WorkerPool } from '../io/worker-pool.ts';
import { InputError } from '../model/errors.ts';
import { type FileSearch, searchFile } from '../readers/bundle/locate.ts';
import type { ScanReply, ScanRequest } from './scan-worker.ts';

export interface Scan {
  /** Bundle names and zstd magics in the file. */
  search: Promise<Pick<FileSearch, 'names' | 'magics'>>;
  sha256: Promise<string>;
}

export interface FileScanner {
  /** `src` is the file at `path`, open; `file` is how the user named it, for errors. */
  scan(path: string, src: ByteSource, file: string): Scan;
  close(): Promise<void>;
}

function unreadable(file: string, why: string): InputError {
  return new InputError('UNREADABLE', file, `cannot read (${why})`);
}

/**
 * For many files: worker threads, each scanning one file at a time from a shared queue, the
 * largest queued file first. A worker takes its first file once it is up (~30 ms), by when
 * the walk has queued the folder: so the run ends with small files, not one core on the
 * largest while the others wait.
 */
export class ScanPool implements FileScanner {
  private readonly pool: WorkerPool<ScanRequest, ScanReply>;

  constructor(size = defaultPoolSize()) {
    this.pool = new WorkerPool(new URL('./scan-worker.ts', import.meta.url), size, { whenUp: true });
  }

  scan(path: string, src: ByteSource, file: string): Scan {
    const result = this.pool.run({ path }, src.size).then((m) => {
      if ('ok' in m) return m.ok;
      throw unreadable(file, m.error);
    });
    return { search: result, sha256: result.then((r) => r.sha256 as string) };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

const SLICE = 256 * 1024;

/** For one file: search now on this thread, hash in slices between other work. */
export class InterleavedScanner implements FileScanner {
  private readonly buf = Buffer.allocUnsafe(SLICE);

  scan(path: string, src: ByteSource, file: string): Scan {
    const found = searchFile(src, { hash: false });
    return { search: Promise.resolve(found), sha256: this.hash(path, file) };
  }

  private async hash(path: string, file: string): Promise<string> {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw unreadable(file, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
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
