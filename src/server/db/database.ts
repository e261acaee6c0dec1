// The one interface the server's storage talks to, over SQLite (node:sqlite) or PostgreSQL (pg).
// Queries are written once, with `?` placeholders; each driver turns them into its own form. A
// transaction is the only way to write, so what a request changes is committed whole or not at all.

export type Dialect = 'sqlite' | 'postgres';
export type SqlValue = string | number | null;
export type Row = Record<string, SqlValue>;

/** What a query runs on: the database itself or an open transaction. */
export interface Queryable {
  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Rows changed by an INSERT, UPDATE or DELETE. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface Database extends Queryable {
  readonly dialect: Dialect;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * Transactions are serializable with respect to each other on SQLite (one writer) and read
   * committed on PostgreSQL, where the queries that need more take row locks or use ON CONFLICT.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type DatabaseUrl = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (the queries hold no `?` inside strings). */
export function numberedPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
