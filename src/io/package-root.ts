// k3sguard's own package: its root folder, and its package.json. The modules run from three
// layouts: src/<layer>/x.ts in a git clone, dist/src/<layer>/x.js in the npm package (npm run
// build), one level deeper, and the single executable, which has no package folder at all and
// carries package.json as an asset (io/sea.ts). In the first two, the first folder up from
// this module that holds a package.json is the package root (dist/ itself has none).
import { existsSync, readFileSync } from 'node:fs';
import { IN_SEA, SEA_ASSET, seaAssetText } from './sea.ts';

function findRoot(): URL {
  for (let dir = new URL('./', import.meta.url); ; ) {
    if (existsSync(new URL('package.json', dir))) return dir;
    const up = new URL('../', dir);
    if (up.href === dir.href) throw new Error(`no package.json above ${import.meta.url}`);
    dir = up;
  }
}

let root: URL | undefined;

/** The package root, as a folder URL (ends in '/'); the single executable has none. */
export function packageRoot(): URL {
  if (IN_SEA) throw new Error('the single executable has no package folder');
  root ??= findRoot();
  return root;
}

/** k3sguard's package.json, as text. */
export function packageJsonText(): string {
  return IN_SEA ? seaAssetText(SEA_ASSET.packageJson) : readFileSync(new URL('package.json', packageRoot()), 'utf8');
}
