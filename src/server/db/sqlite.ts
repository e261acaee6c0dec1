// SQLite through node:sqlite: one file in WAL mode, so readers never wait for the writer.
// synchronous=FULL syncs the log at every commit: a report the server acknowledged survives a
// power loss, not only a killed process. node:sqlite is synchronous and this is one connection,
// so every query and transaction takes a turn: a transaction that awaits between its queries
// must not let another request's statements (or reads of its uncommitted rows) in between.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { Database, Queryable, Row, SqlValue } from './database.ts';

export function openSqlite(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA foreign_keys = ON');
  // `server token create` may write while the server runs: wait for the other writer.
  db.exec('PRAGMA busy_timeout = 10000');
  const statements = new Map<string, StatementSync>();
  const prepare = (sql: string) => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const direct: Queryable = {
    // Plain objects, as pg returns (node:sqlite's rows have a null prototype).
    all: async <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      prepare(sql)
        .all(...(params as SQLInputValue[]))
        .map((row) => ({ ...row })) as T[],
    run: async (sql: string, params: readonly SqlValue[] = []) =>
      Number(prepare(sql).run(...(params as SQLInputValue[])).changes),
  };

  let turn: Promise<unknown> = Promise.resolve();
  function inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const result = turn.then(fn);
    turn = result.catch(() => {});
    return result;
  }

  return {
    dialect: 'sqlite',
    all: (sql, params) => inTurn(() => direct.all(sql, params)),
    run: (sql, params) => inTurn(() => direct.run(sql, params)),
    transaction: (fn) =>
      inTurn(async () => {
        // IMMEDIATE: take the write lock now, so two processes never both read then fail to upgrade.
        db.exec('BEGIN IMMEDIATE');
        try {
          const value = await fn(direct);
          db.exec('COMMIT');
          return value;
        } catch (e) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw e;
        }
      }),
    close: () =>
      inTurn(async () => {
        db.close();
      }),
  };
}
