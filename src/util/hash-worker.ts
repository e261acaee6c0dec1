// Worker thread: sha256 of whole files, so the two cores hash two files at once while the
// main thread reads build info and decompresses bundles. Kept free of project imports so
// it starts in milliseconds.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const CHUNK = 4 * 1024 * 1024;
const buf = Buffer.allocUnsafe(CHUNK);

function hashFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    for (let at = 0; ; ) {
      const n = readSync(fd, buf, 0, CHUNK, at);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      at += n;
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

parentPort?.on('message', (msg: { path: string }) => {
  try {
    parentPort?.postMessage({ sha256: hashFile(msg.path) });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    parentPort?.postMessage({ error: err.code ?? err.message });
  }
});
