// OpenVEX 0.2.0 documents (https://github.com/openvex/spec): what an author says about whether
// a vulnerability affects their products. `scan --vex FILE` reads one to suppress the findings
// its `not_affected` statements cover (vex-apply.ts).
//
// The reader checks the document exactly as the OpenVEX 0.2.0 JSON schema does (required
// fields, no unknown fields, enums, date-times, the `not_affected` and `affected`
// conditions) without a schema library at run time: a VEX file can hide findings, so one
// that is not what it claims to be is refused whole (VEX_INVALID, naming the file), never
// half-applied. The tests hold this reader to the schema with ajv.

import { parseJsonText } from '../io/json-text.ts';
import { readOptionText } from '../io/option-file.ts';
import { InputError } from '../model/errors.ts';

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';
export type VexJustification =
  | 'component_not_present'
  | 'vulnerable_code_not_present'
  | 'vulnerable_code_not_in_execute_path'
  | 'vulnerable_code_cannot_be_controlled_by_adversary'
  | 'inline_mitigations_already_exist';

const STATUSES: readonly VexStatus[] = ['not_affected', 'affected', 'fixed', 'under_investigation'];
const JUSTIFICATIONS: readonly VexJustification[] = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
];
const HASH_KEYS = [
  'md5',
  'sha1',
  'sha-256',
  'sha-384',
  'sha-512',
  'sha3-224',
  'sha3-256',
  'sha3-384',
  'sha3-512',
  'blake2s-256',
  'blake2b-256',
  'blake2b-512',
];

/** A product or subcomponent: what a statement is about. */
export interface VexProduct {
  '@id'?: string;
  identifiers?: { purl?: string; cpe22?: string; cpe23?: string };
  hashes?: Record<string, string>;
  subcomponents?: VexProduct[];
}

export interface VexStatement {
  '@id'?: string;
  version?: number;
  vulnerability: { '@id'?: string; name: string; description?: string; aliases?: string[] };
  timestamp?: string;
  last_updated?: string;
  products?: VexProduct[];
  status: VexStatus;
  supplier?: string;
  status_notes?: string;
  justification?: VexJustification;
  impact_statement?: string;
  action_statement?: string;
  action_statement_timestamp?: string;
}

export interface VexDocument {
  '@context': string;
  '@id': string;
  author: string;
  role?: string;
  timestamp: string;
  last_updated?: string;
  version: number;
  tooling?: string;
  statements: VexStatement[];
}

/** A document as read, with the file it came from (findings name it when suppressed). */
export interface LoadedVex {
  source: string;
  document: VexDocument;
}

/** Reads and checks an OpenVEX file; InputError NOT_FOUND / UNREADABLE / VEX_INVALID. */
export function readVexFile(path: string): LoadedVex {
  return { source: path, document: parseVex(readOptionText(path, 'vex'), path) };
}

/** Parses and checks OpenVEX JSON text; `source` names it in errors. */
export function parseVex(text: string, source: string): VexDocument {
  let json: unknown;
  try {
    json = parseJsonText(text);
  } catch (e) {
    throw new InputError('VEX_INVALID', source, `not JSON: ${(e as Error).message}`);
  }
  const fail = (where: string, message: string): never => {
    throw new InputError('VEX_INVALID', source, `not a valid OpenVEX 0.2.0 document: ${where}: ${message}`);
  };
  checkDocument(json, fail);
  return json as VexDocument;
}

type Fail = (where: string, message: string) => never;

function object(v: unknown, at: string, fail: Fail, allowed: readonly string[], required: readonly string[] = []) {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(at, 'must be an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(at, `unknown property "${k}"`);
  for (const k of required) if (!(k in o)) fail(at, `"${k}" is required`);
  return o;
}

function string(v: unknown, at: string, fail: Fail): string {
  return typeof v === 'string' ? v : fail(at, 'must be a string');
}

function optional(o: Record<string, unknown>, key: string, at: string, fail: Fail, check?: (s: string) => boolean) {
  if (!(key in o)) return;
  const s = string(o[key], `${at}/${key}`, fail);
  if (check && !check(s)) fail(`${at}/${key}`, `${JSON.stringify(s)} is not a valid value`);
}

function integer(v: unknown, at: string, fail: Fail): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(at, 'must be an integer of at least 1');
}

// RFC 3339 date-time, with the calendar checked (JSON Schema's `date-time` format).
const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-](\d\d):(\d\d))$/;
export function isDateTime(s: string): boolean {
  const m = DATE_TIME.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, sec, , , oh, om] = m.slice(1).map((x) => x ?? '0');
  const year = Number(y);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Number(mo) - 1];
  return (
    days !== undefined &&
    Number(d) >= 1 &&
    Number(d) <= days &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(sec) <= 60 &&
    Number(oh) < 24 &&
    Number(om) < 60
  );
}

// An IRI: a scheme, a colon, and none of the characters IRIs exclude (controls, space, <>"{}|\^`).
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const EXCLUDED = new Set('<>"{}|\\^`');
const isIri = (s: string) => SCHEME.test(s) && [...s].every((ch) => ch > ' ' && ch !== '\x7f' && !EXCLUDED.has(ch));
// A URI (the document's @context): an IRI in ASCII only.
const isUri = (s: string) => isIri(s) && [...s].every((ch) => ch < '\x7f');

/** JSON equality of parsed values, for the schema's `uniqueItems`. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function array(v: unknown, at: string, fail: Fail, item: (x: unknown, at: string) => void, minItems = 0): void {
  if (!Array.isArray(v)) fail(at, 'must be an array');
  if (v.length < minItems) fail(at, `must have at least ${minItems} item(s)`);
  const seen = new Set<string>();
  v.forEach((x, i) => {
    item(x, `${at}/${i}`);
    const key = canonical(x);
    if (seen.has(key)) fail(`${at}/${i}`, 'repeats an earlier item (items must be unique)');
    seen.add(key);
  });
}

function checkDocument(v: unknown, fail: Fail): void {
  const doc = object(
    v,
    '',
    fail,
    ['@context', '@id', 'author', 'role', 'timestamp', 'last_updated', 'version', 'tooling', 'statements'],
    ['@context', '@id', 'author', 'timestamp', 'version', 'statements'],
  );
  optional(doc, '@context', '', fail, isUri);
  optional(doc, '@id', '', fail, isIri);
  optional(doc, 'author', '', fail);
  optional(doc, 'role', '', fail);
  optional(doc, 'timestamp', '', fail, isDateTime);
  optional(doc, 'last_updated', '', fail, isDateTime);
  optional(doc, 'tooling', '', fail);
  integer(doc.version, '/version', fail);
  array(doc.statements, '/statements', fail, (s, at) => checkStatement(s, at, fail), 1);
}

function checkStatement(v: unknown, at: string, fail: Fail): void {
  const s = object(
    v,
    at,
    fail,
    [
      '@id',
      'version',
      'vulnerability',
      'timestamp',
      'last_updated',
      'products',
      'status',
      'supplier',
      'status_notes',
      'justification',
      'impact_statement',
      'action_statement',
      'action_statement_timestamp',
    ],
    ['vulnerability', 'status'],
  );
  optional(s, '@id', at, fail, isIri);
  if ('version' in s) integer(s.version, `${at}/version`, fail);
  const vuln = object(
    s.vulnerability,
    `${at}/vulnerability`,
    fail,
    ['@id', 'name', 'description', 'aliases'],
    ['name'],
  );
  optional(vuln, '@id', `${at}/vulnerability`, fail, isIri);
  optional(vuln, 'name', `${at}/vulnerability`, fail);
  optional(vuln, 'description', `${at}/vulnerability`, fail);
  if ('aliases' in vuln) array(vuln.aliases, `${at}/vulnerability/aliases`, fail, (a, p) => string(a, p, fail));
  for (const k of ['timestamp', 'last_updated', 'action_statement_timestamp']) optional(s, k, at, fail, isDateTime);
  if ('products' in s) array(s.products, `${at}/products`, fail, (p, where) => checkProduct(p, where, fail, true));
  optional(s, 'status', at, fail, (x) => (STATUSES as readonly string[]).includes(x));
  for (const k of ['supplier', 'status_notes', 'impact_statement', 'action_statement']) optional(s, k, at, fail);
  optional(s, 'justification', at, fail, (x) => (JUSTIFICATIONS as readonly string[]).includes(x));
  if (s.status === 'not_affected' && !('justification' in s) && !('impact_statement' in s)) {
    fail(at, 'a not_affected statement needs a justification or an impact_statement');
  }
  if (s.status === 'affected' && !('action_statement' in s))
    fail(at, 'an affected statement needs an action_statement');
}

function checkProduct(v: unknown, at: string, fail: Fail, top: boolean): void {
  const keys = top ? ['@id', 'identifiers', 'hashes', 'subcomponents'] : ['@id', 'identifiers', 'hashes'];
  const p = object(v, at, fail, keys);
  if (!('@id' in p) && !('identifiers' in p)) fail(at, 'needs an "@id" or "identifiers"');
  optional(p, '@id', at, fail, isIri);
  if ('identifiers' in p) {
    const ids = object(p.identifiers, `${at}/identifiers`, fail, ['purl', 'cpe22', 'cpe23']);
    if (Object.keys(ids).length === 0) fail(`${at}/identifiers`, 'needs a purl, cpe22 or cpe23');
    for (const k of ['purl', 'cpe22', 'cpe23']) optional(ids, k, `${at}/identifiers`, fail);
  }
  if ('hashes' in p) {
    const hashes = object(p.hashes, `${at}/hashes`, fail, HASH_KEYS);
    for (const k of HASH_KEYS) optional(hashes, k, `${at}/hashes`, fail);
  }
  if (top && 'subcomponents' in p) {
    array(p.subcomponents, `${at}/subcomponents`, fail, (c, where) => checkProduct(c, where, fail, false));
  }
}
