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

async function connected(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/** A connection to the server of `url`: its own database, or `postgres` when that one does not exist. */
async function adminConnection(url: string): Promise<pg.Client> {
  try {
    return await connected(url);
  } catch (error) {
    if ((error as { code?: unknown }).code !== '3D000') throw error;
    return connected(withDatabase(url, 'postgres'));
  }
}

export async function setup(): Promise<void> {
  const previous = process.env.DATABASE_URL;
  const serverUrl = previous ?? DEFAULT_SERVER_URL;
  if (!URL.canParse(serverUrl)) throw new Error('DATABASE_URL must be a postgresql:// URL for the tests');
  let admin: pg.Client;
  try {
    admin = await adminConnection(serverUrl);
  } catch {
    // No server (or no way in): test/support/postgres.ts skips the PostgreSQL suites with the reason, or fails them with CI=true.
    return;
  }
  const database = `${TEST_DATABASE_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
  } catch (error) {
    // A server that answers but refuses (no CREATEDB): the tests must not fall back to sharing its database.
    throw new Error(`the tests create a database of their own on ${new URL(serverUrl).host} and could not: ${(error as Error).message}`, { cause: error });
  } finally {
    await admin.end().catch(() => undefined);
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
  const admin = await adminConnection(serverUrl);
  try {
    // WITH (FORCE) ends connections a test left open (a pool a failed test never ended).
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await admin.end().catch(() => undefined);
  }
}
