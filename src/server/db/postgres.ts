// PostgreSQL through pg: a pool of connections, so several requests (and several server
// replicas on one database) ingest at once; each transaction holds one connection throughout.
import pg from 'pg';
import { type Database, numberedPlaceholders, type Queryable, type Row, type SqlValue } from './database.ts';

const INT8 = 20;
const NUMERIC = 1700;

/** COUNT(*) and SUM() are int8/numeric, which pg returns as strings: the counts here fit a double. */
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
};

function queryable(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    all: async <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      (await client.query(numberedPlaceholders(sql), params as SqlValue[])).rows as T[],
    run: async (sql: string, params: readonly SqlValue[] = []) =>
      (await client.query(numberedPlaceholders(sql), params as SqlValue[])).rowCount ?? 0,
  };
}

export async function openPostgres(url: string, poolSize = 10): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types });
  // An idle connection the server dropped must not take the process down; the next query reconnects.
  pool.on('error', () => {});
  // Fail at start, with the driver's reason, rather than at the first request.
  (await pool.connect()).release();
  const direct = queryable(pool);
  return {
    dialect: 'postgres',
    all: direct.all,
    run: direct.run,
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const value = await fn(queryable(client));
        await client.query('COMMIT');
        return value;
      } catch (e) {
        // A connection that cannot even roll back is dropped, not handed to the next request.
        await client.query('ROLLBACK').catch((r: Error) => {
          broken = r;
        });
        throw e;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
