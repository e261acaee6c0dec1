// `./quickstart` with no target and no K3s on this machine: a K3s-shaped binary to inspect,
// the one the tests build (an outer Go k3s embedding a zstd bundle of real Go binaries and an
// inner k3s, see test/fixtures/k3s-shaped.ts). Prints its path, or why it could not be made.

import { k3sShaped } from '../test/fixtures/k3s-shaped.ts';
import { fetchRealBinary, REAL_BINARIES } from '../test/fixtures/realbins.ts';

try {
  for (const name of Object.keys(REAL_BINARIES)) fetchRealBinary(name);
  const built = await k3sShaped('good', (line) => process.stderr.write(`quickstart: ${line}\n`));
  if ('skip' in built) {
    process.stderr.write(`quickstart: cannot build a K3s-shaped binary here: ${built.skip}\n`);
    process.exitCode = 2;
  } else {
    process.stdout.write(`${built.path}\n`);
  }
} catch (e) {
  const err = e as { message?: string; stderr?: Buffer | string };
  const detail = err.stderr?.toString().trim().split('\n').pop() || err.message || String(e);
  process.stderr.write(`quickstart: cannot build a K3s-shaped binary here: ${detail}\n`);
  process.exitCode = 2;
}
