// `k3sguard server`: the fleet server (docs/server.md) until SIGTERM or SIGINT, which stop
// taking requests, finish those in flight and close the database. `server token create|revoke|list`
// manage the node tokens agents send reports with, on the same `--db`; `server user ...` (the
// accounts of people) is in server-user.ts.
import { hostname } from 'node:os';
import { parseDuration } from '../agent/config.ts';
import { parseListen } from '../agent/listen.ts';
import { readOptionText } from '../io/option-file.ts';
import { InputError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import { quoteControls } from '../model/quote.ts';
import type { Database } from '../server/db/database.ts';
import { SchemaTooNewError } from '../server/db/migrations.ts';
import { DEFAULT_DB, parseDatabaseUrl } from '../server/db/url.ts';
import { startServer } from '../server/http.ts';
import { startMonitor } from '../server/monitor/monitor.ts';
import type { NotifyTarget } from '../server/monitor/notify.ts';
import { openDatabase } from '../server/open.ts';
import { Store } from '../server/store.ts';
import { defaultVulnDbPath } from '../vulndb/db.ts';
import { EXIT_CLEAN } from './exit.ts';

export const DEFAULT_SERVER_LISTEN = '127.0.0.1:9465';

export interface ServerCliOptions {
  db?: string;
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  rateLimit?: string;
  vulnDb?: string;
  dbUpdateEvery?: string;
  dbUpdateSource?: string;
  notifyUrl?: string;
  notifySecretFile?: string;
}

export interface TokenCliOptions {
  db?: string;
  node?: string;
  cluster?: string;
  json?: boolean;
}

/** The database of `--db`, migrated; a failure is one line naming the driver's reason. */
export async function openServerDatabase(db: string | undefined): Promise<{ db: Database; applied: number[] }> {
  const url = parseDatabaseUrl(db ?? DEFAULT_DB);
  const shown = url.kind === 'sqlite' ? url.path : 'the PostgreSQL database';
  try {
    return await openDatabase(url);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const reason = e instanceof SchemaTooNewError ? e.message : (e as Error).message || String(e);
    // pg's messages name the host and user, never the password.
    throw new InputError(
      'SERVER_DB',
      url.kind === 'sqlite' ? shown : undefined,
      `cannot open ${url.kind === 'sqlite' ? 'the database' : shown}: ${reason}`,
      {
        cause: e,
      },
    );
  }
}

function positiveInt(text: string, option: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(text))
    throw new InputError('USAGE', undefined, `${option}: expected a positive whole number`);
  return Number(text);
}

export async function runServer(opts: ServerCliOptions): Promise<number> {
  const listen = parseListen(opts.listen ?? DEFAULT_SERVER_LISTEN);
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    throw new InputError('USAGE', undefined, '--tls-cert and --tls-key go together');
  }
  const tls =
    opts.tlsCert !== undefined && opts.tlsKey !== undefined
      ? { cert: readOptionText(opts.tlsCert, 'key'), key: readOptionText(opts.tlsKey, 'key') }
      : undefined;
  const rateLimitPerMinute =
    opts.rateLimit === undefined ? LIMITS.serverTokenRequests : positiveInt(opts.rateLimit, '--rate-limit');
  const monitoring = monitorOptions(opts);
  const { db, applied } = await openServerDatabase(opts.db);
  const store = new Store(db);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      store,
      host: listen.host,
      port: listen.port,
      ...(tls ? { tls } : {}),
      rateLimitPerMinute,
      logger: { level: process.env.K3SGUARD_LOG_LEVEL ?? 'info' },
    });
  } catch (e) {
    await db.close();
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      'USAGE',
      undefined,
      `--listen ${quoteControls(opts.listen ?? DEFAULT_SERVER_LISTEN)}: ${code ?? (e as Error).message}`,
    );
  }
  if (applied.length > 0) process.stderr.write(`k3sguard server: schema migrated to version ${applied.at(-1)}\n`);
  process.stderr.write(`k3sguard server: listening on ${server.url}\n`);
  const monitor = startMonitor({
    db,
    ...monitoring,
    worker: `${hostname()}:${process.pid}`,
    log: monitorLog(process.env.K3SGUARD_LOG_LEVEL ?? 'info'),
  });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
  await monitor.close();
  await db.close();
  return EXIT_CLEAN;
}

const PINO_LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** The monitor's lines among the server's own: pino's JSON shape on stdout, at the server's log level. */
function monitorLog(level: string): (at: 'info' | 'warn' | 'error', message: string) => void {
  const threshold = PINO_LEVELS[level] ?? (level === 'silent' ? Number.POSITIVE_INFINITY : 30);
  return (at, message) => {
    const n = PINO_LEVELS[at] as number;
    if (n < threshold) return;
    process.stdout.write(
      `${JSON.stringify({ level: n, time: Date.now(), pid: process.pid, name: 'monitor', msg: message })}\n`,
    );
  };
}

function httpUrl(text: string, option: string): string {
  let u: URL | undefined;
  try {
    u = new URL(text);
  } catch {
    u = undefined;
  }
  if (u?.protocol !== 'http:' && u?.protocol !== 'https:')
    throw new InputError('USAGE', undefined, `${option}: must be an http:// or https:// URL`);
  return text;
}

/** The monitoring options, checked before anything starts. */
function monitorOptions(opts: ServerCliOptions): {
  vulnDbPath: string;
  notify?: NotifyTarget;
  updateEveryMs?: number;
  updateSource?: string;
} {
  if ((opts.notifyUrl === undefined) !== (opts.notifySecretFile === undefined))
    throw new InputError('USAGE', undefined, '--notify-url and --notify-secret-file go together');
  let notify: NotifyTarget | undefined;
  if (opts.notifyUrl !== undefined && opts.notifySecretFile !== undefined) {
    const secret = readOptionText(opts.notifySecretFile, 'secret').trim();
    if (secret.length === 0) throw new InputError('USAGE', opts.notifySecretFile, 'the notification secret is empty');
    notify = { url: httpUrl(opts.notifyUrl, '--notify-url'), secret };
  }
  let updateEveryMs: number | undefined;
  if (opts.dbUpdateEvery !== undefined) {
    updateEveryMs = parseDuration(opts.dbUpdateEvery);
    if (updateEveryMs === undefined)
      throw new InputError('USAGE', undefined, '--db-update-every: a duration such as 30m or 6h');
  } else if (opts.dbUpdateSource !== undefined)
    throw new InputError('USAGE', undefined, '--db-update-source needs --db-update-every');
  return {
    vulnDbPath: opts.vulnDb ?? defaultVulnDbPath(),
    ...(notify ? { notify } : {}),
    ...(updateEveryMs !== undefined ? { updateEveryMs } : {}),
    ...(opts.dbUpdateSource !== undefined ? { updateSource: opts.dbUpdateSource } : {}),
  };
}

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export async function runTokenCreate(opts: TokenCliOptions): Promise<number> {
  const node = opts.node ?? '';
  if (!NODE_NAME.test(node)) {
    throw new InputError('USAGE', undefined, '--node: a node name (letters, digits, ".", "_", "-"; at most 253)');
  }
  const { db } = await openServerDatabase(opts.db);
  try {
    const { token } = await new Store(db).createToken(node, opts.cluster);
    // The only time it is shown: the server keeps its hash.
    process.stdout.write(`${token}\n`);
  } finally {
    await db.close();
  }
  return EXIT_CLEAN;
}

export async function runTokenRevoke(id: string | undefined, opts: TokenCliOptions): Promise<number> {
  if ((id === undefined) === (opts.node === undefined)) {
    throw new InputError('USAGE', undefined, 'token revoke: give a token id or --node NAME (one of them)');
  }
  const { db } = await openServerDatabase(opts.db);
  try {
    const revoked = await new Store(db).revokeTokens(id !== undefined ? { id } : { node: opts.node as string });
    if (revoked === 0) {
      throw new InputError(
        'NOT_FOUND',
        undefined,
        `no active token ${id !== undefined ? `with id ${quoteControls(id)}` : `for node ${quoteControls(opts.node as string)}`}`,
      );
    }
    process.stderr.write(`k3sguard server: ${revoked} token${revoked === 1 ? '' : 's'} revoked\n`);
  } finally {
    await db.close();
  }
  return EXIT_CLEAN;
}

export async function runTokenList(opts: TokenCliOptions): Promise<number> {
  const { db } = await openServerDatabase(opts.db);
  try {
    const tokens = await new Store(db).listTokens();
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`);
    } else {
      process.stdout.write('ID\tNODE\tCREATED\tREVOKED\n');
      for (const t of tokens) {
        process.stdout.write(`${t.id}\t${quoteControls(t.node)}\t${t.createdAt}\t${t.revokedAt ?? '-'}\n`);
      }
    }
  } finally {
    await db.close();
  }
  return EXIT_CLEAN;
}
