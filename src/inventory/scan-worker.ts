// Worker thread of the ScanPool: one read of a whole file, hashing it and collecting the
// bundle names and zstd magics in it (searchFile), so the cores scan several files at once
// while the main thread reads build info, and no file is read whole twice.
import { fileSource } from '../io/bytesource.ts';
import { serveRequests } from '../io/worker-serve.ts';
import { type FileSearch, searchFile } from '../readers/bundle/locate.ts';

export interface ScanRequest {
  path: string;
}

/** A file that cannot be read is an answer (its errno code), not a failed worker. */
export type ScanReply = { ok: FileSearch } | { error: string };

serveRequests((msg: ScanRequest): ScanReply => {
  try {
    const src = fileSource(msg.path);
    try {
      return { ok: searchFile(src, { hash: true }) };
    } finally {
      src.close();
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { error: err.code ?? err.message };
  }
});
