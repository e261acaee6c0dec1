// Which records affect one installed package version, and the fixes above it.
// Rules that are not about ranges live here:
// - withdrawn records never match (OSV: `withdrawn` set means the record no longer stands);
// - `toolchain` entries are never matched: they concern the Go command that did the build
//   (cmd/go, cmd/link), not the code inside the binary, which is what govulncheck does too;
// - an entry whose every `ecosystem_specific.imports[]` item is limited (goos/goarch) to
//   platforms other than the binary's does not apply: the vulnerable package is not compiled
//   for it (GO-2022-1095: os/exec on windows only). An entry without imports applies everywhere.
// - only entries of the ecosystems asked for count (`Go`; `Debian:12` and `Debian` for a Debian 12
//   package): a record naming the same package in another release says nothing about this one.
//   A scope may reject more entries (ospackages.ts: Debian's "unimportant").
import { goEcosystemSpecific, type OsvAffected, type OsvRecord } from '../vulndb/osv.ts';
import type { VersionOrder } from './orders.ts';
import { type CompiledEntry, compileEntry, coveredAmong, entryAffects } from './ranges.ts';

export const GO_ECOSYSTEM = 'Go';

export interface Platform {
  goos: string;
  /** Unknown GOARCH: goarch limits are not applied. */
  goarch?: string;
}

/** Which `affected[]` entries of a record are about the package looked up. */
export interface EntryScope {
  /** Exact `package.ecosystem` values that count. */
  ecosystems: readonly string[];
  /** Further rule for an entry of those ecosystems; absent: every one counts. */
  applies?: (entry: OsvAffected) => boolean;
}

export const GO_SCOPE: EntryScope = { ecosystems: [GO_ECOSYSTEM] };

export interface FixedVersion {
  /** As shown to the user: the record's spelling (`1.1.12`), or the K3s release (`v1.27.5+k3s1`). */
  display: string;
  /** On the installed version's minor line (1.27.x for 1.27.2). */
  sameLine: boolean;
}

export interface RecordMatch {
  record: OsvRecord;
  /** The package name matched (the record's `affected[].package.name`). */
  name: string;
  /** Fixed versions above the installed one that the record does not mark affected, ascending. */
  fixes: FixedVersion[];
}

export function appliesToPlatform(entry: OsvAffected, platform: Platform): boolean {
  const imports = goEcosystemSpecific(entry).imports;
  if (!imports || imports.length === 0) return true;
  return imports.some(
    (imp) =>
      (!imp.goos?.length || imp.goos.includes(platform.goos)) &&
      (!imp.goarch?.length || platform.goarch === undefined || imp.goarch.includes(platform.goarch)),
  );
}

function fixesAbove<V>(compiled: CompiledEntry<V>[], installed: V, order: VersionOrder<V>): FixedVersion[] {
  const out: FixedVersion[] = [];
  const seen = new Set<string>();
  const above = compiled
    .flatMap((c) => c.fixes)
    .filter((fix) => order.compare(fix.at, installed) > 0)
    .sort((a, b) => order.compare(a.at, b.at));
  // A `fixed` that another range of the record still marks affected is no way out.
  const stillAffected = coveredAmong(
    compiled,
    above.map((fix) => fix.at),
    order,
  );
  for (const [i, fix] of above.entries()) {
    if (stillAffected[i]) continue;
    const display = order.display(fix.at, fix.text);
    if (seen.has(display)) continue;
    seen.add(display);
    out.push({ display, sameLine: order.sameLine(fix.at, installed) });
  }
  return out;
}

/** The records (of `records`, looked up for `name`) whose ranges include `installed`. */
export function matchPackage<V>(
  records: readonly OsvRecord[],
  name: string,
  installed: V,
  order: VersionOrder<V>,
  platform: Platform,
  scope: EntryScope = GO_SCOPE,
): RecordMatch[] {
  const go = scope.ecosystems.includes(GO_ECOSYSTEM);
  if (go && name === 'toolchain') return [];
  const out: RecordMatch[] = [];
  for (const record of records) {
    if (record.withdrawn) continue;
    const compiled: CompiledEntry<V>[] = [];
    for (const entry of record.affected ?? []) {
      const pkg = entry.package;
      if (!pkg || pkg.name !== name || !scope.ecosystems.includes(pkg.ecosystem)) continue;
      if (scope.applies && !scope.applies(entry)) continue;
      if (pkg.ecosystem !== GO_ECOSYSTEM || appliesToPlatform(entry, platform))
        compiled.push(compileEntry(entry, order));
    }
    if (compiled.some((c) => entryAffects(c, installed, order)))
      out.push({ record, name, fixes: fixesAbove(compiled, installed, order) });
  }
  return out;
}

/**
 * The fixes of one vulnerability matched by several records (a GO- record and its GHSA): the
 * primary record's, or the next one's when the primary names none.
 */
export function groupFixes(matches: readonly RecordMatch[]): FixedVersion[] {
  return matches.find((m) => m.fixes.length > 0)?.fixes ?? [];
}

// `DEBIAN-CVE-2023-4911`, `ALPINE-CVE-2025-26519`, `UBUNTU-CVE-2025-5278`: a distribution's
// record OF one CVE, which names it in `upstream`, not in `aliases`.
const DISTRO_CVE_ID = /^[A-Z]+-(CVE-\d{4}-\d+)$/;

/**
 * A record's own id, then its aliases: what alias merging joins on. A distribution's per-CVE
 * record also counts its CVE as an alias when its id says it is that CVE and `upstream` names
 * it: the one-to-one case. Other `upstream` ids are not aliases (a DSA fixes several CVEs, and
 * OSV keeps `upstream` apart from `aliases` for that reason), so they are not joined on.
 */
export function recordIds(record: OsvRecord): string[] {
  const ids = [record.id, ...(record.aliases ?? [])];
  const cve = DISTRO_CVE_ID.exec(record.id)?.[1];
  if (cve && record.upstream?.includes(cve) && !ids.includes(cve)) ids.push(cve);
  return ids;
}
