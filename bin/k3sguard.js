#!/usr/bin/env node
// Entry point. The CLI is TypeScript, run by Node's type stripping (Node >= 24). This file is
// read by whatever `node` is first on the PATH, often an older one, so it checks the version
// before anything else and is written for any Node from 12 on to parse: no static import, no
// top-level await (either would fail before the check could say what is wrong).
// NEEDED_MAJOR is package.json's engines.node (a test keeps them equal).
const NEEDED_MAJOR = 24;
const found = process.versions.node;
if (Number(found.split('.')[0]) < NEEDED_MAJOR) {
  process.stderr.write(
    `k3sguard: needs Node.js ${NEEDED_MAJOR} or newer, found ${found}: get it from https://nodejs.org/en/download\n`,
  );
  process.exit(2);
}

// Node's compile cache keeps the stripped and compiled modules between runs (start-up drops
// from ~150 ms to ~60 ms); NODE_COMPILE_CACHE chooses its folder, NODE_DISABLE_COMPILE_CACHE=1
// turns it off. A cache that cannot be written is skipped silently by Node.
async function start() {
  if (!process.env.NODE_DISABLE_COMPILE_CACHE) {
    const [{ default: module }, { homedir }, { join }] = await Promise.all([
      import('node:module'),
      import('node:os'),
      import('node:path'),
    ]);
    const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    module.enableCompileCache(process.env.NODE_COMPILE_CACHE || join(base, 'k3sguard', 'node-compile-cache'));
  }
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}

// A failure here is a bug: Node prints it and exits 1, as an uncaught error always did.
start();
