// The folder k3sguard's package.json is in. The modules run from two layouts: src/<layer>/x.ts
// in a git clone, and dist/src/<layer>/x.js in the npm package (npm run build), one level
// deeper; a fixed '../../' fits only one of them. The first folder up from this module that
// holds a package.json is the package root in both (dist/ itself has none).
import { existsSync } from 'node:fs';

function findRoot(): URL {
  for (let dir = new URL('./', import.meta.url); ; ) {
    if (existsSync(new URL('package.json', dir))) return dir;
    const up = new URL('../', dir);
    if (up.href === dir.href) throw new Error(`no package.json above ${import.meta.url}`);
    dir = up;
  }
}

/** The package root, as a folder URL (ends in '/'). */
export const PACKAGE_ROOT: URL = findRoot();
