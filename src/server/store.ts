// Every query of the server, over either database (db/database.ts): node tokens, report and
// event ingest. Writes are transactions: what a request changes is committed whole before the
// request is answered, or not at all. Ingest is idempotent by the id the agent sends
// (X-K3sguard-Event-Id), and an inventory is stored once per content digest.
import type { ReportComponents } from '../model/report-components.ts';
import { storeArtifactComponents } from './artifact-components.ts';
import { canonicalJson, sha256Digest } from './canonical-json.ts';
import type { Database, Queryable } from './db/database.ts';
import { newToken, parseToken, secretMatches } from './tokens.ts';

/** What the server reads of a `k3sguard/report@1` (validated against its schema before it gets here). */
export interface ReportDocument {
  node: {
    hostname: string;
    machineId?: string;
    k3s: { version?: string; role: string; binary?: { path: string; digest: string } };
  };
  check: { finishedAt: string };
  inventory: Record<string, { kind: string; names: string[]; k3sVersion?: string; components?: ReportComponents }>;
  findings: Array<{
    key: string;
    firstSeen: string;
    lastSeen: string;
    finding: { id: string; severity: string; component?: string };
  }>;
  [more: string]: unknown;
}

/** What the server reads of a `k3sguard/event@1`. */
export interface EventDocument {
  id: string;
  type: 'finding' | 'status';
  status?: string;
  time: string;
  key?: string;
  finding?: { id: string; severity: string };
  [more: string]: unknown;
}

export interface Caller {
  readonly tokenId: string;
  readonly nodeId: number;
  readonly node: string;
}

export interface TokenRow {
  readonly id: string;
  readonly node: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** The answer to an ingested report; a re-sent report gets the same one. */
export interface ReportReceipt {
  readonly id: string;
  readonly node: string;
  readonly inventory: string;
  readonly receivedAt: string;
}

export type IngestOutcome<R> =
  | { readonly kind: 'stored'; readonly receipt: R }
  | { readonly kind: 'duplicate'; readonly receipt: R }
  /** The id is taken by another node's message, or by a different body. */
  | { readonly kind: 'conflict'; readonly reason: string };

export interface EventReceipt {
  readonly id: string;
  readonly node: string;
  readonly receivedAt: string;
}

/** The component an artifact is known by when nothing more is known of it (a K3s binary: its release). */
const K3S_MODULE = 'github.com/k3s-io/k3s';

export class Store {
  readonly db: Database;
  readonly #now: () => Date;

  constructor(db: Database, now: () => Date = () => new Date()) {
    this.db = db;
    this.#now = now;
  }

  /** A new token for the node (created on first use of its name); returns the token, shown once. */
  async createToken(node: string, cluster?: string): Promise<{ id: string; token: string }> {
    const t = newToken();
    const at = this.#now().toISOString();
    await this.db.transaction(async (tx) => {
      await tx.run('INSERT INTO nodes (name, cluster, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [
        node,
        cluster ?? null,
        at,
      ]);
      if (cluster !== undefined) await tx.run('UPDATE nodes SET cluster = ? WHERE name = ?', [cluster, node]);
      const [row] = await tx.all<{ id: number }>('SELECT id FROM nodes WHERE name = ?', [node]);
      await tx.run('INSERT INTO tokens (id, node_id, hash, created_at) VALUES (?, ?, ?, ?)', [
        t.id,
        row?.id ?? null,
        t.hash,
        at,
      ]);
    });
    return { id: t.id, token: t.token };
  }

  /** Revokes one token by id, or every token of a node; returns how many were revoked now. */
  async revokeTokens(which: { id: string } | { node: string }): Promise<number> {
    const at = this.#now().toISOString();
    return this.db.transaction((tx) =>
      'id' in which
        ? tx.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, which.id])
        : tx.run(
            'UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND node_id IN (SELECT id FROM nodes WHERE name = ?)',
            [at, which.node],
          ),
    );
  }

  async listTokens(): Promise<TokenRow[]> {
    const rows = await this.db.all<{ id: string; node: string; created_at: string; revoked_at: string | null }>(
      `SELECT t.id, n.name AS node, t.created_at, t.revoked_at
       FROM tokens t JOIN nodes n ON n.id = t.node_id ORDER BY n.name, t.created_at, t.id`,
    );
    return rows.map((r) => ({ id: r.id, node: r.node, createdAt: r.created_at, revokedAt: r.revoked_at }));
  }

  /** The node a bearer token speaks for; undefined for a malformed, unknown or revoked token. */
  async authenticate(token: string): Promise<Caller | undefined> {
    const parsed = parseToken(token);
    const [row] = parsed
      ? await this.db.all<{ hash: string; node_id: number; name: string; revoked_at: string | null }>(
          'SELECT t.hash, t.node_id, n.name, t.revoked_at FROM tokens t JOIN nodes n ON n.id = t.node_id WHERE t.id = ?',
          [parsed.id],
        )
      : [];
    const ok = secretMatches(parsed?.secret ?? '', row?.hash);
    if (!ok || !row || !parsed || row.revoked_at !== null) return undefined;
    return { tokenId: parsed.id, nodeId: row.node_id, node: row.name };
  }

  /** Stores a validated report once; `bodyDigest` tells a re-sent report from another under the same id. */
  async ingestReport(
    caller: Caller,
    id: string,
    report: ReportDocument,
    bodyDigest: string,
  ): Promise<IngestOutcome<ReportReceipt>> {
    const receivedAt = this.#now().toISOString();
    const { inventory, ...rest } = report;
    const inventoryDigest = sha256Digest(canonicalJson(inventory));
    return this.db.transaction(async (tx) => {
      await this.#storeInventory(tx, inventoryDigest, inventory, receivedAt, caller.node);
      const inserted = await tx.run(
        `INSERT INTO reports (id, node_id, body_digest, inventory_digest, received_at, check_finished_at, findings, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        [
          id,
          caller.nodeId,
          bodyDigest,
          inventoryDigest,
          receivedAt,
          report.check.finishedAt,
          report.findings.length,
          JSON.stringify(rest),
        ],
      );
      if (inserted === 0) return this.#storedReport(tx, caller, id, bodyDigest);
      await this.#updateNode(tx, caller, id, report, inventoryDigest, receivedAt);
      return {
        kind: 'stored',
        receipt: { id, node: caller.node, inventory: inventoryDigest, receivedAt },
      } as const;
    });
  }

  async #storedReport(
    tx: Queryable,
    caller: Caller,
    id: string,
    bodyDigest: string,
  ): Promise<IngestOutcome<ReportReceipt>> {
    const [row] = await tx.all<{ node_id: number; body_digest: string; inventory_digest: string; received_at: string }>(
      'SELECT node_id, body_digest, inventory_digest, received_at FROM reports WHERE id = ?',
      [id],
    );
    if (!row || row.node_id !== caller.nodeId) {
      return { kind: 'conflict', reason: `report id ${id} was sent by another node` };
    }
    if (row.body_digest !== bodyDigest) {
      return { kind: 'conflict', reason: `report id ${id} was already stored with a different body` };
    }
    return {
      kind: 'duplicate',
      receipt: { id, node: caller.node, inventory: row.inventory_digest, receivedAt: row.received_at },
    };
  }

  /**
   * The inventory once per digest, with its artifacts and the components known of them; a new
   * inventory is queued for matching (monitor/), in the same transaction, so none is left out.
   */
  async #storeInventory(
    tx: Queryable,
    digest: string,
    inventory: ReportDocument['inventory'],
    at: string,
    node: string,
  ): Promise<void> {
    const k3s = Object.values(inventory).find((e) => e.kind === 'k3s-binary')?.k3sVersion ?? null;
    const fresh = await tx.run(
      'INSERT INTO inventories (digest, body, k3s_version, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING',
      [digest, canonicalJson(inventory), k3s, at],
    );
    if (fresh === 0) return;
    await tx.run(
      "INSERT INTO match_jobs (inventory_digest, reason, enqueued_at) VALUES (?, 'new inventory', ?) ON CONFLICT DO NOTHING",
      [digest, at],
    );
    // Sorted, so concurrent ingests take the artifacts' row locks in one order (no deadlock).
    for (const artifact of Object.keys(inventory).sort()) {
      const entry = inventory[artifact] as ReportDocument['inventory'][string];
      const version = entry.kind === 'k3s-binary' ? (entry.k3sVersion ?? null) : null;
      const added = await tx.run(
        'INSERT INTO artifacts (digest, kind, k3s_version, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING',
        [artifact, entry.kind, version, at],
      );
      await tx.run('INSERT INTO inventory_artifacts (inventory_digest, artifact_digest) VALUES (?, ?)', [
        digest,
        artifact,
      ]);
      if (added === 1 && version !== null) {
        await tx.run(
          `INSERT INTO components (artifact_digest, name, version, location, purl) VALUES (?, ?, ?, '', ?)
           ON CONFLICT DO NOTHING`,
          [artifact, K3S_MODULE, version, `pkg:golang/${K3S_MODULE}@${encodeURIComponent(version)}`],
        );
      }
      if (entry.kind === 'k3s-binary' && entry.components)
        await storeArtifactComponents(tx, artifact, entry.components, node, at);
    }
  }

  /** The node row and its findings follow its newest check; an older report arriving late changes only last_seen. */
  async #updateNode(
    tx: Queryable,
    caller: Caller,
    id: string,
    report: ReportDocument,
    inventoryDigest: string,
    at: string,
  ): Promise<void> {
    const newer = await tx.run(
      `UPDATE nodes SET hostname = ?, machine_id = ?, k3s_version = ?, role = ?, inventory_digest = ?,
         last_report_id = ?, last_check_at = ?, last_seen_at = ?, findings = ?
       WHERE id = ? AND (last_check_at IS NULL OR last_check_at <= ?)`,
      [
        report.node.hostname,
        report.node.machineId ?? null,
        report.node.k3s.version ?? null,
        report.node.k3s.role,
        inventoryDigest,
        id,
        report.check.finishedAt,
        at,
        report.findings.length,
        caller.nodeId,
        report.check.finishedAt,
      ],
    );
    if (newer === 0) {
      await tx.run('UPDATE nodes SET last_seen_at = ? WHERE id = ?', [at, caller.nodeId]);
      return;
    }
    await tx.run('DELETE FROM node_findings WHERE node_id = ?', [caller.nodeId]);
    const seen = new Set<string>();
    for (const f of report.findings) {
      if (seen.has(f.key)) continue; // the key is unique per node by construction; a forged repeat must not abort the ingest
      seen.add(f.key);
      await tx.run(
        `INSERT INTO node_findings (node_id, key, rule_id, severity, component, first_seen, last_seen, report_id, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          caller.nodeId,
          f.key,
          f.finding.id,
          f.finding.severity,
          f.finding.component ?? null,
          f.firstSeen,
          f.lastSeen,
          id,
          JSON.stringify(f.finding),
        ],
      );
    }
  }

  /** Stores an event once per node and id; the body must match the one stored under that id. */
  async ingestEvent(caller: Caller, event: EventDocument, body: string): Promise<IngestOutcome<EventReceipt>> {
    const receivedAt = this.#now().toISOString();
    return this.db.transaction(async (tx) => {
      const inserted = await tx.run(
        `INSERT INTO events (node_id, id, type, status, key, rule_id, severity, time, received_at, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node_id, id) DO NOTHING`,
        [
          caller.nodeId,
          event.id,
          event.type,
          event.status ?? null,
          event.key ?? null,
          event.finding?.id ?? null,
          event.finding?.severity ?? null,
          event.time,
          receivedAt,
          body,
        ],
      );
      await tx.run('UPDATE nodes SET last_seen_at = ? WHERE id = ?', [receivedAt, caller.nodeId]);
      if (inserted === 1) return { kind: 'stored', receipt: { id: event.id, node: caller.node, receivedAt } } as const;
      const [row] = await tx.all<{ body: string; received_at: string }>(
        'SELECT body, received_at FROM events WHERE node_id = ? AND id = ?',
        [caller.nodeId, event.id],
      );
      if (row?.body !== body)
        return { kind: 'conflict', reason: `event id ${event.id} was already stored with a different body` } as const;
      return { kind: 'duplicate', receipt: { id: event.id, node: caller.node, receivedAt: row.received_at } } as const;
    });
  }

  /** For /readyz: the database answers. */
  async ping(): Promise<void> {
    await this.db.all('SELECT 1 AS one');
  }
}
