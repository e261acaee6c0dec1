// bin/k3sguard.js is run by whatever `node` comes first on the PATH: on one too old for the
// TypeScript CLI it must say so in one line and exit 2, and it must parse on Node 12 to get
// that far (no static import, no top-level await, no syntax newer than ES2019).
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { CLI } from './run.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const engines: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node;
const needed = Number(/^>=\s*(\d+)/.exec(engines)?.[1]);
const launcher = readFileSync(CLI, 'utf8');

/** The machine's own older Node (Debian's), if it has one. */
function olderNode(): { path: string; version: string } | { skip: string } {
  const path = '/usr/bin/node';
  if (!existsSync(path)) return { skip: `no ${path} on this machine to run the launcher with` };
  const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (Number(version.replace(/^v/, '').split('.')[0]) >= needed)
    return { skip: `${path} is ${version}, not older than ${needed}` };
  return { path, version };
}

test('the launcher needs the Node major that package.json engines names', () => {
  assert.ok(needed > 0, `engines.node ${engines}`);
  assert.match(launcher, new RegExp(`const NEEDED_MAJOR = ${needed};`));
});

const old = olderNode();
test('an older Node gets one line (found, needed, where to get it) and exit 2', {
  skip: 'skip' in old && old.skip,
}, () => {
  if ('skip' in old) return;
  for (const args of [['--version'], ['inspect', '/nonexistent'], []]) {
    const r: SpawnSyncReturns<string> = spawnSync(old.path, [CLI, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `k3sguard: needs Node.js ${needed} or newer, found ${old.version.replace(/^v/, '')}: get it from https://nodejs.org/en/download\n`,
    );
  }
});

test('the launcher parses on Node 12: no static import, no top-level await, nothing past ES2019', () => {
  const sf = ts.createSourceFile(CLI, launcher, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const problems: string[] = [];
  const visit = (node: ts.Node, inFunction: boolean): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node))
      problems.push(`static import/export: ${node.getText(sf)}`);
    if (ts.isAwaitExpression(node) && !inFunction) problems.push(`top-level await: ${node.getText(sf)}`);
    ts.forEachChild(node, (child) => visit(child, inFunction || ts.isFunctionLike(node)));
  };
  visit(sf, false);
  assert.deepEqual(problems, []);
  // What TypeScript would have to rewrite for ES2019 (optional chaining, `??`, class fields...)
  // is syntax Node 12 cannot parse: the output must equal the ESNext output.
  const emit = (target: ts.ScriptTarget) =>
    ts.transpileModule(launcher, { compilerOptions: { target, module: ts.ModuleKind.ESNext, allowJs: true } })
      .outputText;
  assert.equal(emit(ts.ScriptTarget.ES2019), emit(ts.ScriptTarget.ESNext));
});
