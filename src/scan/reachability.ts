// Is the vulnerable code in the binary? Like govulncheck's binary mode: a Go vulnerability
// record lists, per package, the vulnerable functions and methods
// (`affected[].ecosystem_specific.imports[].symbols`: `Func` or `Type.Method`); the finding is
// `present` when one of them is among the binary's function names, `absent` when none is.
// A record that lists no imports for the module stays `unknown`, as does a binary whose
// function table could not be read: absence is only claimed when it was looked for.
//
// The binary's names (src/readers/go/functab.ts) are `path.Func`, `path.(*Type).Method` or
// `path.Type.Method`, generic ones with their type arguments in brackets (`[...]` or the
// shapes, `[go.shape.string]`), the last path element escaped (`yaml%2ev2`):
// each is reduced to (package path, `Func` | `Type.Method`), the record's form. Inlined
// functions count (the table's `names`), as govulncheck counts its inline trees.
//
// A fork matched as its upstream needs no translation: a go.mod `replace` swaps the code but
// keeps the import paths, so the fork's functions carry the upstream's package paths (the
// required module's path is the upstream, src/inventory/forks.ts).
import type { Component, FileComponent, Finding, VulnerabilityInfo } from '../model/inventory.ts';
import { walk } from '../model/inventory.ts';
import type { GoFunctionTable as FullTable } from '../readers/go/functab.ts';

/** What reachability reads of a binary's function table: its names (readGoFunctionNames). */
export type GoFunctionTable = Pick<FullTable, 'names'>;

/** The parts of an OSV record reachability reads; any full OSV record type fits. */
export interface OsvImportsRecord {
  id: string;
  affected?: null | ReadonlyArray<{
    package?: { name?: string; ecosystem?: string };
    ecosystem_specific?: { imports?: ReadonlyArray<OsvImport> } | Record<string, unknown>;
  }>;
}

export interface OsvImport {
  path?: string;
  symbols?: readonly string[];
  goos?: readonly string[];
  goarch?: readonly string[];
}

/** What reachability needs of one Go binary. */
export interface BinaryFunctions {
  table: GoFunctionTable;
  /** Import path of the main package (build info `path`): its functions are named `main.*`. */
  mainPackage?: string;
  /** When known (build settings GOOS / GOARCH): imports limited to other systems do not apply. */
  goos?: string;
  goarch?: string;
}

/** A record by any of its ids (GO-, GHSA-, CVE-), or undefined. */
export type RecordLookup = (id: string) => OsvImportsRecord | undefined;

/**
 * The findings with `vulnerability.reachability` (and `symbols`) set from the function table of
 * the binary each was found in. `functionsOf` gets the finding's component ref (a module or
 * stdlib of a binary: see binaryOfComponent) and returns its binary's functions, or undefined
 * when they are not known. Findings without vulnerability info are returned as they are.
 */
export function markReachability(
  findings: readonly Finding[],
  records: RecordLookup,
  functionsOf: (componentRef: string) => BinaryFunctions | undefined,
): Finding[] {
  return findings.map((f) => {
    if (!f.vulnerability || f.component === undefined) return f;
    const { symbols: _previous, ...v } = f.vulnerability;
    const imports = importsFor(v, records);
    const binary = imports.length > 0 ? functionsOf(f.component) : undefined;
    if (!binary) return { ...f, vulnerability: { ...v, reachability: 'unknown' } };
    const found = findSymbols(imports, binary);
    const vulnerability: VulnerabilityInfo =
      found.length > 0 ? { ...v, reachability: 'present', symbols: found } : { ...v, reachability: 'absent' };
    return { ...f, vulnerability };
  });
}

/**
 * The binary each finding can concern: every file maps to itself, and each of its modules and
 * its stdlib to it (a finding names the module it was matched on as its component).
 */
export function binaryOfComponent(root: Component): Map<string, FileComponent> {
  const out = new Map<string, FileComponent>();
  for (const { component, parent } of walk(root)) {
    if (component.type === 'file') out.set(component.ref, component);
    else if (parent?.type === 'file' && (component.type === 'go-module' || component.type === 'go-stdlib')) {
      out.set(component.ref, parent);
    }
  }
  return out;
}

/** BinaryFunctions of a file component, its platform and main package from its build info. */
export function binaryFunctions(file: FileComponent, table: GoFunctionTable): BinaryFunctions {
  const out: BinaryFunctions = { table };
  const b = file.binary;
  if (b.format === 'go' || b.format === 'go-no-buildinfo') out.goarch = b.arch.name;
  if (b.format === 'go') {
    if (b.buildInfo.path) out.mainPackage = b.buildInfo.path;
    const setting = (key: string) => b.buildInfo.settings.find((s) => s.key === key)?.value;
    const goos = setting('GOOS');
    if (goos) out.goos = goos;
  }
  return out;
}

/** The imports of every record of the finding (all its ids) for the module it was matched on. */
function importsFor(v: VulnerabilityInfo, records: RecordLookup): OsvImport[] {
  const out: OsvImport[] = [];
  const seen = new Set<string>();
  for (const id of v.ids) {
    const record = records(id);
    if (!record || seen.has(record.id)) continue;
    seen.add(record.id);
    for (const a of record.affected ?? []) {
      if (a.package?.name !== v.module) continue;
      const imports = (a.ecosystem_specific as { imports?: unknown } | undefined)?.imports;
      if (Array.isArray(imports)) out.push(...(imports as OsvImport[]).filter((i) => typeof i?.path === 'string'));
    }
  }
  return out;
}

/**
 * The vulnerable symbols present (`path.Func`, `path.Type.Method`; `path.*` for an import that
 * names no symbols, which means the whole package, as in govulncheck). An import limited to
 * other systems than the binary's cannot be in it.
 */
function findSymbols(imports: readonly OsvImport[], binary: BinaryFunctions): string[] {
  const found = new Set<string>();
  for (const imp of imports) {
    const path = imp.path as string;
    if (!appliesTo(imp.goos, binary.goos) || !appliesTo(imp.goarch, binary.goarch)) continue;
    // The main package's functions are named `main.*`, whatever its import path.
    const packages = path === binary.mainPackage ? [path, 'main'] : [path];
    for (const pkg of packages) {
      if (!imp.symbols || imp.symbols.length === 0) {
        if (packagesOf(binary.table).has(linkerPrefix(pkg))) found.add(`${path}.*`);
        continue;
      }
      for (const s of imp.symbols) if (hasSymbol(binary.table, pkg, recordSymbol(s))) found.add(`${path}.${s}`);
    }
  }
  return [...found].sort();
}

/**
 * Is `pkg`'s `Func` or `Type.Method` in the binary? Looked up by the names Go gives it
 * (`pkg.Func`, `pkg.Type.Method`, `pkg.(*Type).Method`, with the path escaped as the linker
 * does), so only the few generic names need parsing: not the tens of thousands of functions.
 */
function hasSymbol(table: GoFunctionTable, pkg: string, symbol: string): boolean {
  const prefix = linkerPrefix(pkg);
  if (table.names.has(`${prefix}.${symbol}`)) return true;
  const dot = symbol.indexOf('.');
  if (dot > 0 && table.names.has(`${prefix}.(*${symbol.slice(0, dot)})${symbol.slice(dot)}`)) return true;
  return genericIndex(table).get(pkg)?.has(symbol) ?? false;
}

/**
 * A package path as the linker writes it in symbol names (cmd/internal/objabi.PathToPrefix):
 * control characters, space, `%`, `"`, non-ASCII, and dots after the last slash as `%xx`.
 */
export function linkerPrefix(path: string): string {
  let out = prefixes.get(path);
  if (out === undefined) {
    // Most paths need no escape: no dot in the last element, plain printable ASCII.
    out =
      /^[\x21-\x7e]*$/.test(path) && !/[%"]/.test(path) && !path.slice(path.lastIndexOf('/') + 1).includes('.')
        ? path
        : escapePath(path);
    prefixes.set(path, out);
  }
  return out;
}

const prefixes = new Map<string, string>();

function escapePath(path: string): string {
  const slash = path.lastIndexOf('/');
  let out = '';
  for (const [i, ch] of [...Buffer.from(path, 'utf8')].entries()) {
    const escaped = ch <= 0x20 || ch === 0x25 || ch === 0x22 || ch >= 0x7f || (ch === 0x2e && i > slash);
    out += escaped ? `%${ch.toString(16).padStart(2, '0')}` : String.fromCharCode(ch);
  }
  return out;
}

const generics = new WeakMap<GoFunctionTable, Map<string, Set<string>>>();
const packageSets = new WeakMap<GoFunctionTable, Set<string>>();

/** Package path -> `Func` / `Type.Method` of its generic functions (names with `[...]`). */
function genericIndex(table: GoFunctionTable): Map<string, Set<string>> {
  let index = generics.get(table);
  if (index) return index;
  index = new Map();
  for (const name of table.names) {
    if (!name.includes('[')) continue;
    const parsed = parseGoSymbol(name);
    if (!parsed) continue;
    const set = index.get(parsed.pkg) ?? new Set<string>();
    if (set.size === 0) index.set(parsed.pkg, set);
    set.add(parsed.symbol);
  }
  generics.set(table, index);
  return index;
}

/**
 * Every package with a function in the binary (for imports that name no symbols), as the
 * linker writes package paths (see linkerPrefix): the name up to the first dot after its last
 * slash, type arguments aside.
 */
function packagesOf(table: GoFunctionTable): Set<string> {
  let set = packageSets.get(table);
  if (set) return set;
  set = new Set();
  for (const name of table.names) {
    const bracket = name.indexOf('[');
    const head = bracket >= 0 ? name.slice(0, bracket) : name;
    const dot = head.indexOf('.', head.lastIndexOf('/') + 1);
    if (dot > 0) set.add(head.slice(0, dot));
  }
  packageSets.set(table, set);
  return set;
}

function appliesTo(list: readonly string[] | undefined, value: string | undefined): boolean {
  return !list || list.length === 0 || value === undefined || list.includes(value);
}

/**
 * The record's name for what the compiler calls it: go/ssa (which the Go vulnerability
 * database's symbols come from) numbers a package's `func init()`s `init#1`, `init#2`, ...;
 * the compiler names them `init.0`, `init.1`, ... in the same order.
 */
function recordSymbol(s: string): string {
  const m = /^init#(\d+)$/.exec(s);
  return m ? `init.${Number(m[1]) - 1}` : s;
}

/**
 * A Go function's symbol name as (package path, `Func` | `Type.Method`), the way Go's
 * debug/gosym splits it: type parameters dropped, the package ends at the first dot after the
 * last slash, a pointer receiver `(*T)` written `T`, the path's `%xx` escapes decoded.
 * Compiler-generated names (`type:`, `go:` since Go 1.20) have no package: undefined.
 */
export function parseGoSymbol(name: string): { pkg: string; symbol: string } | undefined {
  const open = name.indexOf('[');
  const close = name.lastIndexOf(']');
  const plain = open >= 0 && close > open ? name.slice(0, open) + name.slice(close + 1) : name;
  if (plain.startsWith('go:') || plain.startsWith('type:')) return undefined;
  const dot = plain.indexOf('.', plain.lastIndexOf('/') + 1);
  if (dot <= 0 || dot === plain.length - 1) return undefined;
  let symbol = plain.slice(dot + 1);
  if (symbol.startsWith('(*')) {
    const end = symbol.indexOf(')');
    if (end > 2) symbol = symbol.slice(2, end) + symbol.slice(end + 1);
  }
  return { pkg: unescapePath(plain.slice(0, dot)), symbol };
}

function unescapePath(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path; // a lone % that is no escape: keep the name as written
  }
}
