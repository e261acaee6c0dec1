// The single executable's JavaScript: Node runs a single-executable application's main as one
// CommonJS script whose `require` reaches only Node's builtins, so esbuild (esbuild-wasm: no
// native binary, no install scripts) bundles the CLI with its npm packages into one script, and
// each worker entry into one of its own (the executable starts workers from those, see
// src/io/ts-worker.ts). CommonJS has no `import.meta`: each module's `import.meta.url` becomes
// SEA_MODULE_BASE plus its path in the repository, so `new URL('./x.ts', import.meta.url)`
// still names the worker module, whose asset is keyed by that path.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild-wasm';
import { SEA_MODULE_BASE } from '../../src/io/sea.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
const CLI_ENTRY = 'bin/k3sguard-sea.ts';
/** How source files name a worker entry (as test/layers.test.ts finds them). */
const WORKER_ENTRY = /new URL\(\s*(['"])(\.{1,2}\/[^'"]+\.ts)\1\s*,\s*import\.meta\.url\s*\)/g;

export interface Bundle {
  /** The CLI, one CommonJS script. */
  cli: string;
  /** Each worker entry's script, by the module's path in the repository (src/io/hash-worker.ts). */
  workers: Map<string, string>;
  /** Every file bundled, relative to the repository (node_modules/... for npm packages). */
  inputs: string[];
}

/** Every worker entry named in src/, as paths in the repository. */
export function workerEntries(): string[] {
  const found = new Set<string>();
  for (const f of readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.ts')) continue;
    const file = join(ROOT, 'src', f);
    for (const m of readFileSync(file, 'utf8').matchAll(WORKER_ENTRY)) {
      const target = new URL(m[2] as string, pathToFileURL(file));
      // A comment may show the pattern with a made-up name: only modules that exist count.
      if (existsSync(target)) found.add(relative(ROOT, target.pathname));
    }
  }
  return [...found].sort();
}

/** Replaces `import.meta.url` in our modules with the module's URL inside the bundle. */
const moduleUrls: esbuild.Plugin = {
  name: 'k3sguard-module-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const rel = relative(ROOT, args.path);
      const text = readFileSync(args.path, 'utf8');
      if (rel.startsWith('..') || rel.startsWith('node_modules/')) return { contents: text, loader: 'ts' };
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(SEA_MODULE_BASE + rel)), loader: 'ts' };
    });
  },
};

/** The manifest of the package a file belongs to (the nearest package.json up). */
function owningManifest(file: string): { peerDependenciesMeta?: Record<string, { optional?: boolean }> } {
  for (let d = dirname(file); d !== dirname(d); d = dirname(d)) {
    const m = join(d, 'package.json');
    if (existsSync(m)) return JSON.parse(readFileSync(m, 'utf8'));
  }
  return {};
}

/**
 * A package's optional peer dependencies (the CycloneDX library's XML and schema-validation
 * plug-ins) stay out: the package works without them, as it does when npm installed k3sguard
 * without them, and a package installed here for another reason must not be pulled in through them.
 * Inside the executable, requiring one fails, which is how the package learns it is absent.
 */
const optionalPeersOut: esbuild.Plugin = {
  name: 'k3sguard-optional-peers-out',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (!args.importer.includes('/node_modules/')) return undefined;
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      const optional = owningManifest(args.importer).peerDependenciesMeta?.[name ?? '']?.optional === true;
      return optional ? { path: args.path, external: true } : undefined;
    });
  },
};

async function bundleOne(entry: string): Promise<{ code: string; inputs: string[] }> {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    write: false,
    metafile: true,
    legalComments: 'none',
    plugins: [moduleUrls, optionalPeersOut],
    logLevel: 'silent',
  });
  // A warning here is a module that would misbehave in the bundle (an `import.meta` left
  // empty, a require that cannot be resolved): fail the build instead of shipping it.
  if (result.warnings.length > 0) {
    const lines = await esbuild.formatMessages(result.warnings, { kind: 'warning' });
    throw new Error(`bundling ${entry}:\n${lines.join('')}`);
  }
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild wrote nothing for ${entry}`);
  return { code: out.text, inputs: Object.keys(result.metafile.inputs) };
}

export async function bundle(): Promise<Bundle> {
  const cli = await bundleOne(CLI_ENTRY);
  const workers = new Map<string, string>();
  const inputs = new Set(cli.inputs);
  for (const entry of workerEntries()) {
    const w = await bundleOne(entry);
    workers.set(entry, w.code);
    for (const i of w.inputs) inputs.add(i);
  }
  return { cli: cli.code, workers, inputs: [...inputs].sort() };
}

export const BUNDLER = { name: 'esbuild-wasm', version: esbuild.version };
