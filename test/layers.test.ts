// The layer picture, enforced from the import graph: each top-level folder of src/ is a layer
// and may import only the layers below it. Every reference counts: static and dynamic imports,
// `import type`, re-exports, and worker entries started by `new URL('./x.ts', import.meta.url)`.
// A new folder must be placed here before it can be used. Nothing below cli/ prints or exits.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const SRC = new URL('../src/', import.meta.url).pathname;

const BASE = ['model'];
const CORE = [...BASE, 'io', 'versions', 'readers'];
const FACTS = [...CORE, 'inventory', 'vulndb'];
const CHECKS = [...FACTS, 'policy', 'verify', 'scan', 'audit'];
const SERVICES = ['agent', 'server', 'webhook', 'ir'];

/** What each layer may import, besides itself. */
export const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  model: [],
  io: BASE,
  versions: BASE,
  readers: [...BASE, 'io', 'versions'],
  inventory: CORE,
  vulndb: CORE,
  policy: FACTS,
  verify: [...FACTS, 'policy'],
  scan: FACTS,
  // The agent's runtime check (audit/runtime) scans the images containerd holds with scan/'s matcher.
  audit: [...FACTS, 'policy', 'verify', 'scan'],
  report: CHECKS,
  agent: [...CHECKS, 'report'],
  server: [...CHECKS, 'report'],
  webhook: [...CHECKS, 'report'],
  ir: [...CHECKS, 'report'],
  cli: [...CHECKS, 'report', ...SERVICES],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

const WORKER_ENTRY = /new URL\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/** Every relative module a file references. */
function references(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const info = ts.preProcessFile(text, true, true);
  const specs = info.importedFiles.map((f) => f.fileName);
  for (const m of text.matchAll(WORKER_ENTRY)) specs.push(m[2] as string);
  return specs.filter((s) => s.startsWith('./') || s.startsWith('../'));
}

function layerOf(absPath: string): string | undefined {
  const rel = relative(SRC, absPath);
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split('/');
  return parts.length > 1 ? parts[0] : '(top level)';
}

interface Edge {
  from: string;
  to: string;
  file: string;
  spec: string;
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = layerOf(file) as string;
    for (const spec of references(file)) {
      const to = layerOf(normalize(join(dirname(file), spec)));
      if (to !== undefined && to !== from) out.push({ from, to, file: relative(join(SRC, '..'), file), spec });
    }
  }
  return out;
}

test('every folder of src/ is a known layer, and src/ has no loose files', () => {
  for (const e of readdirSync(SRC, { withFileTypes: true })) {
    assert.ok(e.isDirectory(), `src/${e.name}: put it in a layer folder (see test/layers.test.ts)`);
    assert.ok(e.name in MAY_IMPORT, `src/${e.name}/ is no layer: add it to MAY_IMPORT in test/layers.test.ts`);
  }
});

test('imports only go down the layers', () => {
  const wrong = edges()
    .filter((e) => !(MAY_IMPORT[e.from] ?? []).includes(e.to))
    .map(
      (e) =>
        `${e.file} imports '${e.spec}': ${e.from}/ may import ${MAY_IMPORT[e.from]?.length ? `only ${MAY_IMPORT[e.from]?.join(', ')}` : 'nothing of ours'}`,
    );
  assert.deepEqual(wrong, []);
});

test('the allowed graph itself has no cycle', () => {
  const seen = new Set<string>();
  const visit = (layer: string, path: string[]): void => {
    assert.ok(!path.includes(layer), `layer cycle: ${[...path, layer].join(' -> ')}`);
    if (seen.has(layer)) return;
    for (const below of MAY_IMPORT[layer] ?? []) visit(below, [...path, layer]);
    seen.add(layer);
  };
  for (const layer of Object.keys(MAY_IMPORT)) visit(layer, []);
});

test('the checker sees every kind of reference (so a clean graph means something)', () => {
  const specs = references(join(SRC, 'inventory', 'scanners.ts'));
  assert.ok(specs.includes('./scan-worker.ts'), 'a worker entry is a reference');
  const kinds = edges();
  assert.ok(
    kinds.some((e) => e.from === 'report' && e.to === 'model'),
    'type-only imports are references',
  );
  assert.ok(
    kinds.some((e) => e.from === 'cli' && e.to === 'report'),
    'dynamic imports are references',
  );
});

test('nothing below cli/ prints or exits', () => {
  const offenders = sourceFiles(SRC)
    .filter((f) => layerOf(f) !== 'cli')
    .flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${relative(join(SRC, '..'), f)}:${i + 1}` }))
        .filter(({ line }) => /process\.exit\b|process\.std(out|err)\b|console\.(log|error|warn|info)\b/.test(line))
        .map(({ at, line }) => `${at}: ${line.trim()}`),
    );
  assert.deepEqual(offenders, []);
});
