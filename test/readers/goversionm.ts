// The test oracle: `go version -m` output, parsed independently of the reader under test.
// Its format (cmd/go): a first line `FILE: go1.x`, then one tab-indented line per item
// (a `=>` line is indented by two tabs):
//   path <tab> P | mod <tab> P <tab> V <tab> SUM | dep ... | => <tab> P <tab> V <tab> SUM | build <tab> K=V
// A replaced module is printed without its sum, its `=>` line follows it. A build setting's
// value is printed Go-quoted when it holds spaces, quotes or control characters; JSON's string
// syntax covers the escapes that appear in real output (\" \\ \n \t) and fails loudly otherwise.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { GoBuildInfo, GoModule } from '../../src/model/inventory.ts';

export interface OracleModule {
  path: string;
  version: string;
  sum: string;
  replace?: { path: string; version: string; sum: string };
}

export interface Oracle {
  goVersion: string;
  path?: string;
  main?: OracleModule;
  deps: OracleModule[];
  settings: Array<{ key: string; value: string }>;
}

/** Parses `go version -m` text; undefined when Go could not read build info from the file. */
export function parseGoVersionM(text: string): Oracle | undefined {
  const lines = text.split('\n').filter((l) => l !== '');
  const first = lines.shift() ?? '';
  const m = /^.*?: (go1[^\s]*|devel .*)$/.exec(first);
  if (!m || first.includes('could not read Go build info')) return undefined;
  const out: Oracle = { goVersion: m[1] as string, deps: [], settings: [] };
  let last: OracleModule | undefined;
  for (const raw of lines) {
    if (raw === '\t') continue; // Go 1.19 prints an empty line after each replacement
    // Items are indented by one tab; `=>` lines by two.
    if (!raw.startsWith('\t')) throw new Error(`unexpected go version -m line: ${raw}`);
    const [kind = '', ...cols] = raw.replace(/^\t+/, '').split('\t');
    const mod = (): OracleModule => ({ path: cols[0] ?? '', version: cols[1] ?? '', sum: cols[2] ?? '' });
    if (kind === 'path') out.path = cols.join('\t');
    else if (kind === 'mod') last = out.main = mod();
    else if (kind === 'dep') {
      last = mod();
      out.deps.push(last);
    } else if (kind === '=>') {
      if (!last) throw new Error('=> without a module');
      last.replace = mod();
    } else if (kind === 'build') {
      const kv = cols.join('\t');
      const eq = kv.indexOf('=');
      const key = kv.slice(0, eq);
      const rawValue = kv.slice(eq + 1);
      out.settings.push({ key, value: rawValue.startsWith('"') ? (JSON.parse(rawValue) as string) : rawValue });
    } else throw new Error(`unknown go version -m item ${kind}`);
  }
  return out;
}

/** Why `go` cannot serve as the oracle here, or undefined when it can. */
export function goUnavailable(): string | undefined {
  try {
    execFileSync('go', ['version'], { stdio: ['ignore', 'pipe', 'pipe'], env: goEnv() });
    return undefined;
  } catch {
    return 'no `go` on PATH (Debian golang-go): the go version -m oracle is unavailable';
  }
}

/** `go version -m FILE`, parsed. */
export function goVersionM(file: string): Oracle | undefined {
  const text = execFileSync('go', ['version', '-m', file], { encoding: 'utf8', env: goEnv() });
  return parseGoVersionM(text);
}

export function goEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', GOSUMDB: 'off', CGO_ENABLED: '0', ...extra };
}

/** Asserts that build info read by the reader says exactly what `go version -m` printed. */
export function assertMatchesOracle(actual: GoBuildInfo, expected: Oracle): void {
  const mod = (m: OracleModule | undefined) =>
    m && {
      path: m.path,
      version: m.version,
      sum: m.sum,
      replace: m.replace && { path: m.replace.path, version: m.replace.version, sum: m.replace.sum },
    };
  const ours = (m: (GoModule & { replace?: GoModule }) | undefined) =>
    m && {
      path: m.path,
      version: m.version,
      sum: m.sum ?? '',
      replace: m.replace && { path: m.replace.path, version: m.replace.version, sum: m.replace.sum ?? '' },
    };
  assert.equal(actual.goVersion, expected.goVersion, 'Go version');
  assert.equal(actual.path, expected.path, 'path');
  assert.deepEqual(ours(actual.main), mod(expected.main), 'main module');
  assert.deepEqual(actual.deps.map(ours), expected.deps.map(mod), 'dependencies');
  assert.deepEqual(actual.settings, expected.settings, 'build settings');
}
