// The OSV record (https://ossf.github.io/osv-schema/, schema 1.x) as k3sguard stores it, and
// the check every record passes before it enters the database. The check covers what the
// database indexes and what the matcher reads (ids, dates, aliases, packages, ranges and
// their events, Go's `ecosystem_specific`); other fields are kept verbatim as the source
// wrote them. Open vocabularies (severity and reference types, ecosystems) stay `string`:
// a record is not dropped because a newer schema added a value.

export interface OsvRecord {
  /** Absent means 1.0.0. Only major version 1 is accepted. */
  schema_version?: string;
  id: string;
  /** RFC 3339. The Go vulndb export carries the zero date `0001-01-01T00:00:00Z`. */
  modified: string;
  published?: string;
  /** Present: the record was withdrawn (kept in the database, flagged, never matched). */
  withdrawn?: string;
  aliases?: string[] | null;
  upstream?: string[];
  related?: (string | { type: string; id: string })[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[] | null;
  affected?: OsvAffected[] | null;
  references?: OsvReference[] | null;
  credits?: OsvCredit[];
  database_specific?: Record<string, unknown>;
}

export interface OsvSeverity {
  /** CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu (schema 1.6). */
  type: string;
  score: string;
}

export interface OsvPackage {
  /** `Go` for Go modules; other databases use `npm`, `PyPI`, `Debian:12`, ... */
  ecosystem: string;
  /** For Go: a module path, or the pseudo-modules `stdlib` and `toolchain`. */
  name: string;
  purl?: string;
}

/** Exactly one of the four kinds (the schema's oneOf): narrow with `'fixed' in event`. */
export type OsvEvent = { introduced: string } | { fixed: string } | { last_affected: string } | { limit: string };

export interface OsvRange {
  type: 'SEMVER' | 'ECOSYSTEM' | 'GIT';
  repo?: string;
  events: OsvEvent[];
  database_specific?: Record<string, unknown>;
}

export interface OsvAffected {
  package?: OsvPackage;
  severity?: OsvSeverity[] | null;
  ranges?: OsvRange[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

export interface OsvReference {
  /** ADVISORY, ARTICLE, DETECTION, DISCUSSION, REPORT, FIX, INTRODUCED, GIT, PACKAGE, EVIDENCE, WEB. */
  type: string;
  url: string;
}

export interface OsvCredit {
  name: string;
  contact?: string[];
  type?: string;
}

/** The Go vulndb's `ecosystem_specific` (checked at import for records of ecosystem `Go`). */
export interface GoEcosystemSpecific {
  /** Packages (import paths) and the symbols in them that carry the vulnerability. */
  imports?: { path: string; goos?: string[]; goarch?: string[]; symbols?: string[] }[];
  /** Ranges a Go module version cannot express (K3s's `v1.32.4+k3s1`): type ECOSYSTEM. */
  custom_ranges?: OsvRange[];
}

/** The Go view of an affected entry's `ecosystem_specific` (empty when it has none). */
export function goEcosystemSpecific(affected: OsvAffected): GoEcosystemSpecific {
  return (affected.ecosystem_specific ?? {}) as GoEcosystemSpecific;
}

import { LIMITS } from '../model/limits.ts';

// RFC 3339 date-time; the schema asks for UTC `Z` but offsets are valid RFC 3339 too.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
const RANGE_TYPES = new Set(['SEMVER', 'ECOSYSTEM', 'GIT']);

/** Milliseconds since the epoch of an RFC 3339 date-time, or undefined when it is not one. */
export function osvTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !DATE_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Dates before 1970 (the vulndb's `0001-01-01`) say "no date", not "oldest". */
export function isRealDate(ms: number): boolean {
  return ms >= 0;
}

export type OsvCheck = { ok: true; record: OsvRecord } | { ok: false; id: string | undefined; problem: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
// An array (or null, which some exporters write for "none") of objects with these string fields.
const isListOf = (v: unknown, fields: readonly string[]): boolean =>
  v === null || (Array.isArray(v) && v.every((o) => isObject(o) && fields.every((f) => typeof o[f] === 'string')));

function checkRange(r: unknown, where: string): string | undefined {
  if (!isObject(r)) return `${where} is not an object`;
  if (typeof r.type !== 'string' || !RANGE_TYPES.has(r.type)) return `${where}.type is not SEMVER, ECOSYSTEM or GIT`;
  if (r.type === 'GIT' && typeof r.repo !== 'string') return `${where} is a GIT range without repo`;
  if (!Array.isArray(r.events) || r.events.length === 0) return `${where}.events is not a non-empty array`;
  for (const [i, e] of r.events.entries()) {
    // Each event is exactly one of the four kinds (the schema's oneOf).
    const kinds = isObject(e) ? EVENT_KEYS.filter((k) => k in e) : [];
    if (kinds.length !== 1 || !isObject(e) || typeof e[kinds[0] as string] !== 'string')
      return `${where}.events[${i}] is not exactly one of introduced, fixed, last_affected, limit (a string)`;
  }
  return undefined;
}

function checkGoSpecific(v: unknown, where: string): string | undefined {
  if (!isObject(v)) return undefined;
  if (v.imports !== undefined) {
    if (!Array.isArray(v.imports)) return `${where}.imports is not an array`;
    for (const [i, imp] of v.imports.entries()) {
      const ok =
        isObject(imp) &&
        typeof imp.path === 'string' &&
        ['goos', 'goarch', 'symbols'].every((k) => imp[k] === undefined || isStringArray(imp[k]));
      if (!ok) return `${where}.imports[${i}] is not {path, goos?, goarch?, symbols?}`;
    }
  }
  if (v.custom_ranges !== undefined) {
    if (!Array.isArray(v.custom_ranges)) return `${where}.custom_ranges is not an array`;
    for (const [i, r] of v.custom_ranges.entries()) {
      const bad = checkRange(r, `${where}.custom_ranges[${i}]`);
      if (bad) return bad;
    }
  }
  return undefined;
}

function checkAffected(a: unknown, where: string): string | undefined {
  if (!isObject(a)) return `${where} is not an object`;
  const pkg = a.package;
  if (pkg !== undefined && (!isObject(pkg) || typeof pkg.ecosystem !== 'string' || typeof pkg.name !== 'string'))
    return `${where}.package lacks a string ecosystem and name`;
  if (a.ranges !== undefined) {
    if (!Array.isArray(a.ranges)) return `${where}.ranges is not an array`;
    for (const [i, r] of a.ranges.entries()) {
      const bad = checkRange(r, `${where}.ranges[${i}]`);
      if (bad) return bad;
    }
  }
  if (a.versions !== undefined && !isStringArray(a.versions)) return `${where}.versions is not an array of strings`;
  if (a.severity !== undefined && !isListOf(a.severity, ['type', 'score']))
    return `${where}.severity is not a list of {type, score}`;
  for (const k of ['ecosystem_specific', 'database_specific'])
    if (a[k] !== undefined && !isObject(a[k])) return `${where}.${k} is not an object`;
  if (isObject(pkg) && pkg.ecosystem === 'Go')
    return checkGoSpecific(a.ecosystem_specific, `${where}.ecosystem_specific`);
  return undefined;
}

/**
 * Ranges and events of a checked record's `affected` entries, counting every `custom_ranges`
 * list the matcher reads (ecosystem_specific and database_specific, whatever the ecosystem).
 */
function rangeCounts(affected: unknown[]): { ranges: number; events: number } {
  let ranges = 0;
  let events = 0;
  const count = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const r of list) {
      if (!isObject(r) || !Array.isArray(r.events)) continue;
      ranges++;
      events += r.events.length;
    }
  };
  for (const a of affected as OsvAffected[]) {
    count(a.ranges);
    for (const holder of [a.ecosystem_specific, a.database_specific]) if (isObject(holder)) count(holder.custom_ranges);
  }
  return { ranges, events };
}

function problemOf(v: Record<string, unknown>): string | undefined {
  if (typeof v.id !== 'string' || v.id.length === 0 || v.id.length > 256 || /[\s/\\]/.test(v.id))
    return 'no valid "id" (a non-empty string without spaces or slashes)';
  if (v.schema_version !== undefined && (typeof v.schema_version !== 'string' || !/^1(\.|$)/.test(v.schema_version)))
    return `schema_version ${JSON.stringify(v.schema_version)} is not OSV 1.x`;
  if (osvTime(v.modified) === undefined) return '"modified" is missing or not an RFC 3339 date-time';
  for (const k of ['published', 'withdrawn'])
    if (v[k] !== undefined && osvTime(v[k]) === undefined) return `"${k}" is not an RFC 3339 date-time`;
  for (const k of ['aliases', 'upstream', 'related'])
    if (v[k] !== undefined && v[k] !== null && !(k === 'related' ? Array.isArray(v[k]) : isStringArray(v[k])))
      return `"${k}" is not an array of strings`;
  for (const k of ['summary', 'details'])
    if (v[k] !== undefined && typeof v[k] !== 'string') return `"${k}" is not a string`;
  if (v.severity !== undefined && !isListOf(v.severity, ['type', 'score']))
    return '"severity" is not a list of {type, score}';
  if (v.references !== undefined && !isListOf(v.references, ['type', 'url']))
    return '"references" is not a list of {type, url}';
  if (v.affected !== undefined && v.affected !== null) {
    if (!Array.isArray(v.affected)) return '"affected" is not an array';
    for (const [i, a] of v.affected.entries()) {
      const bad = checkAffected(a, `affected[${i}]`);
      if (bad) return bad;
    }
    // Bounds what one record costs every scan that looks its packages up.
    const { ranges, events } = rangeCounts(v.affected);
    if (ranges > LIMITS.osvRanges)
      return `${ranges} ranges, more than the ${LIMITS.osvRanges} one record may have (docs/limits.md)`;
    if (events > LIMITS.osvEvents)
      return `${events} range events, more than the ${LIMITS.osvEvents} one record may have (docs/limits.md)`;
  }
  return undefined;
}

/** Check one parsed JSON value against the parts of OSV 1.x that k3sguard relies on. */
export function checkOsvRecord(value: unknown): OsvCheck {
  if (!isObject(value)) return { ok: false, id: undefined, problem: 'not a JSON object' };
  const problem = problemOf(value);
  if (problem) return { ok: false, id: typeof value.id === 'string' ? value.id : undefined, problem };
  return { ok: true, record: value as unknown as OsvRecord };
}
