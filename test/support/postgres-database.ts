/**
 * Vitest's global setup: every test run gets a PostgreSQL database of its
 * own, created before the first test file and dropped after the last, so
 * that what else the server holds (a `session` table from the README's
 * quick start, connect-pg-simple's `session_pkey` constraint) never collides
 * with a test's tables.
 *
 * The server is the one DATABASE_URL names, else the machine's server on
 * loopback; the run's database is made there and DATABASE_URL is set to it
 * before the workers start, so that every test file, and every process a
 * test spawns with the environment it inherits, uses it. A server that does
 * not answer is left to test/support/postgres.ts, which skips the
 * PostgreSQL suites (or fails them with CI=true).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server the tests use when DATABASE_URL is unset: its `test` database is only where the run's database is created from. */
export const DEFAULT_SERVER_URL = 'postgresql://root@127.0.0.1:5432/test';

/** The prefix of every database a test run creates. */
export const TEST_DATABASE_PREFIX = 'sessionkit_test_';

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.href;
}

let created: { serverUrl: string; database: string; previous: string | undefined } | undefined;

async function onServer<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function setup(): Promise<void> {
  const previous = process.env.DATABASE_URL;
  const serverUrl = previous ?? DEFAULT_SERVER_URL;
  if (!URL.canParse(serverUrl)) throw new Error('DATABASE_URL must be a postgresql:// URL for the tests');
  const database = `${TEST_DATABASE_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    await onServer(serverUrl, (client) => client.query(`CREATE DATABASE "${database}"`));
  } catch (error) {
    // Unreachable: test/support/postgres.ts reports it per suite. Any other refusal (no CREATEDB) must not pass silently.
    if (typeof (error as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((error as { code: string }).code)) {
      throw new Error(`the tests create a database of their own on ${new URL(serverUrl).host} and could not: ${(error as Error).message}`, { cause: error });
    }
    return;
  }
  created = { serverUrl, database, previous };
  process.env.DATABASE_URL = withDatabase(serverUrl, database);
}

export async function teardown(): Promise<void> {
  if (created === undefined) return;
  const { serverUrl, database, previous } = created;
  created = undefined;
  if (previous === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = previous;
  // WITH (FORCE) ends connections a test left open (a pool a failed test never ended).
  await onServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
}
