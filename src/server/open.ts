// Opens the database named by `--db` and brings its schema up to date. The PostgreSQL driver
// is loaded only for a postgres:// URL: a SQLite server never reads it.
import type { Database, DatabaseUrl } from './db/database.ts';
import { migrate } from './db/migrations.ts';
import { openSqlite } from './db/sqlite.ts';

export async function openDatabase(url: DatabaseUrl): Promise<{ db: Database; applied: number[] }> {
  const db =
    url.kind === 'sqlite' ? openSqlite(url.path) : await (await import('./db/postgres.ts')).openPostgres(url.url);
  try {
    return { db, applied: await migrate(db) };
  } catch (e) {
    await db.close();
    throw e;
  }
}
