// `k3sguard db import`: OSV records into the database, all or nothing. The import writes a NEW
// file next to the database (the existing records copied in, then the new ones added in one
// transaction), syncs it, and renames it over the old one: a rename is atomic, so a reader
// or a later run sees the old database or the new one, never a mix, whether the import fails,
// is interrupted or is killed. A killed import leaves only its temp file behind, which the
// next import removes. Two imports at the same time do not corrupt anything, but the one
// that renames last wins (its copy did not include the other's records).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { removeStaleTemps, swapInto, tempPathFor } from '../io/durable-file.ts';
import { InputError } from '../model/errors.ts';
import { checkSchema, defaultVulnDbPath, SCHEMA_SQL } from './db.ts';
import { checkOsvRecord, isRealDate, type OsvRecord, osvTime } from './osv.ts';
import { type ImportSource, type ResolvedSource, readSource, resolveSource } from './sources.ts';
import type { ImportInfo } from './status.ts';
import type { ZipLimits } from './zip.ts';

export type { ImportSource } from './sources.ts';

export interface ImportWarning {
  /** The file, `all.zip!entry` or `file.json[3]` the record came from. */
  where: string;
  /** The record's id, when it has one. */
  id?: string;
  message: string;
}

export type ImportProgress =
  | { phase: 'copy'; records: number }
  /** done/total: files or zip entries of the source; records: valid ones read so far. */
  | { phase: 'read'; source: string; done: number; total: number; records: number }
  | { phase: 'commit'; records: number };

export interface ImportOptions {
  /**
   * Each skipped record, as it is skipped. When it is the only record of the import, the
   * NO_RECORDS error says why too.
   */
  onWarning?: (w: ImportWarning) => void;
  progress?: (p: ImportProgress) => void;
  zipLimits?: ZipLimits;
}

export interface ImportResult {
  path: string;
  sources: ImportInfo[];
  /** Ids new to the database. */
  added: number;
  /** Stored ids replaced by a record as new or newer (equal dates: the later import wins). */
  replaced: number;
  /** Stored ids kept because the incoming record is older. */
  kept: number;
  skipped: number;
  /** Records in the database after the import. */
  records: number;
  /** The first 1,000 warnings (all of them go to onWarning). */
  warnings: ImportWarning[];
}

const MAX_KEPT_WARNINGS = 1000;

/** The existing database's rows, checked to be ours first (an import never overwrites a foreign file). */
function copyExisting(sql: DatabaseSync, target: string): number {
  const old = new DatabaseSync(target, { readOnly: true });
  try {
    checkSchema(old, target);
  } finally {
    old.close();
  }
  sql.prepare('ATTACH DATABASE ? AS old').run(target);
  for (const [table, cols] of [
    ['records', 'id, modified, modified_ms, published, withdrawn, json'],
    ['affected', 'ecosystem, name, record_id'],
    ['aliases', 'alias, record_id'],
    ['imports', 'id, run, source, kind, count, skipped, newest_modified, imported_at'],
  ])
    sql.exec(`INSERT INTO main.${table} (${cols}) SELECT ${cols} FROM old.${table}`);
  sql.exec('DETACH DATABASE old');
  return Number((sql.prepare('SELECT COUNT(*) AS n FROM records').get() as { n: number }).n);
}

/** Stores a checked record unless the stored one is newer; the index rows follow the record that wins. */
function writer(sql: DatabaseSync) {
  const existing = sql.prepare('SELECT modified_ms FROM records WHERE id = ?');
  const insert = sql.prepare(
    'INSERT INTO records (id, modified, modified_ms, published, withdrawn, json) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const update = sql.prepare(
    'UPDATE records SET modified = ?, modified_ms = ?, published = ?, withdrawn = ?, json = ? WHERE id = ?',
  );
  const dropAffected = sql.prepare('DELETE FROM affected WHERE record_id = ?');
  const dropAliases = sql.prepare('DELETE FROM aliases WHERE record_id = ?');
  const addAffected = sql.prepare('INSERT OR IGNORE INTO affected (ecosystem, name, record_id) VALUES (?, ?, ?)');
  const addAlias = sql.prepare('INSERT OR IGNORE INTO aliases (alias, record_id) VALUES (?, ?)');
  return (r: OsvRecord, modifiedMs: number): 'added' | 'replaced' | 'kept' => {
    const have = existing.get(r.id) as { modified_ms: number } | undefined;
    if (have && modifiedMs < have.modified_ms) return 'kept';
    const json = JSON.stringify(r);
    if (have) {
      update.run(r.modified, modifiedMs, r.published ?? null, r.withdrawn ?? null, json, r.id);
      dropAffected.run(r.id);
      dropAliases.run(r.id);
    } else insert.run(r.id, r.modified, modifiedMs, r.published ?? null, r.withdrawn ?? null, json);
    for (const a of r.affected ?? []) if (a.package) addAffected.run(a.package.ecosystem, a.package.name, r.id);
    for (const alias of r.aliases ?? []) if (alias !== r.id) addAlias.run(alias, r.id);
    return have ? 'replaced' : 'added';
  };
}

/** One source's records, checked, into the database; what the source held. */
function importSource(
  src: ResolvedSource,
  store: (r: OsvRecord, modifiedMs: number) => void,
  warn: (w: ImportWarning) => void,
  opts: ImportOptions,
): ImportInfo {
  const info: ImportInfo = {
    source: src.label,
    kind: src.kind,
    count: 0,
    skipped: 0,
    newestModified: null,
    importedAt: '',
  };
  let newestMs = -Infinity;
  let total = 0;
  let done = 0;
  const report = (): void => opts.progress?.({ phase: 'read', source: src.label, done, total, records: info.count });
  for (const item of readSource(src, (n) => (total = n), opts.zipLimits)) {
    if (item.file !== done) {
      done = item.file;
      if (done % 250 === 0) report();
    }
    const check = item.ok ? checkOsvRecord(item.value) : { ok: false as const, id: undefined, problem: item.problem };
    if (!check.ok) {
      info.skipped++;
      warn({ where: item.where, ...(check.id ? { id: check.id } : {}), message: `skipped: ${check.problem}` });
      continue;
    }
    const ms = osvTime(check.record.modified) as number;
    store(check.record, ms);
    info.count++;
    if (isRealDate(ms) && ms > newestMs) [newestMs, info.newestModified] = [ms, check.record.modified];
  }
  report();
  return info;
}

/**
 * Import OSV records from `sources` into the database at `dbPath` (default: defaultVulnDbPath()).
 * Malformed records are skipped with a warning; zip-level damage, a foreign file at `dbPath`,
 * or no valid record at all (NO_RECORDS) throw a coded InputError and leave the old database.
 */
export async function importOsv(
  dbPath: string | undefined,
  sources: readonly (string | ImportSource)[],
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const target = resolve(dbPath ?? defaultVulnDbPath());
  if (sources.length === 0)
    throw new InputError('USAGE', undefined, 'nothing to import: give a folder, an all.zip or a JSON file');
  const resolved: ResolvedSource[] = sources.map(resolveSource);
  const tmp = tempPathFor(target, 'tmp');
  let sql: DatabaseSync;
  try {
    mkdirSync(dirname(target), { recursive: true });
    removeStaleTemps(target);
    sql = new DatabaseSync(tmp);
  } catch (e) {
    throw new InputError('OUTPUT', target, `cannot write a new database next to it: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const result: ImportResult = {
    path: target,
    sources: [],
    added: 0,
    replaced: 0,
    kept: 0,
    skipped: 0,
    records: 0,
    warnings: [],
  };
  const warn = (w: ImportWarning): void => {
    result.skipped++;
    if (result.warnings.length < MAX_KEPT_WARNINGS) result.warnings.push(w);
    opts.onWarning?.(w);
  };
  try {
    // The temp file is synced once, before the rename, so SQLite need not sync as it goes.
    sql.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF;');
    sql.exec(SCHEMA_SQL);
    if (existsSync(target)) {
      // Not as an argument of progress?.(): without a callback, optional chaining would skip the copy.
      const copied = copyExisting(sql, target);
      opts.progress?.({ phase: 'copy', records: copied });
    }
    const importedAt = new Date().toISOString();
    const run = Number((sql.prepare('SELECT COALESCE(MAX(run), 0) + 1 AS n FROM imports').get() as { n: number }).n);
    const logImport = sql.prepare(
      'INSERT INTO imports (run, source, kind, count, skipped, newest_modified, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const write = writer(sql);
    sql.exec('BEGIN');
    for (const src of resolved) {
      const info = importSource(src, (r, ms) => result[write(r, ms)]++, warn, opts);
      info.importedAt = importedAt;
      logImport.run(run, info.source, info.kind, info.count, info.skipped, info.newestModified, importedAt);
      result.sources.push(info);
    }
    const valid = result.sources.reduce((n, s) => n + s.count, 0);
    if (valid === 0) {
      const label = resolved.map((s) => s.label).join(', ');
      // One skipped record is the whole story: the error says why, and is the only line.
      const only = result.skipped === 1 ? result.warnings[0] : undefined;
      const why = only
        ? `the only record${only.where !== label ? ` (${only.where})` : ''}${only.id ? `, ${only.id},` : ''} is invalid: ${only.message}`
        : `${result.skipped} skipped`;
      throw new InputError('NO_RECORDS', label, `no valid OSV record found (${why}): the database was not changed`);
    }
    result.records = Number((sql.prepare('SELECT COUNT(*) AS n FROM records').get() as { n: number }).n);
    opts.progress?.({ phase: 'commit', records: result.records });
    sql.exec('COMMIT');
    sql.close();
    swapInto(tmp, target);
    return result;
  } catch (e) {
    if (sql.isOpen) sql.close();
    rmSync(tmp, { force: true });
    throw e;
  }
}
