// OSV range evaluation for one `affected` entry, in a given version order.
//
// Which ranges count:
// - `ranges[]` of type SEMVER or ECOSYSTEM (GHSA writes Go and K3s ranges as ECOSYSTEM with
//   plain versions); GIT ranges name commits, which a binary does not record: not evaluated.
// - the Go vulndb's `custom_ranges` (in `ecosystem_specific`; `database_specific` accepted too):
//   "additional versions that could not be mapped to Go module versions" (their own words), so
//   they ADD to the SEMVER ranges: e.g. GO-2024-2527 has SEMVER `< 0.5.0-alpha...` and custom
//   `3.2.22 <= v < 3.4.22` for go.etcd.io/etcd, and v3.3.x+incompatible is affected.
// - except a placeholder: when the SEMVER ranges are exactly one `{introduced: "0"}` with no end
//   AND real ranges exist elsewhere (custom ranges, or ECOSYSTEM ranges beside it in `ranges[]`),
//   the SEMVER range only says "see the real ranges" (GO-2025-3646, GO-2026-5973 for K3s; 468
//   affected entries of the Go vulndb): it is dropped, or every version would match.
//   `{introduced: "0"}` alone, with no other range, is a real "every version, no fix".
// A range is evaluated as the OSV spec's algorithm does: events sorted by version, the last
// one at or below the installed version decides (introduced: affected; fixed: not; a version
// above last_affected: not). `introduced: "0"` means from the very first version (including
// v0.0.0 pseudo-versions), so it is a sentinel, never parsed. A range holding a version the
// order cannot read is not evaluated at all: a half-read range would be a guess.
import type { OsvAffected, OsvRange } from '../vulndb/osv.ts';
import type { VersionOrder } from './orders.ts';

type EventKind = 'introduced' | 'fixed' | 'last_affected';

interface CompiledEvent<V> {
  kind: EventKind;
  /** null: the `"0"` sentinel (before everything). */
  at: V | null;
  text: string;
}

export interface CompiledEntry<V> {
  ranges: CompiledEvent<V>[][];
  /** `versions[]`: affected versions listed one by one. */
  versions: V[];
  /** Every `fixed` event of the evaluated ranges, ascending. */
  fixes: Array<{ at: V; text: string }>;
  /** The same affected set as `ranges` and `versions`, as intervals (see `coveredAmong`). */
  segments: Segment<V>[];
}

/** An interval of affected versions; `null` bounds are open ends (below or above everything). */
interface Segment<V> {
  lo: V | null;
  loIncluded: boolean;
  hi: V | null;
  hiIncluded: boolean;
}

const EVALUATED = new Set(['SEMVER', 'ECOSYSTEM']);

function customRanges(entry: OsvAffected): OsvRange[] {
  const out: OsvRange[] = [];
  for (const holder of [entry.ecosystem_specific, entry.database_specific]) {
    const list = (holder as { custom_ranges?: unknown } | undefined)?.custom_ranges;
    if (Array.isArray(list)) out.push(...(list as OsvRange[]).filter((r) => r && Array.isArray(r.events)));
  }
  return out;
}

function isPlaceholder(ranges: OsvRange[]): boolean {
  if (ranges.length !== 1) return false;
  const events = ranges[0]?.events ?? [];
  return events.length === 1 && (events[0] as { introduced?: string }).introduced === '0';
}

/** The ranges that say something about this entry (see the header). */
export function effectiveRanges(entry: OsvAffected): OsvRange[] {
  const semver = (entry.ranges ?? []).filter((r) => r.type === 'SEMVER');
  // The real ranges may also sit next to the placeholder as ECOSYSTEM ranges of `ranges[]`.
  const others = [
    ...(entry.ranges ?? []).filter((r) => r.type === 'ECOSYSTEM'),
    ...customRanges(entry).filter((r) => EVALUATED.has(r.type)),
  ];
  if (others.length > 0 && isPlaceholder(semver)) return others;
  return [...semver, ...others];
}

function compileRange<V>(range: OsvRange, order: VersionOrder<V>): CompiledEvent<V>[] | undefined {
  const events: CompiledEvent<V>[] = [];
  for (const e of range.events) {
    const [kind, text] = Object.entries(e)[0] ?? [];
    if (kind !== 'introduced' && kind !== 'fixed' && kind !== 'last_affected') continue; // `limit`: GIT only
    if (typeof text !== 'string') return undefined;
    if (kind === 'introduced' && text === '0') {
      events.push({ kind, at: null, text });
      continue;
    }
    const at = order.parse(text);
    if (at === undefined) return undefined;
    events.push({ kind, at, text });
  }
  // Stable sort: ties keep the record's order.
  return events.sort((a, b) =>
    a.at === null ? (b.at === null ? 0 : -1) : b.at === null ? 1 : order.compare(a.at, b.at),
  );
}

// Compiled once per entry object and order: the database hands out the same parsed record
// objects, and a K3s bundle repeats modules, so a scan reads each range once.
const cache = new WeakMap<OsvAffected, Map<string, CompiledEntry<unknown>>>();

export function compileEntry<V>(entry: OsvAffected, order: VersionOrder<V>): CompiledEntry<V> {
  let byOrder = cache.get(entry);
  const hit = byOrder?.get(order.kind);
  if (hit) return hit as CompiledEntry<V>;
  const compiled: CompiledEntry<V> = { ranges: [], versions: [], fixes: [], segments: [] };
  for (const range of effectiveRanges(entry)) {
    const events = compileRange(range, order);
    if (!events) continue;
    compiled.ranges.push(events);
    compiled.segments.push(...rangeSegments(events, order));
    for (const ev of events)
      if (ev.kind === 'fixed' && ev.at !== null) compiled.fixes.push({ at: ev.at, text: ev.text });
  }
  for (const text of entry.versions ?? []) {
    const v = order.parse(text);
    if (v !== undefined) {
      compiled.versions.push(v);
      compiled.segments.push({ lo: v, loIncluded: true, hi: v, hiIncluded: true });
    }
  }
  compiled.fixes.sort((a, b) => order.compare(a.at, b.at));
  if (!byOrder) {
    byOrder = new Map();
    cache.set(entry, byOrder);
  }
  byOrder.set(order.kind, compiled as CompiledEntry<unknown>);
  return compiled;
}

function inRange<V>(v: V, events: CompiledEvent<V>[], order: VersionOrder<V>): boolean {
  let affected = false;
  for (const ev of events) {
    if (ev.kind === 'introduced') {
      if (ev.at === null || order.compare(v, ev.at) >= 0) affected = true;
    } else if (ev.at !== null) {
      const c = order.compare(v, ev.at);
      if (ev.kind === 'fixed' ? c >= 0 : c > 0) affected = false;
    }
  }
  return affected;
}

/** Whether `v` is affected according to this entry. */
export function entryAffects<V>(compiled: CompiledEntry<V>, v: V, order: VersionOrder<V>): boolean {
  return (
    compiled.ranges.some((events) => inRange(v, events, order)) ||
    compiled.versions.some((listed) => order.compare(v, listed) === 0)
  );
}

/**
 * One range's affected versions as intervals, in one pass over its sorted events, with exactly
 * `inRange`'s answers: a version at an event's own version is decided by the events below it
 * and the `introduced`/`fixed` events at it (a `last_affected` at v still leaves v affected);
 * a version strictly between two event versions by every event up to the lower one.
 */
function rangeSegments<V>(events: CompiledEvent<V>[], order: VersionOrder<V>): Segment<V>[] {
  const out: Segment<V>[] = [];
  let i = 0;
  let below = false; // affected just below the next event version
  // The `"0"` sentinels sort first and are always passed.
  for (; i < events.length && (events[i] as CompiledEvent<V>).at === null; i++) below = true;
  let open: { lo: V | null; loIncluded: boolean } | undefined = below ? { lo: null, loIncluded: true } : undefined;
  while (i < events.length) {
    const x = (events[i] as CompiledEvent<V>).at as V;
    let at = below;
    let last = events[i] as CompiledEvent<V>;
    for (; i < events.length && order.compare((events[i] as CompiledEvent<V>).at as V, x) === 0; i++) {
      last = events[i] as CompiledEvent<V>;
      if (last.kind !== 'last_affected') at = last.kind === 'introduced';
    }
    const above = last.kind === 'introduced';
    if (open && !at) out.push({ ...open, hi: x, hiIncluded: false });
    else if (open && !above) out.push({ ...open, hi: x, hiIncluded: true });
    else if (!open && at && !above) out.push({ lo: x, loIncluded: true, hi: x, hiIncluded: true });
    if (open && at && above) continue;
    open = above ? { lo: x, loIncluded: at } : undefined;
    below = above;
  }
  if (open) out.push({ ...open, hi: null, hiIncluded: false });
  return out;
}

/**
 * For versions sorted ascending, whether any of the entries marks each affected: one sweep over
 * the entries' intervals sorted by lower bound, keeping the highest upper bound reached so far,
 * so a record with many ranges costs n log n, not ranges x versions.
 */
export function coveredAmong<V>(
  compiled: readonly CompiledEntry<V>[],
  ascending: readonly V[],
  order: VersionOrder<V>,
): boolean[] {
  const segments = compiled.flatMap((c) => c.segments);
  segments.sort((a, b) => {
    if (a.lo === null || b.lo === null) return (a.lo === null ? 0 : 1) - (b.lo === null ? 0 : 1);
    return order.compare(a.lo, b.lo) || Number(b.loIncluded) - Number(a.loIncluded);
  });
  let next = 0;
  let reach: { hi: V | null; hiIncluded: boolean } | undefined;
  const higher = (s: Segment<V>): boolean => {
    if (!reach) return true;
    if (reach.hi === null) return false;
    if (s.hi === null) return true;
    const c = order.compare(s.hi, reach.hi);
    return c > 0 || (c === 0 && s.hiIncluded && !reach.hiIncluded);
  };
  return ascending.map((v) => {
    for (; next < segments.length; next++) {
      const s = segments[next] as Segment<V>;
      if (s.lo !== null) {
        const c = order.compare(s.lo, v);
        if (c > 0 || (c === 0 && !s.loIncluded)) break;
      }
      if (higher(s)) reach = { hi: s.hi, hiIncluded: s.hiIncluded };
    }
    if (!reach) return false;
    if (reach.hi === null) return true;
    const c = order.compare(reach.hi, v);
    return c > 0 || (c === 0 && reach.hiIncluded);
  });
}
