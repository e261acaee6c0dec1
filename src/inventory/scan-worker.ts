// Worker thread: one read of a whole file, hashing it and collecting the bundle names and
// zstd magics in it (searchFile), so the cores scan several files at once while the main
// thread reads build info, and no file is read whole twice.
import { parentPort } from 'node:worker_threads';
import { fileSource } from '../io/bytesource.ts';
import { searchFile } from '../readers/bundle/locate.ts';

parentPort?.on('message', (msg: { path: string }) => {
  try {
    const src = fileSource(msg.path);
    try {
      parentPort?.postMessage({ ok: searchFile(src, { hash: true }) });
    } finally {
      src.close();
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    parentPort?.postMessage({ error: err.code ?? err.message });
  }
});
