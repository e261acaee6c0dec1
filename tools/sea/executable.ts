// One single executable: Node's own tooling turns the bundled script and its assets into a
// preparation blob (`node --experimental-sea-config`; Node 24 has no --build-sea), and postject
// writes the blob into a copy of the Node binary as the NODE_SEA_BLOB section Node looks for.
// The blob is best made by the very Node binary it goes into: then it also carries V8's code
// cache of the script, compiled ahead, which only that Node on that architecture accepts, and
// the executable starts faster than the script form. For another architecture that Node runs
// under Debian's qemu-user-static (with the target's C and C++ runtimes from multiarch
// packages); without qemu, the host's Node of the same version makes the blob without the
// cache (Node then compiles at start-up), and the build says so.
// V8 seeds the code cache from its random seed: a fixed one makes two builds of one commit the
// same bytes (the image built from the executable must be reproducible), and a seed is no flag
// the cache is checked against, so the executable still accepts it (its start-up shows it).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type { Arch, NodeBinary } from './node-binary.ts';

/** The fuse Node's binary carries; postject flips it so Node looks for the blob. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const QEMU: Record<Arch, string> = { amd64: 'qemu-x86_64-static', arm64: 'qemu-aarch64-static' };
const POSTJECT = createRequire(import.meta.url).resolve('postject/dist/cli.js');

export interface ExecutableInput {
  /** The binary that goes into the executable. */
  target: NodeBinary;
  /** A binary of the same Node version that runs here. */
  host: NodeBinary;
  /** The bundled CLI script (a file in workDir). */
  main: string;
  /** Asset key -> file. */
  assets: Record<string, string>;
  /** Where the blob and its config go; the blob names its main script relative to it. */
  workDir: string;
  output: string;
}

/** How to run the target's Node here (a command line), or undefined when it cannot run. */
function targetNode(target: NodeBinary, host: NodeBinary): string[] | undefined {
  if (target.arch === host.arch) return [target.path];
  const emulated = [QEMU[target.arch], target.path];
  const probe = spawnSync(emulated[0] as string, [target.path, '--version'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.trim() === `v${target.package.version}` ? emulated : undefined;
}

export function buildExecutable(input: ExecutableInput): { codeCache: boolean } {
  const { target, host, workDir } = input;
  const own = targetNode(target, host);
  const [command, ...prefix] = own ?? [host.path];
  if (!own)
    process.stderr.write(
      `build:sea: ${target.arch}: no ${QEMU[target.arch]} to run its Node, so no code cache (slower start)\n`,
    );
  const config = join(workDir, `sea-config-${target.arch}.json`);
  const blob = join(workDir, `sea-${target.arch}.blob`);
  writeFileSync(
    config,
    JSON.stringify({
      // The blob records the script's path as given: relative, so a build in another temporary
      // folder gives the same bytes.
      main: relative(workDir, input.main),
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: own !== undefined,
      assets: input.assets,
    }),
  );
  execFileSync(command as string, [...prefix, '--random-seed=1', '--experimental-sea-config', config], {
    cwd: workDir,
    stdio: 'pipe',
  });
  copyFileSync(target.path, input.output);
  chmodSync(input.output, 0o755);
  inject(input.output, blob);
  return { codeCache: own !== undefined };
}

/**
 * postject's own command, in a process of its own: its ELF library prints a warning for each
 * note section it cannot name (harmless, and every build), so what it says is shown only
 * when it fails.
 */
function inject(executable: string, blob: string): void {
  const r = spawnSync(process.execPath, [POSTJECT, executable, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`postject ${executable} failed:\n${r.stdout}${r.stderr}`);
}
