// Run by import.test.ts as a separate process: `node import-child.ts DB SOURCE STOP_AT`.
// Imports SOURCE into DB and, once STOP_AT records are read, says "midway" and blocks, so
// the test can SIGKILL it in the middle of an import, with the new file half written.
import { importOsv } from '../../src/vulndb/import.ts';

const [db, source, stopAt] = process.argv.slice(2);
await importOsv(db, [source as string], {
  progress(p) {
    if (p.phase !== 'read' || p.done < Number(stopAt)) return;
    process.stdout.write(`midway ${p.done}\n`); // synchronous on a pipe (Linux)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
  },
});
process.stdout.write('finished\n');
