// Inventory + OSV records -> vulnerability findings. targets.ts decides what is looked up for
// each Go binary (modules as built, forks as upstream, stdlib, the K3s identity), records.ts
// which records apply, aliases.ts merges the records of one vulnerability; here one finding is
// made per vulnerability per component. Reachability is left 'unknown': the function-table
// reader fills it in afterwards (for OS packages it stays 'unknown': records name no symbols).
import type { Component, Finding, VulnerabilityInfo } from '../model/inventory.ts';
import { withoutV } from '../versions/gosemver.ts';
import type { OsvRecord } from '../vulndb/osv.ts';
import { compareIds, groupByAlias } from './aliases.ts';
import type { AliasLookup, RecordLookup } from './lookup.ts';
import { findingMessage } from './message.ts';
import { orderOf } from './orders.ts';
import { type FixedVersion, groupFixes, matchPackage, type RecordMatch, recordIds } from './records.ts';
import { type SeverityVerdict, severityOf } from './severity.ts';
import { type MatchTarget, matchTargets } from './targets.ts';

/** One vulnerability as matched for one (package, version, platform): the same for every component. */
interface Vulnerability {
  ids: string[];
  /** The matched records, the primary's first. */
  matches: RecordMatch[];
  verdict: SeverityVerdict;
  summary?: string;
  fixes: FixedVersion[];
}

/**
 * The records matching one target, over every name and ecosystem it is looked up under
 * (deduplicated by id: a record naming `Debian:12` and bare `Debian` is evaluated once, with
 * both entries).
 */
function matchTarget(
  t: MatchTarget,
  records: (ecosystem: string, name: string) => readonly OsvRecord[],
): RecordMatch[] {
  const order = orderOf(t.order);
  const installed = order.parse(t.version);
  if (installed === undefined) return []; // not a version this order can place: not guessed
  const out: RecordMatch[] = [];
  const seen = new Set<string>();
  for (const name of t.names) {
    const candidates = t.scope.ecosystems.flatMap((ecosystem) => records(ecosystem, name));
    for (const m of matchPackage(candidates, name, installed, order, t.platform, t.scope)) {
      if (seen.has(m.record.id)) continue;
      seen.add(m.record.id);
      out.push(m);
    }
  }
  return out;
}

/**
 * The severity from the matched records; when they rate it nowhere (the Go vulndb's own records
 * never do), from the other records the database holds for the same ids: a GHSA record of the
 * vulnerability rates it even when its own ranges or package name did not match this lookup.
 */
function verdictOf(records: readonly OsvRecord[], ids: readonly string[], aliases?: AliasLookup): SeverityVerdict {
  const verdict = severityOf(records);
  if (verdict.severity !== 'unknown' || !aliases) return verdict;
  const others = aliases(ids)
    .filter((r) => !r.withdrawn && !records.some((m) => m.id === r.id))
    .sort((a, b) => compareIds(a.id, b.id));
  return others.length > 0 ? severityOf(others) : verdict;
}

function vulnerabilities(matches: readonly RecordMatch[], aliases?: AliasLookup): Vulnerability[] {
  return groupByAlias(matches, (m) => recordIds(m.record)).map((g) => {
    const v: Vulnerability = {
      ids: g.ids,
      matches: g.members,
      verdict: verdictOf(
        g.members.map((m) => m.record),
        g.ids,
        aliases,
      ),
      fixes: groupFixes(g.members),
    };
    const summary = g.members.map((m) => m.record.summary).find((x) => !!x);
    if (summary) v.summary = summary;
    return v;
  });
}

function finding(t: MatchTarget, v: Vulnerability): Finding {
  const ids = [...v.ids];
  const fixed = v.fixes[0]?.display;
  const vulnerability: VulnerabilityInfo = {
    ids,
    module: (v.matches[0] as RecordMatch).name,
    version: t.order === 'go' ? withoutV(t.version) : t.version,
    via: t.via,
    reachability: 'unknown',
  };
  if (v.summary) vulnerability.summary = v.summary;
  if (fixed) vulnerability.fixed = fixed;
  if (v.verdict.cvss) vulnerability.cvss = { ...v.verdict.cvss };
  return {
    id: ids[0] as string,
    severity: v.verdict.severity,
    title: v.summary ?? (ids[0] as string),
    message: findingMessage(t, ids, v.fixes),
    location: t.location,
    component: t.component,
    vulnerability,
  };
}

/**
 * Vulnerability findings for a component tree (an inventory's root, or several components),
 * in tree order; within a component, by primary id. Records come from `lookup`; `aliases`, when
 * given, rates a vulnerability its matched records leave unrated.
 */
export function matchRecords(
  components: Component | readonly Component[],
  lookup: RecordLookup,
  aliases?: AliasLookup,
): Finding[] {
  const cache = new Map<string, readonly OsvRecord[]>();
  const records = (ecosystem: string, name: string): readonly OsvRecord[] => {
    const key = `${ecosystem}\0${name}`;
    let r = cache.get(key);
    if (!r) {
      r = lookup(ecosystem, name);
      cache.set(key, r);
    }
    return r;
  };
  // The same module at the same version recurs across a bundle's binaries: match it, merge
  // its aliases and rate it once.
  const memo = new Map<string, Vulnerability[]>();
  const byComponent = new Map<string, Array<{ target: MatchTarget; vulns: Vulnerability[] }>>();
  for (const t of matchTargets(components)) {
    const key = [
      t.order,
      t.scope.ecosystems.join(' '),
      t.names.join(' '),
      t.version,
      t.platform.goos,
      t.platform.goarch ?? '',
    ].join('\0');
    let vulns = memo.get(key);
    if (!vulns) {
      vulns = vulnerabilities(matchTarget(t, records), aliases);
      memo.set(key, vulns);
    }
    if (vulns.length === 0) continue;
    const entry = byComponent.get(t.component);
    if (entry) entry.push({ target: t, vulns });
    else byComponent.set(t.component, [{ target: t, vulns }]);
  }
  const findings: Finding[] = [];
  for (const entries of byComponent.values()) {
    const [only] = entries;
    if (entries.length === 1 && only) {
      for (const v of only.vulns) findings.push(finding(only.target, v));
      continue;
    }
    // Several lookups for one component (a fork as built and as upstream): one finding per
    // vulnerability across them, the first lookup's (what was built) leading.
    const hits = entries.flatMap((e) =>
      e.vulns.flatMap((v) => v.matches.map((match) => ({ target: e.target, match }))),
    );
    for (const group of groupByAlias(hits, (h) => recordIds(h.match.record))) {
      const [v] = vulnerabilities(
        group.members.map((h) => h.match),
        aliases,
      );
      if (v) findings.push(finding((group.members[0] as (typeof hits)[0]).target, { ...v, ids: group.ids }));
    }
  }
  return findings;
}
