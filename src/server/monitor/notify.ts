// Sends the notifications outbox (`notifications`, written in the match's transaction) to the
// webhook of `--notify-url`, signed as the agent signs its webhooks (io/webhook-signature.ts).
// Only committed rows are seen, so nothing is announced that a rollback took back; a row is
// marked sent only after the receiver answered 2xx, so a kill at any point sends it (again)
// after the restart: delivery is at least once, and the receiver dedupes on
// X-K3sguard-Event-Id (the notification's id). A row is leased before the POST (its
// next_attempt_at moved past the request's timeout) in a short transaction -- FOR UPDATE SKIP
// LOCKED on PostgreSQL -- so two replicas do not send one notification at the same time, and
// no transaction stays open while the receiver answers.
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from '../../io/webhook-signature.ts';
import type { Database } from '../db/database.ts';

export interface NotifyTarget {
  readonly url: string;
  /** The HMAC key (`--notify-secret-file`). */
  readonly secret: string;
}

/** How long a receiver may take to answer. */
export const NOTIFY_TIMEOUT_MS = 10_000;
/** The lease a sender takes on a row: past the timeout, so a sender that died frees it. */
const LEASE_MS = NOTIFY_TIMEOUT_MS + 5_000;
/** Retries wait 1 s, 2 s, 4 s, ... up to this. */
const MAX_BACKOFF_MS = 10 * 60_000;

export function retryDelayMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attempts - 1));
}

export type SendOutcome =
  | { readonly kind: 'sent'; readonly id: string }
  | { readonly kind: 'failed'; readonly id: string; readonly error: string; readonly retryAt: string };

async function post(target: NotifyTarget, id: string, body: string): Promise<string | undefined> {
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [EVENT_ID_HEADER]: id,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: webhookSignature(target.secret, timestamp, body),
      },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.ok ? undefined : `HTTP ${res.status}`;
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return cause ?? (e as Error).name ?? String(e);
  }
}

/** Sends the oldest notification that is due, if any; undefined when none is. */
export async function sendNext(
  db: Database,
  target: NotifyTarget,
  now: () => Date = () => new Date(),
): Promise<SendOutcome | undefined> {
  const due = 'SELECT 1 AS one FROM notifications WHERE sent_at IS NULL AND next_attempt_at <= ? LIMIT 1';
  if ((await db.all(due, [now().toISOString()])).length === 0) return undefined; // no write lock when idle
  const lock = db.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
  const claimed = await db.transaction(async (tx) => {
    const at = now();
    const [row] = await tx.all<{ id: string; body: string; attempts: number }>(
      `SELECT id, body, attempts FROM notifications WHERE sent_at IS NULL AND next_attempt_at <= ?
       ORDER BY created_at, id LIMIT 1${lock}`,
      [at.toISOString()],
    );
    if (!row) return undefined;
    await tx.run('UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?', [
      new Date(at.getTime() + LEASE_MS).toISOString(),
      row.id,
    ]);
    return { id: row.id, body: row.body, attempts: Number(row.attempts) + 1 };
  });
  if (!claimed) return undefined;
  const error = await post(target, claimed.id, claimed.body);
  if (error === undefined) {
    await db.transaction((tx) =>
      tx.run('UPDATE notifications SET sent_at = ?, last_error = NULL WHERE id = ?', [now().toISOString(), claimed.id]),
    );
    return { kind: 'sent', id: claimed.id };
  }
  const retryAt = new Date(now().getTime() + retryDelayMs(claimed.attempts)).toISOString();
  await db.transaction((tx) =>
    tx.run('UPDATE notifications SET next_attempt_at = ?, last_error = ? WHERE id = ?', [retryAt, error, claimed.id]),
  );
  return { kind: 'failed', id: claimed.id, error, retryAt };
}
