// What a release is assembled from: the outputs of `npm run build:sea` and `npm run build:image`
// (the agreed interface of issue 12), built afresh from the source the release names into a
// build folder of the release's own (so a release never mixes with, or disturbs, what else is
// in dist/), then checked to be there. A build script that does not exist, or did not write
// what it must, stops the release with the file it lacks: nothing is faked or taken from an
// earlier build.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ReleaseError } from './release-error.ts';

export const ARCHES = ['amd64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

export interface BuildOutputs {
  executables: Record<Arch, string>;
  executableSboms: Record<Arch, string>;
  materials: string;
  imageArchive: string;
  imageSbom: string;
}

/** Where the build scripts write under `--out-dir dist`. */
export function buildOutputPaths(dist: string): BuildOutputs {
  const perArch = (f: (a: Arch) => string) => Object.fromEntries(ARCHES.map((a) => [a, f(a)])) as Record<Arch, string>;
  return {
    executables: perArch((a) => join(dist, `k3sguard-linux-${a}`)),
    executableSboms: perArch((a) => join(dist, 'sea', `k3sguard-linux-${a}.cdx.json`)),
    materials: join(dist, 'sea', 'materials.json'),
    imageArchive: join(dist, 'k3sguard-image.tar'),
    imageSbom: join(dist, 'k3sguard-image.cdx.json'),
  };
}

/** The npm scripts that make the outputs, in order, with their arguments for writing into `dir`. */
const BUILD_SCRIPTS = [
  { script: 'build:sea', makes: 'the single executables (issue 12 item 2)', args: (dir: string) => ['--out-dir', dir] },
  {
    script: 'build:image',
    makes: 'the image (issue 12 item 3)',
    // The image holds the amd64 executable: the one just built, not dist/'s.
    args: (dir: string) => ['--out-dir', dir, '--executable', join(dir, 'k3sguard-linux-amd64')],
  },
] as const;

/** Runs each build script into `dir`, its output going to stderr with ours. */
export function runBuilds(root: string, dir: string, env: NodeJS.ProcessEnv, log: (line: string) => void): void {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> })
    .scripts;
  // All checked before any runs: a missing one should not cost the time of the others.
  for (const { script, makes } of BUILD_SCRIPTS) {
    if (!scripts?.[script]) {
      throw new ReleaseError(
        `package.json has no "${script}" script: ${makes} cannot be built, so there is no release`,
      );
    }
  }
  for (const { script, args } of BUILD_SCRIPTS) {
    log(`npm run ${script}`);
    try {
      execFileSync('npm', ['run', '--silent', script, '--', ...args(dir)], { cwd: root, env, stdio: ['ignore', 2, 2] });
    } catch {
      throw new ReleaseError(`npm run ${script} failed (its output is above): no release`);
    }
  }
}

/** Every output must be a non-empty regular file. */
export function checkOutputs(outputs: BuildOutputs): void {
  const all = [
    ...Object.values(outputs.executables),
    ...Object.values(outputs.executableSboms),
    outputs.materials,
    outputs.imageArchive,
    outputs.imageSbom,
  ];
  for (const file of all) {
    if (!existsSync(file) || !statSync(file).isFile() || statSync(file).size === 0) {
      throw new ReleaseError(`${file}: missing after the build: the release needs it`);
    }
  }
}
