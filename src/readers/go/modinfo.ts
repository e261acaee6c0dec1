// The module information text Go embeds in a binary, parsed by the rules of Go's own
// runtime/debug.ParseBuildInfo (what `go version -m` prints): tab-separated `path`, `mod`,
// `dep`, `=>` and `build` lines. A `=>` line replaces the module on the line before it;
// a `build` key or value that needs quoting is a Go-quoted string, unquoted here exactly
// like strconv.Unquote would.
import { InputError } from '../../model/errors.ts';
import type { GoBuildInfo, GoModule } from '../../model/inventory.ts';

export type ModInfo = Omit<GoBuildInfo, 'encoding' | 'goVersion'>;

type Mod = GoModule & { replace?: GoModule };

/** Parses modinfo text (sentinels already removed). `file` names the binary in errors. */
export function parseModInfo(text: string, file: string): ModInfo {
  const info: ModInfo = { deps: [], settings: [] };
  let last: Mod | undefined;
  const fail = (n: number, why: string) =>
    new InputError('BUILDINFO_CORRUPT', file, `corrupt Go build info: line ${n} of the module list ${why}`);
  const lines = text.split('\n');
  // Like Go, only newline-terminated lines count: the text always ends with one.
  lines.pop();
  lines.forEach((line, i) => {
    const n = i + 1;
    if (!line.includes('\t')) return; // every line Go knows is `<kind>\t...`
    const [kind, ...cols] = line.split('\t');
    switch (kind) {
      case 'path':
        info.path = line.slice('path\t'.length);
        break;
      case 'mod':
      case 'dep': {
        if (cols.length !== 2 && cols.length !== 3) throw fail(n, `has ${cols.length} columns, not 2 or 3`);
        const mod = module(cols);
        if (kind === 'mod') info.main = mod;
        else info.deps.push(mod);
        last = mod;
        break;
      }
      case '=>':
        if (cols.length !== 3) throw fail(n, `(a replacement) has ${cols.length} columns, not 3`);
        if (!last) throw fail(n, 'is a replacement with no module before it');
        last.replace = module(cols);
        last = undefined;
        break;
      case 'build':
        info.settings.push(buildSetting(line.slice('build\t'.length), (why) => fail(n, why)));
        break;
      default:
        break; // Go skips lines it does not know; so do we
    }
  });
  return info;
}

function module(cols: string[]): Mod {
  const m: Mod = { path: cols[0] ?? '', version: cols[1] ?? '' };
  if (cols[2]) m.sum = cols[2];
  return m;
}

function buildSetting(kv: string, fail: (why: string) => InputError): { key: string; value: string } {
  let key: string;
  let raw: string;
  const first = kv[0];
  if (first === undefined) throw fail('is a build setting without "="');
  if (first === '=') throw fail('is a build setting without a key');
  if (first === '"' || first === '`') {
    const end = quotedPrefixLength(kv);
    if (end === undefined) throw fail('has an invalid quoted build setting key');
    if (kv[end] !== '=') throw fail('has no "=" after its quoted build setting key');
    key = unquoteOrFail(kv.slice(0, end), fail);
    raw = kv.slice(end + 1);
  } else {
    const eq = kv.indexOf('=');
    if (eq < 0) throw fail('is a build setting without "="');
    key = kv.slice(0, eq);
    raw = kv.slice(eq + 1);
  }
  const value = raw.startsWith('"') || raw.startsWith('`') ? unquoteOrFail(raw, fail) : raw;
  return { key, value };
}

function unquoteOrFail(s: string, fail: (why: string) => InputError): string {
  const v = goUnquote(s);
  if (v === undefined) throw fail(`has an invalid Go-quoted string ${s.slice(0, 40)}`);
  return v;
}

/** Length of the Go-quoted string at the start of `s` (like strconv.QuotedPrefix), or undefined. */
export function quotedPrefixLength(s: string): number | undefined {
  const q = s[0];
  if (q === '`') {
    const end = s.indexOf('`', 1);
    return end < 0 ? undefined : end + 1;
  }
  if (q !== '"') return undefined;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === '\n') return undefined;
    if (c === '\\') i++;
    else if (c === '"') return goUnquote(s.slice(0, i + 1)) === undefined ? undefined : i + 1;
  }
  return undefined;
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 };

/**
 * strconv.Unquote for double-quoted and back-quoted Go strings; undefined when `s` is not
 * one. `\x` and octal escapes are bytes, so the result is assembled as UTF-8 bytes.
 */
export function goUnquote(s: string): string | undefined {
  if (s.length < 2) return undefined;
  const q = s[0];
  if (q !== s[s.length - 1]) return undefined;
  const body = s.slice(1, -1);
  if (q === '`') return body.includes('`') ? undefined : body.replaceAll('\r', '');
  if (q !== '"') return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < body.length; ) {
    const c = body[i] as string;
    if (c === '"' || c === '\n') return undefined;
    if (c !== '\\') {
      const cp = body.codePointAt(i) as number;
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      bytes.push(simple);
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const width = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 2, i + 2 + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) return undefined;
      const v = Number.parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return undefined;
      else bytes.push(...Buffer.from(String.fromCodePoint(v), 'utf8'));
      i += 2 + width;
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) return undefined;
      const v = Number.parseInt(oct, 8);
      if (v > 255) return undefined;
      bytes.push(v);
      i += 4;
    } else {
      return undefined; // includes \' which Go accepts only in rune literals
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
