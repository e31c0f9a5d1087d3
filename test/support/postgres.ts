import pg from 'pg';
import { DEFAULT_SERVER_URL } from './postgres-database.js';

/**
 * The PostgreSQL database the tests use: the one this run created for itself
 * (test/support/postgres-database.ts sets DATABASE_URL to it before the
 * workers start), on the server DATABASE_URL named, or the machine's server
 * on loopback.
 */
export const DATABASE_URL = process.env.DATABASE_URL ?? DEFAULT_SERVER_URL;

async function reachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${DATABASE_URL} is unreachable (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const unreachable = await reachable();
if (unreachable !== undefined && process.env.CI === 'true') throw new Error(`${unreachable}; CI=true requires it`);

/** Why PostgreSQL suites are skipped, or undefined when the server answers (with CI=true an unreachable server fails instead). */
export const postgresSkipReason = unreachable;

let counter = 0;
/** A table name no other test (or parallel run) uses. */
export function uniqueTable(prefix: string): string {
  counter += 1;
  return `sk_${prefix}_${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A pg Pool for one test file; `dropTables` removes what the file created. */
export function testPool(max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max });
  pool.on('error', () => undefined);
  return pool;
}

/** Drops every table whose name starts with `prefix` (a file's unique prefix). */
export async function dropTablesLike(pool: pg.Pool, prefix: string): Promise<void> {
  const { rows } = await pool.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1`, [`${prefix}%`]);
  for (const { name } of rows) await pool.query(`DROP TABLE IF EXISTS "${name}"`);
}
