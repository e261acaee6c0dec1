// The vulnerability databases of bench/server-load.ts, made by the real `k3sguard db import` from
// the real Go vulndb of ../shared/data: "before" lacks runc's CVE-2024-21626 (GO-2024-2491), which
// the fixture's inner k3s is hit by, so replacing it with "after" is a `db update` that brings a
// new advisory, and the server re-matches every distinct inventory of the fleet.
import { copyFileSync, cpSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../../src/server/db/database.ts';
import { openVulnDb } from '../../src/vulndb/db.ts';
import { k3sguard } from '../../test/cli/run.ts';
import { GOVULNDB, noSharedData } from '../../test/vulndb/fixtures.ts';

export const ADDED_ADVISORY = 'GO-2024-2491';

export interface VulnDbs {
  readonly before: { readonly path: string; readonly version: string };
  readonly after: { readonly path: string; readonly version: string };
}

function contentDigest(path: string): string {
  const db = openVulnDb(path, { readonly: true });
  try {
    return db.contentDigest();
  } finally {
    db.close();
  }
}

function importDb(file: string, dir: string): void {
  const r = k3sguard(['db', 'import', '--db', file, dir]);
  if (r.code !== 0) throw new Error(`db import exited ${r.code}: ${r.stderr}`);
}

export function prepareVulnDbs(dir: string): VulnDbs | { skip: string } {
  if (noSharedData) return { skip: noSharedData };
  const records = join(dir, 'govulndb-before');
  cpSync(GOVULNDB, records, { recursive: true, filter: (src) => !src.endsWith(`${ADDED_ADVISORY}.json`) });
  const before = join(dir, 'before.sqlite');
  const after = join(dir, 'after.sqlite');
  importDb(before, records);
  importDb(after, GOVULNDB);
  return {
    before: { path: before, version: contentDigest(before) },
    after: { path: after, version: contentDigest(after) },
  };
}

/** What `db update` does to the file the server reads: a new database renamed over it. */
export function replaceVulnDb(from: string, path: string): void {
  copyFileSync(from, `${path}.new`);
  renameSync(`${path}.new`, path);
}

/** Inventories not yet matched with `version`. */
export async function unmatched(db: Database, version: string): Promise<number> {
  const [row] = await db.all<{ n: number }>(
    'SELECT COUNT(*) AS n FROM inventories WHERE matched_db IS NULL OR matched_db <> ?',
    [version],
  );
  return Number(row?.n);
}

/** Polls until every inventory is matched with `version`; the milliseconds it took (bounded). */
export async function waitMatched(db: Database, version: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while ((await unmatched(db, version)) > 0) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`inventories not matched within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - t0;
}
