// Where OSV records come from: a folder of JSON files (walked recursively, as OSV's GHSA and
// Go vulndb trees are laid out), an OSV per-ecosystem `all.zip`, or one JSON file holding a
// record or an array of records. Each yields candidates one at a time, so a 500k-record zip
// never sits in memory parsed; a candidate that is not even JSON comes out as `bad`, and the
// import decides what a bad one costs (a warning).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readFileHead } from '../io/bytesource.ts';
import { fsError } from '../io/fs-error.ts';
import { parseJsonText } from '../io/json-text.ts';
import { InputError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import { DEFAULT_ZIP_LIMITS, openZipFile, type ZipLimits } from './zip.ts';

export type SourceKind = 'folder' | 'zip' | 'json';

/** A path to import, with the name to record it under (`db update` records the URL). */
export interface ImportSource {
  path: string;
  label?: string;
}

export interface ResolvedSource {
  path: string;
  label: string;
  kind: SourceKind;
}

/** `file`: which file or zip entry of the source (1-based) the candidate came from. */
export type SourceItem =
  | { ok: true; file: number; where: string; value: unknown }
  | { ok: false; file: number; where: string; problem: string };

function startsWithZipMagic(path: string): boolean {
  const head = readFileHead(path, 4);
  if (head.length < 4) return false;
  // A local header, or the end record of an empty archive.
  return head.readUInt32LE(0) === 0x04034b50 || head.readUInt32LE(0) === 0x06054b50;
}

/** Check a source exists and say what it is, before anything is written. */
export function resolveSource(source: string | ImportSource): ResolvedSource {
  const { path, label = resolve(path) } = typeof source === 'string' ? { path: source } : source;
  let kind: SourceKind;
  try {
    const st = statSync(path);
    if (st.isDirectory()) kind = 'folder';
    else if (st.isFile()) kind = path.toLowerCase().endsWith('.zip') || startsWithZipMagic(path) ? 'zip' : 'json';
    else throw new InputError('UNREADABLE', label, 'not a file or folder');
  } catch (e) {
    throw fsError(e, label, { missing: 'no such file or folder' });
  }
  return { path, label, kind };
}

/** The JSON files under `dir`, sorted, skipping hidden entries (.git) and symlinks (no loops). */
function jsonFilesUnder(dir: string, out: string[] = []): string[] {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) jsonFilesUnder(p, out);
    else if (e.isFile() && e.name.toLowerCase().endsWith('.json')) out.push(p);
  }
  return out;
}

/** A parsed JSON document: one record, or an array of records, each a candidate. */
function* candidates(file: number, where: string, bytes: Buffer): Generator<SourceItem> {
  let value: unknown;
  try {
    // A UTF-8 byte order mark is not JSON, but some editors write one.
    const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    value = parseJsonText(bytes.toString('utf8', start));
  } catch (e) {
    yield { ok: false, file, where, problem: `not valid JSON (${(e as Error).message})` };
    return;
  }
  if (Array.isArray(value))
    for (const [i, v] of value.entries()) yield { ok: true, file, where: `${where}[${i}]`, value: v };
  else yield { ok: true, file, where, value };
}

function* fromFile(file: number, path: string, where: string, limit: number): Generator<SourceItem> {
  const size = statSync(path).size;
  if (size > limit)
    yield { ok: false, file, where, problem: `${size} bytes, over the ${limit}-byte limit for one JSON file` };
  else yield* candidates(file, where, readFileSync(path));
}

/** The candidates of one source, in order; `onTotal` learns how many files or entries it has. */
export function* readSource(
  src: ResolvedSource,
  onTotal: (files: number) => void,
  zipLimits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Generator<SourceItem> {
  if (src.kind === 'json') {
    onTotal(1);
    yield* fromFile(1, src.path, src.label, LIMITS.osvJsonFile);
  } else if (src.kind === 'folder') {
    const files = jsonFilesUnder(src.path);
    onTotal(files.length);
    for (const [i, f] of files.entries())
      yield* fromFile(i + 1, f, join(src.label, f.slice(src.path.length + 1)), LIMITS.osvRecordFile);
  } else {
    const zip = openZipFile(src.path, zipLimits, src.label);
    try {
      const entries = zip.entries.filter((e) => !e.isDirectory && e.name.toLowerCase().endsWith('.json'));
      onTotal(entries.length);
      for (const [i, e] of entries.entries()) yield* candidates(i + 1, `${src.label}!${e.name}`, zip.read(e));
    } finally {
      zip.close();
    }
  }
}
