// The offline vulnerability database: one node:sqlite file holding OSV records verbatim, with
// index tables for what scanning asks ("which records name this module?", "which ids are one
// vulnerability?"). Nothing writes the live file in place: an import builds a new file and
// renames it over the old one (import.ts), so readers open it read-only and never see half
// an import.
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { isRegularFileOrAbsent } from '../io/option-file.ts';
import { InputError } from '../model/errors.ts';
import type { OsvRecord } from './osv.ts';
import { readStatus, type VulnDbStatus } from './status.ts';

/** Bumped when the tables change; a file with another version is refused, not guessed at. */
export const VULNDB_SCHEMA_VERSION = 1;
/** SQLite's application_id header field: 'k3vd'. Marks the file as ours. */
export const VULNDB_APPLICATION_ID = 0x6b337664;

export const SCHEMA_SQL = `
CREATE TABLE records (
  id TEXT PRIMARY KEY,
  modified TEXT NOT NULL,
  modified_ms INTEGER NOT NULL,  -- for "newer wins"; RFC 3339 strings do not sort across offsets
  published TEXT,
  withdrawn TEXT,
  json TEXT NOT NULL
);                               -- a rowid table: WITHOUT ROWID suits small rows, records are KBs
CREATE TABLE affected (
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,            -- for Go: the module path, or stdlib / toolchain
  record_id TEXT NOT NULL,
  PRIMARY KEY (ecosystem, name, record_id)
) WITHOUT ROWID;
CREATE INDEX affected_by_record ON affected (record_id);
CREATE TABLE aliases (
  alias TEXT NOT NULL,
  record_id TEXT NOT NULL,
  PRIMARY KEY (alias, record_id)
) WITHOUT ROWID;
CREATE INDEX aliases_by_record ON aliases (record_id);
CREATE TABLE imports (
  id INTEGER PRIMARY KEY,
  run INTEGER NOT NULL,          -- the sources of one importOsv call share a run
  source TEXT NOT NULL,
  kind TEXT NOT NULL,            -- folder | zip | json
  count INTEGER NOT NULL,        -- valid records read from the source
  skipped INTEGER NOT NULL,      -- malformed records skipped
  newest_modified TEXT,          -- newest real modified date among them (none in the Go vulndb)
  imported_at TEXT NOT NULL
);
PRAGMA application_id = ${VULNDB_APPLICATION_ID};
PRAGMA user_version = ${VULNDB_SCHEMA_VERSION};
`;

/** $XDG_CACHE_HOME/k3sguard/vulndb.sqlite, else ~/.cache/k3sguard/vulndb.sqlite. */
export function defaultVulnDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'k3sguard', 'vulndb.sqlite');
}

/** The one-line advice for a missing database, naming `--db` when the path is not the default. */
export function noDbError(path: string): InputError {
  const db = path === defaultVulnDbPath() ? '' : ` --db ${path}`;
  return new InputError(
    'NO_DB',
    path,
    `no vulnerability database here: run \`k3sguard db update${db}\` to download the Go vulnerability data from OSV ` +
      `(add \`--ecosystem Go,Debian,Alpine,Ubuntu\` to scan images' OS packages), ` +
      `or \`k3sguard db import${db} PATH\` to import OSV records you have (a folder of JSON files, an all.zip, or one JSON file)`,
  );
}

/** Throws DB_INVALID unless `sql` is a k3sguard vulnerability database of this schema version. */
export function checkSchema(sql: DatabaseSync, path: string): void {
  let appId: unknown;
  let version: unknown;
  try {
    appId = (sql.prepare('PRAGMA application_id').get() as { application_id: number }).application_id;
    version = (sql.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  } catch (e) {
    throw new InputError(
      'DB_INVALID',
      path,
      `not a SQLite database (${(e as Error).message}): remove it or choose another --db`,
      {
        cause: e,
      },
    );
  }
  if (appId !== VULNDB_APPLICATION_ID)
    throw new InputError(
      'DB_INVALID',
      path,
      'a SQLite file, but not a k3sguard vulnerability database: choose another --db',
    );
  if (version !== VULNDB_SCHEMA_VERSION)
    throw new InputError(
      'DB_INVALID',
      path,
      `vulnerability database schema ${version}, this k3sguard reads ${VULNDB_SCHEMA_VERSION}: remove the file and run \`k3sguard db update\``,
    );
}

export interface VulnDb {
  readonly path: string;
  /** The records naming `name` in `ecosystem` (withdrawn ones included: `withdrawn` says so), by id. */
  recordsFor(ecosystem: string, name: string): OsvRecord[];
  /** One query for many names; only names with records are keys. A record shared by two names is one object. */
  recordsForMany(ecosystem: string, names: Iterable<string>): Map<string, OsvRecord[]>;
  /** Every package name in `ecosystem` that some record names. */
  allPackageNames(ecosystem: string): Set<string>;
  /** One record by its id. */
  record(id: string): OsvRecord | undefined;
  /** Every other id of the same vulnerability: aliases both ways, followed transitively, sorted. */
  aliasesOf(id: string): string[];
  /** The records stored under `ids` or any of their aliases (aliasesOf), whatever packages they name. */
  recordsOfVulnerability(ids: readonly string[]): OsvRecord[];
  status(now?: Date): VulnDbStatus;
  /**
   * `sha256:` of every record (id and JSON, by id): the same records give the same digest
   * whatever file, host or import time they came with, so a fleet server's replicas agree on
   * which database an inventory was matched with.
   */
  contentDigest(): string;
  close(): void;
}

const byId = (a: OsvRecord, b: OsvRecord): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// Far above any real alias group (a few ids); stops a crafted alias web from running long.
const MAX_ALIAS_GROUP = 256;

/** Open the database (read-only by default). A missing file is NO_DB; a foreign one DB_INVALID. */
export function openVulnDb(path: string = defaultVulnDbPath(), opts: { readonly?: boolean } = {}): VulnDb {
  // A FIFO or device at the path is refused here: SQLite would block on it or read it without end.
  if (!isRegularFileOrAbsent(path, 'db')) throw noDbError(path);
  let sql: DatabaseSync;
  try {
    sql = new DatabaseSync(path, { readOnly: opts.readonly ?? true });
  } catch (e) {
    throw new InputError('DB_INVALID', path, `cannot open: ${(e as Error).message}`, { cause: e });
  }
  try {
    checkSchema(sql, path);
  } catch (e) {
    sql.close();
    throw e;
  }
  const parsed = new Map<string, OsvRecord>();
  const parse = (id: string, json: string): OsvRecord => {
    let r = parsed.get(id);
    if (!r) {
      r = JSON.parse(json) as OsvRecord;
      parsed.set(id, r);
    }
    return r;
  };
  const byName: StatementSync = sql.prepare(
    'SELECT r.id, r.json FROM affected a JOIN records r ON r.id = a.record_id WHERE a.ecosystem = ? AND a.name = ? ORDER BY r.id',
  );
  // CROSS JOIN keeps json_each as the outer loop: one index probe per wanted name, instead of
  // SQLite's own choice of scanning the whole ecosystem once per name (6x slower here).
  const byNames = sql.prepare(
    `SELECT a.name, r.id, r.json FROM json_each(?) j CROSS JOIN affected a ON a.ecosystem = ? AND a.name = j.value
     JOIN records r ON r.id = a.record_id`,
  );
  const names = sql.prepare('SELECT DISTINCT name FROM affected WHERE ecosystem = ?');
  const oneRecord = sql.prepare('SELECT id, json FROM records WHERE id = ?');
  const aliasesOfRecord = sql.prepare('SELECT alias AS id FROM aliases WHERE record_id = ?');
  const recordsOfAlias = sql.prepare('SELECT record_id AS id FROM aliases WHERE alias = ?');
  type Row = { id: string; json: string };
  const record = (id: string): OsvRecord | undefined => {
    const row = oneRecord.get(id) as Row | undefined;
    return row ? parse(row.id, row.json) : undefined;
  };
  const aliasesOf = (id: string): string[] => {
    const seen = new Set([id]);
    const queue = [id];
    while (queue.length > 0 && seen.size < MAX_ALIAS_GROUP) {
      const next = queue.shift() as string;
      for (const stmt of [aliasesOfRecord, recordsOfAlias])
        for (const row of stmt.all(next) as { id: string }[])
          if (!seen.has(row.id)) {
            seen.add(row.id);
            queue.push(row.id);
          }
    }
    seen.delete(id);
    return [...seen].sort();
  };

  return {
    path,
    recordsFor(ecosystem, name) {
      return (byName.all(ecosystem, name) as Row[]).map((row) => parse(row.id, row.json));
    },
    recordsForMany(ecosystem, wanted) {
      const out = new Map<string, OsvRecord[]>();
      const list = [...new Set(wanted)];
      if (list.length === 0) return out;
      for (const row of byNames.all(JSON.stringify(list), ecosystem) as (Row & { name: string })[]) {
        const rec = parse(row.id, row.json);
        const have = out.get(row.name);
        if (have) have.push(rec);
        else out.set(row.name, [rec]);
      }
      for (const list of out.values()) list.sort(byId);
      return out;
    },
    allPackageNames(ecosystem) {
      return new Set((names.all(ecosystem) as { name: string }[]).map((r) => r.name));
    },
    record,
    aliasesOf,
    recordsOfVulnerability(ids) {
      const all = new Set(ids);
      for (const id of ids) for (const alias of aliasesOf(id)) all.add(alias);
      return [...all].sort().flatMap((id) => record(id) ?? []);
    },
    status(now = new Date()) {
      return readStatus(sql, path, now);
    },
    contentDigest() {
      const hash = createHash('sha256');
      for (const row of sql.prepare('SELECT id, json FROM records ORDER BY id').iterate() as Iterable<Row>)
        hash.update(`${row.id}\0${row.json}\0`);
      return `sha256:${hash.digest('hex')}`;
    },
    close() {
      parsed.clear();
      if (sql.isOpen) sql.close();
    },
  };
}
