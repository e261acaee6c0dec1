// Continuous vulnerability monitoring in the server process (docs/server.md, "Vulnerability
// monitoring"): a loop that
// - looks at the vulnerability database file (`--vuln-db`) and, when it was replaced (by this
//   server's scheduled `db update`, or by a `k3sguard db update` run by anyone), opens the new
//   one and queues every inventory not matched with it;
// - works the match queue (match-queue.ts) until it is empty: new inventories, queued by ingest,
//   are matched within a tick of their arrival, not in the request that brought them (a match
//   is CPU work the agent should not wait for, and the queue keeps it across a crash);
// - sends the notifications outbox (notify.ts) when `--notify-url` is set;
// and, with `--db-update-every`, runs `db update` on that schedule.
// Nothing here prints: what happens goes to the caller's `log`.
import { statSync } from 'node:fs';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { isInputError } from '../../model/errors.ts';
import { openVulnDb, type VulnDb } from '../../vulndb/db.ts';
import { updateDb } from '../../vulndb/update.ts';
import type { Database } from '../db/database.ts';
import { enqueueStale, type Matcher, matcherOf, matchNext } from './match-queue.ts';
import { type NotifyTarget, sendNext } from './notify.ts';

export interface MonitorOptions {
  readonly db: Database;
  readonly vulnDbPath: string;
  readonly notify?: NotifyTarget;
  /** Run `db update` this often (ms); absent: only pick up a database updated by someone else. */
  readonly updateEveryMs?: number;
  /** What `db update` fetches (default OSV's Go export). */
  readonly updateSource?: string;
  /** Written to match_runs (host and pid). */
  readonly worker: string;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** How often the loop looks for work when idle (ms). */
  readonly pollMs?: number;
}

export interface RunningMonitor {
  /** Stops the loop after the step in progress; closes the vulnerability database. */
  close(): Promise<void>;
}

/** The identity of the file at `path` as it is now: a `db update` renames a new file over it. */
function fileIdentity(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

const DEFAULT_POLL_MS = 1000;
/** Sends per tick at most, so a long outbox does not hold up matching. */
const SENDS_PER_TICK = 50;

export function startMonitor(opts: MonitorOptions): RunningMonitor {
  const { db, log } = opts;
  let matcher: Matcher | undefined;
  let seen: string | undefined;
  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  let updateTimer: NodeJS.Timeout | undefined;
  let updating: Promise<void> | undefined;
  let saidNoDb = false;

  const reopen = async (): Promise<void> => {
    const identity = fileIdentity(opts.vulnDbPath);
    if (identity === seen) return;
    let next: VulnDb;
    try {
      next = openVulnDb(opts.vulnDbPath, { readonly: true });
    } catch (e) {
      if (!isInputError(e)) throw e;
      if (!saidNoDb) log('warn', `vulnerability monitoring waits for a database: ${e.oneLine()}`);
      saidNoDb = true;
      return;
    }
    saidNoDb = false;
    let m: Matcher;
    try {
      m = matcherOf(next);
    } catch (e) {
      next.close();
      throw e;
    }
    if (matcher?.version === m.version) {
      next.close();
      seen = identity;
      return;
    }
    let queued: number;
    try {
      queued = await enqueueStale(db, m, new Date().toISOString());
    } catch (e) {
      next.close(); // the next tick opens it again and retries
      throw e;
    }
    matcher?.vulndb.close();
    matcher = m;
    seen = identity;
    log(
      'info',
      `vulnerability database ${m.version} (imported ${m.importedAt}): ${queued} inventories queued for matching`,
    );
  };

  const work = async (): Promise<void> => {
    while (matcher && !closing) {
      const r = await matchNext(db, matcher, { worker: opts.worker, notify: opts.notify !== undefined });
      if (!r) break;
      if (r.kind === 'matched')
        log(
          'info',
          `matched inventory ${r.inventory}: ${r.findings} findings, ${r.newFindings} new, ${r.notifications} notifications`,
        );
      await yieldToIo(); // requests waiting get their turn between matches
    }
    for (let i = 0; opts.notify && i < SENDS_PER_TICK && !closing; i++) {
      const s = await sendNext(db, opts.notify);
      if (!s) break;
      if (s.kind === 'failed') log('warn', `notification ${s.id} not delivered (${s.error}): retried at ${s.retryAt}`);
    }
  };

  let running: Promise<void> | undefined;
  const tick = () => {
    running = (async () => {
      try {
        await reopen();
        await work();
      } catch (e) {
        // The database or the receiver failed: said, and the next tick tries again.
        log('error', `vulnerability monitoring: ${(e as Error).message?.replace(/\s*\n\s*/g, ' ') ?? String(e)}`);
      }
      if (!closing) timer = setTimeout(tick, opts.pollMs ?? DEFAULT_POLL_MS);
    })();
  };

  const update = () => {
    if (updating || closing) return;
    updating = (async () => {
      try {
        const r = await updateDb(opts.vulnDbPath, opts.updateSource ? { source: opts.updateSource } : {});
        log('info', `db update: ${r.records} records from ${r.source} (${r.added} added, ${r.replaced} replaced)`);
      } catch (e) {
        log('warn', `db update failed, the database in use is kept: ${isInputError(e) ? e.oneLine() : String(e)}`);
      }
    })().finally(() => {
      updating = undefined;
    });
  };

  if (opts.updateEveryMs !== undefined) {
    update();
    updateTimer = setInterval(update, opts.updateEveryMs);
  }
  tick();

  return {
    async close() {
      closing = true;
      clearTimeout(timer);
      clearInterval(updateTimer);
      await running;
      await updating;
      matcher?.vulndb.close();
    },
  };
}
