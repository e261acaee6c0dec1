// One single executable: Node's own tooling turns the bundled script and its assets into a
// preparation blob (`node --experimental-sea-config`; Node 24 has no --build-sea), and postject
// writes the blob into a copy of the Node binary as the NODE_SEA_BLOB section Node looks for.
// The blob is made by the very Node binary it goes into when that can run here (the host's
// architecture): then it also carries V8's code cache of the script, compiled ahead, which
// only that Node on that architecture accepts. A blob for another architecture is made by the
// host's Node of the same version, without the cache (Node then compiles at start-up).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'postject';
import type { NodeBinary } from './node-binary.ts';

/** The fuse Node's binary carries; postject flips it so Node looks for the blob. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface ExecutableInput {
  /** The binary that goes into the executable. */
  target: NodeBinary;
  /** A binary of the same Node version that runs here, to make the blob. */
  host: NodeBinary;
  /** The bundled CLI script (a file). */
  main: string;
  /** Asset key -> file. */
  assets: Record<string, string>;
  /** Where the blob and its config go. */
  workDir: string;
  output: string;
}

export async function buildExecutable(input: ExecutableInput): Promise<{ codeCache: boolean }> {
  const { target, host, workDir } = input;
  const codeCache = target.arch === host.arch;
  const config = join(workDir, `sea-config-${target.arch}.json`);
  const blob = join(workDir, `sea-${target.arch}.blob`);
  writeFileSync(
    config,
    JSON.stringify({
      main: input.main,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: codeCache,
      assets: input.assets,
    }),
  );
  execFileSync(host.path, ['--experimental-sea-config', config], {
    cwd: workDir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  copyFileSync(target.path, input.output);
  chmodSync(input.output, 0o755);
  await inject(input.output, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  return { codeCache };
}
