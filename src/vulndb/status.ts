// `k3sguard db status`: what the database holds and how old it is, as a plain object the CLI
// prints as a table or as JSON. Age counts from the last import, not from the newest record:
// the Go vulndb export carries zero `modified` dates, and a quiet week for advisories does not
// make fresh data stale.
import type { DatabaseSync } from 'node:sqlite';

/** Data older than this (since the last import) gets a warning. */
export const STALE_AFTER_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface ImportInfo {
  /** What the user named: a path, or the URL `db update` downloaded. */
  source: string;
  kind: 'folder' | 'zip' | 'json';
  /** Valid records read from the source. */
  count: number;
  /** Malformed records skipped. */
  skipped: number;
  /** Newest real `modified` among them; null when they carry none (the Go vulndb's zero dates). */
  newestModified: string | null;
  /** ISO 8601, UTC. */
  importedAt: string;
}

export interface VulnDbStatus {
  path: string;
  schemaVersion: number;
  records: number;
  withdrawn: number;
  /** Distinct (ecosystem, name) pairs records name: for Go, modules plus stdlib and toolchain. */
  packages: number;
  /** Records per ecosystem (a record naming two ecosystems counts in both). */
  ecosystems: Record<string, number>;
  aliases: number;
  /** Newest real `modified` date of any record; null when no record carries one. */
  newestModified: string | null;
  /** Newest first. */
  imports: ImportInfo[];
  lastImportAt: string | null;
  /** Days since the last import, one decimal; null before any import. */
  ageDays: number | null;
  /** True when older than STALE_AFTER_DAYS. */
  stale: boolean;
  /** One line each, for stderr. */
  warnings: string[];
}

interface ImportRow {
  source: string;
  kind: ImportInfo['kind'];
  count: number;
  skipped: number;
  newest_modified: string | null;
  imported_at: string;
}

const count = (sql: DatabaseSync, query: string): number => Number((sql.prepare(query).get() as { n: number }).n);

export function readStatus(sql: DatabaseSync, path: string, now: Date): VulnDbStatus {
  const ecosystems: Record<string, number> = {};
  const perEcosystem = sql.prepare(
    'SELECT ecosystem, COUNT(DISTINCT record_id) AS n FROM affected GROUP BY ecosystem ORDER BY ecosystem',
  );
  for (const row of perEcosystem.all() as { ecosystem: string; n: number }[]) ecosystems[row.ecosystem] = row.n;
  const newest = sql
    .prepare('SELECT modified FROM records WHERE modified_ms >= 0 ORDER BY modified_ms DESC LIMIT 1')
    .get() as { modified: string } | undefined;
  const imports = (sql.prepare('SELECT * FROM imports ORDER BY id DESC').all() as unknown as ImportRow[]).map(
    (r): ImportInfo => ({
      source: r.source,
      kind: r.kind,
      count: r.count,
      skipped: r.skipped,
      newestModified: r.newest_modified,
      importedAt: r.imported_at,
    }),
  );
  const lastImportAt = imports[0]?.importedAt ?? null;
  const ageDays =
    lastImportAt === null ? null : Math.round(((now.getTime() - Date.parse(lastImportAt)) / DAY_MS) * 10) / 10;
  const stale = ageDays !== null && ageDays > STALE_AFTER_DAYS;
  const records = count(sql, 'SELECT COUNT(*) AS n FROM records');
  const warnings: string[] = [];
  if (stale)
    warnings.push(
      `the vulnerability data was imported ${ageDays} days ago (more than ${STALE_AFTER_DAYS}): run \`k3sguard db update\``,
    );
  if (records === 0) warnings.push('the database holds no records: run `k3sguard db update`');
  return {
    path,
    schemaVersion: Number((sql.prepare('PRAGMA user_version').get() as { user_version: number }).user_version),
    records,
    withdrawn: count(sql, 'SELECT COUNT(*) AS n FROM records WHERE withdrawn IS NOT NULL'),
    packages: count(sql, 'SELECT COUNT(*) AS n FROM (SELECT DISTINCT ecosystem, name FROM affected)'),
    ecosystems,
    aliases: count(sql, 'SELECT COUNT(*) AS n FROM aliases'),
    newestModified: newest?.modified ?? null,
    imports,
    lastImportAt,
    ageDays,
    stale,
    warnings,
  };
}
