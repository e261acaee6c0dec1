// Reachability on real binaries with real Go vulnerability records (../shared/data/govulndb):
// Debian's runc and containerd (Go 1.19.8) for GO-2024-2491 and every stdlib record, checked
// against a second, forward computation over debug/gosym's names; a K3s-style fork of runc
// built both with and without the vulnerable method. Findings are built by hand from the records.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeSource } from '../../src/inventory/file.ts';
import { fileSource } from '../../src/io/bytesource.ts';
import type { FileComponent, Finding } from '../../src/model/inventory.ts';
import { type GoFunctionTable, readGoFunctionTableFrom } from '../../src/readers/go/functab.ts';
import {
  type BinaryFunctions,
  binaryFunctions,
  binaryOfComponent,
  markReachability,
  type OsvImportsRecord,
  parseGoSymbol,
} from '../../src/scan/reachability.ts';
import { realBinary, SHARED_DATA } from '../fixtures/realbins.ts';
import { gosymFunctions } from '../readers/gosymoracle.ts';
import { FORK_MAIN_MODULE, forkBinaries } from './forkbuild.ts';

const GOVULNDB = join(SHARED_DATA, 'govulndb');
const NO_DB = existsSync(GOVULNDB) ? undefined : `${GOVULNDB} absent (../shared)`;

type OsvRecord = OsvImportsRecord & { aliases?: string[]; summary?: string };
const read = (id: string): OsvRecord => JSON.parse(readFileSync(join(GOVULNDB, `${id}.json`), 'utf8'));
const lookup = (records: OsvRecord[]) => (id: string) => records.find((r) => r.id === id || r.aliases?.includes(id));

interface Binary {
  file: FileComponent;
  table: GoFunctionTable;
  functions: BinaryFunctions;
}

/** A real binary as the inventory describes it, with its function table. */
function inspect(path: string, name: string): Binary {
  const src = fileSource(path, name);
  try {
    const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    const file = describeSource(src, name, [name], sha256);
    const table = readGoFunctionTableFrom(src);
    assert.ok(table, `${name} has no function table`);
    return { file, table, functions: binaryFunctions(file, table) };
  } finally {
    src.close();
  }
}

function finding(
  r: OsvRecord,
  component: string,
  module: string,
  version: string,
  via: 'module' | 'upstream' | 'stdlib',
): Finding {
  return {
    id: r.id,
    severity: 'unknown',
    title: r.summary ?? r.id,
    message: r.summary ?? r.id,
    location: [component],
    component,
    vulnerability: { ids: [r.id, ...(r.aliases ?? [])], module, version, via, reachability: 'unknown' },
  };
}

/** Marks one finding against one binary, through the inventory's component -> binary map. */
function mark(f: Finding, records: OsvRecord[], bin: Binary | undefined): Finding['vulnerability'] {
  const files = bin ? binaryOfComponent(bin.file) : new Map<string, FileComponent>();
  const [out] = markReachability([f], lookup(records), (ref) => (files.get(ref) && bin ? bin.functions : undefined));
  return out?.vulnerability;
}

const RUNC_2491 = [
  'github.com/opencontainers/runc/libcontainer.finalizeNamespace',
  'github.com/opencontainers/runc/libcontainer.linuxSetnsInit.Init',
  'github.com/opencontainers/runc/libcontainer.linuxStandardInit.Init',
  'github.com/opencontainers/runc/libcontainer/cgroups.openFile',
  'github.com/opencontainers/runc/libcontainer/cgroups.prepareOpenat2',
  'github.com/opencontainers/runc/libcontainer/utils.CloseExecFrom',
];

test("GO-2024-2491 in Debian's runc 1.1.5: present, naming the symbols found", (t) => {
  const bin = realBinary('debian-runc');
  if (NO_DB || 'skip' in bin) return t.skip(NO_DB ?? (bin as { skip: string }).skip);
  const runc = inspect(bin.path, 'runc');
  const r = read('GO-2024-2491');
  const v = mark(finding(r, runc.file.ref, 'github.com/opencontainers/runc', '1.1.5', 'module'), [r], runc);
  assert.equal(v?.reachability, 'present');
  // `Init` and `Container.start` are in the record but not in runc 1.1.5 (they came later).
  assert.deepEqual(v?.symbols, RUNC_2491);
});

test("GO-2024-2491 in Debian's containerd: runc's packages are linked in, the vulnerable symbols are absent", (t) => {
  const bin = realBinary('debian-containerd');
  if (NO_DB || 'skip' in bin) return t.skip(NO_DB ?? (bin as { skip: string }).skip);
  const containerd = inspect(bin.path, 'containerd');
  assert.ok([...containerd.table.names].some((n) => n.startsWith('github.com/opencontainers/runc/libcontainer/')));
  const r = read('GO-2024-2491');
  const v = mark(finding(r, containerd.file.ref, 'github.com/opencontainers/runc', '1.1.5', 'module'), [r], containerd);
  assert.equal(v?.reachability, 'absent');
  assert.equal(v?.symbols, undefined);
});

/** The binary names one record symbol can have, matched forward (independently of parseGoSymbol). */
function forwardPresent(names: readonly string[], path: string, symbols: readonly string[] | undefined): string[] {
  const segments = path.split('/');
  const last = (segments.pop() ?? '').replaceAll('.', '%2e');
  const escaped = [...segments, last].join('/').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const inPackage = names.filter((n) => n.startsWith(`${[...segments, last].join('/')}.`));
  if (!symbols || symbols.length === 0) return inPackage.length > 0 ? [`${path}.*`] : [];
  const inst = '(\\[.*\\])?';
  return symbols
    .filter((s) => {
      const [a, b] = s.split('.');
      const re = b
        ? new RegExp(`^${escaped}\\.(\\(\\*${a}${inst}\\)|${a}${inst})\\.${b}$`)
        : new RegExp(`^${escaped}\\.${a}${inst}$`);
      return inPackage.some((n) => re.test(n));
    })
    .map((s) => `${path}.${s}`);
}

test("every stdlib record against Debian's runc (Go 1.19.8, GOOS=linux) agrees with a forward match over debug/gosym's names", (t) => {
  const bin = realBinary('debian-runc');
  if (NO_DB || 'skip' in bin) return t.skip(NO_DB ?? (bin as { skip: string }).skip);
  const oracle = gosymFunctions(bin.path);
  if ('skip' in oracle) return t.skip(oracle.skip);
  const runc = inspect(bin.path, 'runc');
  assert.equal(runc.functions.goos, 'linux');
  // debug/gosym's functions, and the inlined ones only the name table lists.
  const names = [...new Set([...oracle, ...runc.table.names])];
  const stdlib = runc.file.children.find((c) => c.type === 'go-stdlib');
  assert.ok(stdlib);
  const records = readdirSync(GOVULNDB)
    .map((f) => read(f.replace(/\.json$/, '')))
    .filter((r) => r.affected?.some((a) => a.package?.name === 'stdlib'));
  const counts = { present: 0, absent: 0, unknown: 0 };
  for (const r of records) {
    const v = mark(finding(r, stdlib.ref, 'stdlib', '1.19.8', 'stdlib'), [r], runc);
    const imports = (r.affected ?? [])
      .filter((a) => a.package?.name === 'stdlib')
      .flatMap(
        (a) =>
          (a.ecosystem_specific as { imports?: Array<{ path: string; symbols?: string[]; goos?: string[] }> })
            ?.imports ?? [],
      );
    const expected = imports
      .filter((i) => !i.goos || i.goos.includes('linux'))
      .flatMap((i) => forwardPresent(names, i.path, i.symbols));
    const reach = imports.length === 0 ? 'unknown' : expected.length > 0 ? 'present' : 'absent';
    assert.equal(v?.reachability, reach, r.id);
    if (reach === 'present') assert.deepEqual(v?.symbols, [...new Set(expected)].sort(), r.id);
    counts[reach]++;
  }
  // Both answers occur, so the agreement above is not vacuous.
  assert.ok(counts.present >= 5 && counts.absent >= 50, JSON.stringify(counts));
  // Pinned: os/exec.LookPath is in runc; net/http is not; path/filepath.Clean is, but the record
  // limits it to Windows.
  const pinned = (id: string, platform: Partial<BinaryFunctions>) => {
    const r = read(id);
    const [out] = markReachability([finding(r, stdlib.ref, 'stdlib', '1.19.8', 'stdlib')], lookup([r]), () => ({
      ...runc.functions,
      ...platform,
    }));
    return out?.vulnerability;
  };
  assert.deepEqual(pinned('GO-2025-3956', {})?.symbols, ['os/exec.LookPath']);
  assert.equal(pinned('GO-2023-2102', {})?.reachability, 'absent');
  assert.equal(pinned('GO-2023-1568', {})?.reachability, 'absent');
  assert.equal(pinned('GO-2023-1568', { goos: undefined })?.reachability, 'present');
});

test('a K3s-style fork keeps the upstream import paths: present when the method is linked in, absent when not', (t) => {
  const built = forkBinaries();
  if (NO_DB || 'skip' in built) return t.skip(NO_DB ?? (built as { skip: string }).skip);
  const r = read('GO-2024-2491');
  for (const [which, expected] of [
    ['calls', 'present'],
    ['skips', 'absent'],
  ] as const) {
    const bin = inspect(built[which], which);
    assert.ok(![...bin.table.names].some((n) => n.startsWith('github.com/k3s-io/')), 'a name under the fork path');
    const fork = bin.file.children.find(
      (c) => c.type === 'go-module' && c.module.path === 'github.com/opencontainers/runc',
    );
    assert.ok(fork?.type === 'go-module' && fork.upstream, 'the fork component');
    const v = mark(finding(r, fork.ref, fork.upstream.path, '1.1.5', 'upstream'), [r], bin);
    assert.equal(v?.reachability, expected, which);
    if (expected === 'present') {
      assert.deepEqual(v?.symbols, ['github.com/opencontainers/runc/libcontainer.linuxStandardInit.Init']);
    }
  }
});

test("the main package's functions are main.*; go/ssa's init#1 is the compiler's init.0", (t) => {
  const built = forkBinaries();
  if ('skip' in built) return t.skip(built.skip);
  // A record written for this test's own module, in the Go vulnerability database's form.
  const r: OsvRecord = {
    id: 'TEST-MAIN',
    affected: [
      {
        package: { name: FORK_MAIN_MODULE, ecosystem: 'Go' },
        ecosystem_specific: { imports: [{ path: `${FORK_MAIN_MODULE}/cmd/calls`, symbols: ['init#1', 'serve'] }] },
      },
    ],
  };
  const calls = inspect(built.calls, 'calls');
  assert.equal(calls.functions.mainPackage, `${FORK_MAIN_MODULE}/cmd/calls`);
  const main = calls.file.children.find((c) => c.type === 'go-module' && c.role === 'main');
  assert.ok(main);
  const v = mark(finding(r, main.ref, FORK_MAIN_MODULE, 'v0.0.0', 'module'), [r], calls);
  assert.deepEqual(v?.symbols, [`${FORK_MAIN_MODULE}/cmd/calls.init#1`, `${FORK_MAIN_MODULE}/cmd/calls.serve`]);
  const skips = inspect(built.skips, 'skips');
  const other = skips.file.children.find((c) => c.type === 'go-module' && c.role === 'main');
  assert.ok(other);
  assert.equal(mark(finding(r, other.ref, FORK_MAIN_MODULE, 'v0.0.0', 'module'), [r], skips)?.reachability, 'absent');
});

test('no symbols in the record, or no function table: unknown', (t) => {
  const bin = realBinary('debian-runc');
  if (NO_DB || 'skip' in bin) return t.skip(NO_DB ?? (bin as { skip: string }).skip);
  const runc = inspect(bin.path, 'runc');
  // A K3s record: a placeholder range and no imports (../shared/data/README.md).
  const k3s = read('GO-2025-3646');
  const v = mark(finding(k3s, runc.file.ref, 'github.com/k3s-io/k3s', 'v1.32.1+k3s1', 'module'), [k3s], runc);
  assert.equal(v?.reachability, 'unknown');
  const r = read('GO-2024-2491');
  const present: Finding = { ...finding(r, 'elsewhere', 'github.com/opencontainers/runc', '1.1.5', 'module') };
  assert.equal(mark(present, [r], runc)?.reachability, 'unknown', 'a component of no inspected binary');
  const plain: Finding = { id: 'K3SG-BUNDLE-HASH', severity: 'high', title: 't', message: 'm', location: [] };
  assert.equal(markReachability([plain], lookup([r]), () => runc.functions)[0], plain);
});

test('parseGoSymbol splits real names as debug/gosym does', (t) => {
  const cases: Array<[binary: string, name: string, pkg: string, symbol: string]> = [
    [
      'debian-runc',
      'github.com/opencontainers/runc/libcontainer.(*linuxStandardInit).Init',
      'github.com/opencontainers/runc/libcontainer',
      'linuxStandardInit.Init',
    ],
    ['debian-docker', 'gopkg.in/yaml%2ev2.(*parser).expect', 'gopkg.in/yaml.v2', 'parser.expect'],
    ['debian-docker', 'crypto/elliptic.(*nistCurve[...]).Add', 'crypto/elliptic', 'nistCurve.Add'],
    [
      'esbuild-0.24.2',
      'slices.stableCmpFunc[go.shape.struct { Key reflect.Value; Value reflect.Value }]',
      'slices',
      'stableCmpFunc',
    ],
    ['esbuild-0.24.2', 'net/http.Header.Get', 'net/http', 'Header.Get'],
    ['esbuild-0.24.2', 'main.main', 'main', 'main'],
  ];
  for (const [binary, name, pkg, symbol] of cases) {
    const bin = realBinary(binary);
    if ('skip' in bin) return t.skip(bin.skip);
    assert.ok(readGoFunctionTableFrom(fileSource(bin.path))?.names.has(name), `${name} is not in ${binary}`);
    assert.deepEqual(parseGoSymbol(name), { pkg, symbol });
  }
  assert.equal(parseGoSymbol('type:.eq.[2]runtime.Frame'), undefined);
});

test('linkerPrefix escapes package paths as the Go linker does in symbol names', async () => {
  const { linkerPrefix } = await import('../../src/scan/reachability.ts');
  assert.equal(
    linkerPrefix('github.com/opencontainers/runc/libcontainer'),
    'github.com/opencontainers/runc/libcontainer',
  );
  // A dot after the last slash is escaped (gopkg.in/yaml.v2 -> gopkg.in/yaml%2ev2); earlier dots are not.
  assert.equal(linkerPrefix('gopkg.in/yaml.v2'), 'gopkg.in/yaml%2ev2');
  assert.equal(linkerPrefix('example.com/a b/c"d%e'), 'example.com/a%20b/c%22d%25e');
  assert.equal(linkerPrefix('example.com/ü'), 'example.com/%c3%bc');
});
