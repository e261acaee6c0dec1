// The match queue (`match_jobs`): one row per inventory waiting to be matched, written by
// ingest for a new inventory and by any server that sees a vulnerability database newer than
// the one an inventory was matched with. A worker takes a row and holds it for the whole match
// in one transaction -- on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so replicas take different
// rows and none waits; on SQLite there is one server process and one writer -- then writes the
// findings, the inventory's `matched_db`, a `match_runs` row and the notifications, and deletes
// the row, all in that transaction. A worker killed halfway leaves the row for the next one;
// an inventory already matched with this database (another replica did it) is not matched again.
import { createHash } from 'node:crypto';
import { LIMITS } from '../../model/limits.ts';
import type { VulnDb } from '../../vulndb/db.ts';
import type { Database, Queryable } from '../db/database.ts';
import { findingKey, type InventoryFinding, type MatchedArtifact, matchInventory } from './match-inventory.ts';

/** The vulnerability database a worker matches with, and what identifies it across replicas. */
export interface Matcher {
  readonly vulndb: VulnDb;
  /** `contentDigest()` of the database. */
  readonly version: string;
  /** Its last import (ISO 8601): of two different databases, the newer one wins. */
  readonly importedAt: string;
}

export function matcherOf(vulndb: VulnDb): Matcher {
  const status = vulndb.status();
  return { vulndb, version: vulndb.contentDigest(), importedAt: status.lastImportAt ?? new Date(0).toISOString() };
}

/** Queues every inventory not matched with this database (nor with a newer one); returns how many were queued now. */
export async function enqueueStale(db: Database, m: Matcher, at: string): Promise<number> {
  return db.transaction((tx) =>
    tx.run(
      `INSERT INTO match_jobs (inventory_digest, reason, enqueued_at)
       SELECT digest, 'vulnerability database changed', ? FROM inventories
       WHERE matched_db IS NULL OR (matched_db <> ? AND (matched_db_at IS NULL OR matched_db_at <= ?))
       ON CONFLICT DO NOTHING`,
      [at, m.version, m.importedAt],
    ),
  );
}

export type MatchOutcome =
  | {
      readonly kind: 'matched';
      readonly inventory: string;
      readonly findings: number;
      readonly newFindings: number;
      readonly notifications: number;
    }
  /** Already matched with this database, or with a newer one: the job is dropped. */
  | { readonly kind: 'skipped'; readonly inventory: string };

export interface MatchNextOptions {
  /** Written to match_runs: which process did the match. */
  readonly worker: string;
  /** Write notifications for findings new since the last match (a notify URL is configured). */
  readonly notify: boolean;
  readonly now?: () => Date;
}

/** Takes one job and matches its inventory; undefined when the queue is empty (or every job is held by another worker). */
export async function matchNext(db: Database, m: Matcher, opts: MatchNextOptions): Promise<MatchOutcome | undefined> {
  // A look before the transaction: an idle server takes no write lock (SQLite) every tick.
  if ((await db.all('SELECT 1 AS one FROM match_jobs LIMIT 1')).length === 0) return undefined;
  const lock = db.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
  return db.transaction(async (tx) => {
    const [job] = await tx.all<{ inventory_digest: string }>(
      `SELECT inventory_digest FROM match_jobs ORDER BY enqueued_at, inventory_digest LIMIT 1${lock}`,
    );
    if (!job) return undefined;
    const digest = job.inventory_digest;
    const [inv] = await tx.all<{
      body: string;
      k3s_version: string | null;
      matched_at: string | null;
      matched_db: string | null;
      matched_db_at: string | null;
    }>('SELECT body, k3s_version, matched_at, matched_db, matched_db_at FROM inventories WHERE digest = ?', [digest]);
    const done = async () => tx.run('DELETE FROM match_jobs WHERE inventory_digest = ?', [digest]);
    if (!inv || inv.matched_db === m.version || (inv.matched_db_at !== null && inv.matched_db_at > m.importedAt)) {
      await done();
      return { kind: 'skipped', inventory: digest } as const;
    }
    const at = (opts.now ?? (() => new Date()))().toISOString();
    const findings = matchInventory(await artifactsOf(tx, digest, inv.body), m.vulndb);
    const fresh = await writeFindings(tx, digest, findings, at);
    // A first match has nothing to be new against: its findings are the inventory's state.
    const notifications =
      opts.notify && inv.matched_at !== null && fresh.length > 0
        ? await writeNotifications(tx, { digest, k3sVersion: inv.k3s_version }, fresh, m, at)
        : 0;
    await tx.run('UPDATE inventories SET matched_at = ?, matched_db = ?, matched_db_at = ? WHERE digest = ?', [
      at,
      m.version,
      m.importedAt,
      digest,
    ]);
    await tx.run(
      `INSERT INTO match_runs (inventory_digest, db_version, matched_at, findings, new_findings, worker)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [digest, m.version, at, findings.length, fresh.length, opts.worker],
    );
    await done();
    return {
      kind: 'matched',
      inventory: digest,
      findings: findings.length,
      newFindings: fresh.length,
      notifications,
    } as const;
  });
}

/** The K3s binaries of the inventory whose component summary the server holds. */
async function artifactsOf(tx: Queryable, digest: string, body: string): Promise<MatchedArtifact[]> {
  const entries = JSON.parse(body) as Record<string, { names?: string[]; bundle?: string }>;
  const rows = await tx.all<{ digest: string; components: string }>(
    `SELECT a.digest, a.components FROM inventory_artifacts ia JOIN artifacts a ON a.digest = ia.artifact_digest
     WHERE ia.inventory_digest = ? AND a.components IS NOT NULL ORDER BY a.digest`,
    [digest],
  );
  return rows.map((r) => {
    const entry = entries[r.digest];
    return {
      digest: r.digest,
      names: entry?.names ?? [],
      ...(entry?.bundle ? { bundle: entry.bundle } : {}),
      components: JSON.parse(r.components),
    };
  });
}

/** Replaces the inventory's findings; returns those not there before (their first_matched_at is now). */
async function writeFindings(
  tx: Queryable,
  digest: string,
  findings: readonly InventoryFinding[],
  at: string,
): Promise<InventoryFinding[]> {
  const before = await tx.all<{
    vuln_id: string;
    component: string;
    location: string;
    artifact_digest: string | null;
    body: string;
  }>('SELECT vuln_id, component, location, artifact_digest, body FROM inventory_findings WHERE inventory_digest = ?', [
    digest,
  ]);
  // The finding's JSON holds every column but the artifact: equal JSON and artifact, equal row.
  const had = new Map(
    before.map((r) => [
      findingKey({ vulnId: r.vuln_id, component: r.component, location: r.location }),
      `${r.artifact_digest}\0${r.body}`,
    ]),
  );
  const now = new Set(findings.map(findingKey));
  for (const r of before) {
    if (now.has(findingKey({ vulnId: r.vuln_id, component: r.component, location: r.location }))) continue;
    await tx.run(
      'DELETE FROM inventory_findings WHERE inventory_digest = ? AND vuln_id = ? AND component = ? AND location = ?',
      [digest, r.vuln_id, r.component, r.location],
    );
  }
  const fresh: InventoryFinding[] = [];
  for (const f of findings) {
    const values = [
      JSON.stringify(f.aliases),
      f.severity,
      f.summary,
      f.version,
      f.artifact,
      f.fixed,
      f.reachability,
      JSON.stringify(f.finding),
    ];
    const stored = had.get(findingKey(f));
    if (stored !== undefined) {
      // Kept. Unchanged (most of them, after a db update): nothing to write. Changed: what the
      // new database says of it (severity, fix) replaces the old; first_matched_at stays.
      if (stored === `${f.artifact}\0${values[7]}`) continue;
      await tx.run(
        `UPDATE inventory_findings SET aliases = ?, severity = ?, summary = ?, version = ?, artifact_digest = ?,
           fixed = ?, reachability = ?, body = ?
         WHERE inventory_digest = ? AND vuln_id = ? AND component = ? AND location = ?`,
        [...values, digest, f.vulnId, f.component, f.location],
      );
      continue;
    }
    fresh.push(f);
    await tx.run(
      `INSERT INTO inventory_findings (aliases, severity, summary, version, artifact_digest, fixed, reachability, body,
         inventory_digest, vuln_id, component, location, first_matched_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [...values, digest, f.vulnId, f.component, f.location, at],
    );
  }
  return fresh;
}

export const NOTIFICATION_SCHEMA = 'k3sguard/notification@1';

/**
 * One notification per advisory new on the inventory, naming the nodes that run it now; its id
 * is a function of the inventory, the advisory and the database, so a match redone after a
 * crash writes the same one once.
 */
async function writeNotifications(
  tx: Queryable,
  inventory: { digest: string; k3sVersion: string | null },
  fresh: readonly InventoryFinding[],
  m: Matcher,
  at: string,
): Promise<number> {
  const nodes = await tx.all<{ name: string; cluster: string | null; hostname: string | null }>(
    'SELECT name, cluster, hostname FROM nodes WHERE inventory_digest = ? ORDER BY name LIMIT ?',
    [inventory.digest, LIMITS.notificationNodes + 1],
  );
  const [total] = await tx.all<{ n: number }>('SELECT COUNT(*) AS n FROM nodes WHERE inventory_digest = ?', [
    inventory.digest,
  ]);
  // An inventory no node runs any more (every node moved on) affects no one: nothing to say.
  if (Number(total?.n ?? 0) === 0) return 0;
  const byAdvisory = new Map<string, InventoryFinding[]>();
  for (const f of fresh) byAdvisory.set(f.vulnId, [...(byAdvisory.get(f.vulnId) ?? []), f]);
  let written = 0;
  for (const [vulnId, list] of byAdvisory) {
    const first = list[0] as InventoryFinding;
    const id = createHash('sha256').update(`${inventory.digest}\0${vulnId}\0${m.version}`).digest('hex');
    const body = {
      schema: NOTIFICATION_SCHEMA,
      id,
      type: 'vulnerability',
      time: at,
      advisory: {
        id: vulnId,
        aliases: first.aliases,
        severity: first.severity,
        ...(first.summary ? { summary: first.summary } : {}),
      },
      affected: list.map((f) => ({
        component: f.component,
        version: f.version,
        location: f.location,
        artifact: f.artifact,
        ...(f.fixed ? { fixed: f.fixed } : {}),
      })),
      inventory: { digest: inventory.digest, ...(inventory.k3sVersion ? { k3sVersion: inventory.k3sVersion } : {}) },
      nodes: nodes.slice(0, LIMITS.notificationNodes).map((n) => ({
        name: n.name,
        ...(n.cluster ? { cluster: n.cluster } : {}),
        ...(n.hostname ? { hostname: n.hostname } : {}),
      })),
      nodesTotal: Number(total?.n ?? nodes.length),
      vulnDb: { digest: m.version, importedAt: m.importedAt },
    };
    written += await tx.run(
      `INSERT INTO notifications (id, created_at, body, next_attempt_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [id, at, JSON.stringify(body), at],
    );
  }
  return written;
}

export interface RematchResult {
  /** Inventories in the database. */
  readonly inventories: number;
  /** Matched by this call (those another worker took, or already matched with this database, are not). */
  readonly matched: number;
  readonly skipped: number;
  readonly findings: number;
  readonly newFindings: number;
  readonly notifications: number;
  readonly ms: number;
}

/**
 * Every inventory matched again with `vulndb`, in this process, until the queue is empty: what
 * the server does after `db update`, callable by the load bench. `force` re-matches inventories
 * already matched with this very database (a benchmark's repeated runs).
 */
export async function rematchAll(
  db: Database,
  vulndb: VulnDb,
  opts: { worker?: string; notify?: boolean; force?: boolean } = {},
): Promise<RematchResult> {
  const started = performance.now();
  const m = matcherOf(vulndb);
  if (opts.force) await db.transaction((tx) => tx.run('UPDATE inventories SET matched_db = NULL'));
  await enqueueStale(db, m, new Date().toISOString());
  let matched = 0;
  let skipped = 0;
  let findings = 0;
  let newFindings = 0;
  let notifications = 0;
  for (;;) {
    const r = await matchNext(db, m, {
      worker: opts.worker ?? `rematchAll:${process.pid}`,
      notify: opts.notify ?? false,
    });
    if (!r) break;
    if (r.kind === 'skipped') {
      skipped += 1;
      continue;
    }
    matched += 1;
    findings += r.findings;
    newFindings += r.newFindings;
    notifications += r.notifications;
  }
  const [row] = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM inventories');
  return {
    inventories: Number(row?.n ?? 0),
    matched,
    skipped,
    findings,
    newFindings,
    notifications,
    ms: Math.round(performance.now() - started),
  };
}
