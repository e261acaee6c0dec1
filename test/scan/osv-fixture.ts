// The real OSV records of ../shared/data (the Go vulndb dump and the two K3s GHSA advisories),
// read at run time, each passed through the database's own record check (what `db import`
// keeps), and small inventories of Go binaries made by the inventory's own goComponents.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { goComponents } from '../../src/inventory/gocomponents.ts';
import type { FileComponent, GoBuildInfo, GoModule, K3sIdentity, Location } from '../../src/model/inventory.ts';
import { lookupFromRecords, type RecordLookup } from '../../src/scan/lookup.ts';
import { type GoSemver, parseGoSemver } from '../../src/versions/gosemver.ts';
import { checkOsvRecord, type OsvRecord } from '../../src/vulndb/osv.ts';
import { SHARED_DATA } from '../fixtures/realbins.ts';

export const GOVULNDB = join(SHARED_DATA, 'govulndb');
export const GHSA_K3S = join(SHARED_DATA, 'ghsa-k3s');

export interface RealRecords {
  all: OsvRecord[];
  byId: Map<string, OsvRecord>;
  /** Lookup over the Go vulndb and the K3s GHSA records together. */
  lookup: RecordLookup;
  /** Lookup over the Go vulndb alone. */
  govulndb: RecordLookup;
}

let loaded: RealRecords | { skip: string } | undefined;

function readDir(dir: string): OsvRecord[] {
  const out: OsvRecord[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.json')) continue;
    const checked = checkOsvRecord(JSON.parse(readFileSync(join(dir, name), 'utf8')));
    if (!checked.ok) throw new Error(`${name}: ${checked.problem}`);
    out.push(checked.record);
  }
  return out;
}

/** Every real record, or why they are not there. Read once per test process. */
export function realRecords(): RealRecords | { skip: string } {
  if (loaded) return loaded;
  for (const dir of [GOVULNDB, GHSA_K3S])
    if (!existsSync(dir)) {
      loaded = { skip: `${dir} not found (../shared absent): real OSV records unavailable` };
      return loaded;
    }
  const go = readDir(GOVULNDB);
  const ghsa = readDir(GHSA_K3S);
  const all = [...go, ...ghsa];
  loaded = {
    all,
    byId: new Map(all.map((r) => [r.id, r])),
    lookup: lookupFromRecords(all),
    govulndb: lookupFromRecords(go),
  };
  return loaded;
}

/** One record by id (throws if the dump lacks it: the tests name records that are in it). */
export function record(recs: RealRecords, id: string): OsvRecord {
  const r = recs.byId.get(id);
  if (!r) throw new Error(`${id} is not in ../shared/data`);
  return r;
}

/** A deep copy, to change one thing in a real record (a mutation that must change the result). */
export function mutated(r: OsvRecord, change: (copy: OsvRecord) => void): OsvRecord {
  const copy = structuredClone(r);
  change(copy);
  return copy;
}

export type Dep = GoModule & { replace?: GoModule };

export interface BinarySpec {
  name?: string;
  goVersion?: string;
  main?: Dep;
  deps?: Dep[];
  /** Build settings; GOOS/GOARCH default to linux/amd64 unless `settings` is given. */
  settings?: Array<[string, string]>;
  k3s?: K3sIdentity;
  location?: Location;
}

/** A Go binary FileComponent with children exactly as the inventory builds them. */
export function goBinary(spec: BinarySpec): FileComponent {
  const name = spec.name ?? 'bin';
  const location = spec.location ?? [name];
  const info: GoBuildInfo = {
    encoding: 'inline',
    goVersion: spec.goVersion ?? 'go1.23.8',
    deps: spec.deps ?? [],
    settings: (
      spec.settings ?? [
        ['GOARCH', 'amd64'],
        ['GOOS', 'linux'],
      ]
    ).map(([key, value]) => ({ key, value })),
  };
  if (spec.main) info.main = spec.main;
  const ref = location.join('!');
  const arch = { class: 64 as const, endian: 'little' as const, machine: 62, name: 'amd64' };
  const file: FileComponent = {
    type: 'file',
    ref,
    name,
    path: name,
    location,
    size: 1,
    sha256: '0'.repeat(64),
    binary: { format: 'go', buildInfo: info, arch },
    children: goComponents(ref, location, info, spec.k3s),
  };
  if (spec.k3s) file.k3s = spec.k3s;
  return file;
}

/** A Go version the test knows to be valid. */
export function goV(text: string): GoSemver {
  const v = parseGoSemver(text);
  if (!v) throw new Error(`${text} is not a Go version`);
  return v;
}

export function dep(path: string, version: string, replace?: [string, string]): Dep {
  const d: Dep = { path, version };
  if (replace) d.replace = { path: replace[0], version: replace[1] };
  return d;
}

export function k3sIdentity(version: string): K3sIdentity {
  return { modulePath: 'github.com/k3s-io/k3s', version, source: 'ldflags' };
}
