// `npm run build`: the npm package's JavaScript. Node strips types only outside node_modules,
// so an installed k3sguard must be plain JavaScript: tsc (tsconfig.build.json) writes
// dist/src/, mirroring src/, with declaration files and its `./x.ts` imports rewritten to
// `./x.js`. Then the files the modules read at run time beside themselves (the Sigstore trust
// root) join them, and dist/bin/k3sguard.js is the launcher importing the built CLI.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');
const SOURCE_MAIN = "import('../src/cli/main.ts')";
const BUILT_MAIN = "import('../src/cli/main.js')";

/** bin/k3sguard.js, importing the built CLI instead of the TypeScript one. */
export function builtLauncher(launcher: string): string {
  if (launcher.split(SOURCE_MAIN).length !== 2) throw new Error(`bin/k3sguard.js: expected one ${SOURCE_MAIN}`);
  const [shebang, ...rest] = launcher.split('\n');
  return [
    shebang,
    '// Written by `npm run build` (tools/build.ts) from bin/k3sguard.js: the same launcher, running',
    '// the built JavaScript in dist/src/.',
    ...rest,
  ]
    .join('\n')
    .replace(SOURCE_MAIN, BUILT_MAIN);
}

/**
 * A declaration file with its relative `.ts` module names as `.js`: tsc rewrites them in the
 * JavaScript only, and a consumer's TypeScript would look for the .ts files, which are not shipped.
 */
export function builtDeclarations(text: string): string {
  return text.replace(/(from |import\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2');
}

function build(): void {
  // Only this build's outputs: dist/ also holds the executables, the image and the release,
  // which other builds write.
  for (const dir of ['src', 'bin']) rmSync(join(DIST, dir), { recursive: true, force: true });
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  for (const f of readdirSync(join(DIST, 'src'), { recursive: true, encoding: 'utf8' }))
    if (f.endsWith('.d.ts')) {
      const file = join(DIST, 'src', f);
      writeFileSync(file, builtDeclarations(readFileSync(file, 'utf8')));
    }
  // Data files, not notes: everything in src/ that is neither TypeScript nor Markdown.
  cpSync(join(ROOT, 'src'), join(DIST, 'src'), {
    recursive: true,
    filter: (from) => !/\.(ts|md)$/.test(from),
  });
  mkdirSync(join(DIST, 'bin'), { recursive: true });
  const bin = join(DIST, 'bin', 'k3sguard.js');
  writeFileSync(bin, builtLauncher(readFileSync(join(ROOT, 'bin', 'k3sguard.js'), 'utf8')));
  chmodSync(bin, 0o755);
}

if (import.meta.main) build();
