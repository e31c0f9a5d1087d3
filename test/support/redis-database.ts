/**
 * Vitest's global setup: every test run gets a Redis logical database of its
 * own (`SELECT n`), as it gets a PostgreSQL database, so that what else the
 * server holds never reaches a test. Keys under other prefixes do not
 * collide with a test's, but every SCAN walks the whole database: a million
 * keys a benchmark or an app left in database 0 made the suites that count
 * or list sessions time out.
 *
 * The server is the one REDIS_URL names, else the machine's server on
 * loopback. The run takes the highest-numbered database that is empty,
 * claims it with one key (so that a parallel run takes another), and sets
 * REDIS_URL to it before the workers start, so that every test file and
 * every process a test spawns with the environment it inherits uses it. The
 * database is emptied after the last test file. A server that does not
 * answer is left to test/support/redis-env.ts, which skips the Redis suites
 * (or fails them with CI=true); a server with a single database is shared.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The server the tests use when REDIS_URL is unset. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The key that marks a database as taken by a test run (its value names the run). */
export const CLAIM_KEY = 'sessionkit-test:run';

/** `url` with its database replaced by `database`. */
export function withRedisDatabase(url: string, database: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.href;
}

let claimed: { url: string; previous: string | undefined } | undefined;

function connect(url: string): Redis {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  return client;
}

export async function setup(): Promise<void> {
  const previous = process.env.REDIS_URL;
  const serverUrl = previous ?? DEFAULT_REDIS_URL;
  if (!URL.canParse(serverUrl)) throw new Error('REDIS_URL must be a redis:// URL for the tests');
  const client = connect(withRedisDatabase(serverUrl, 0));
  try {
    await client.connect();
  } catch {
    client.disconnect();
    return;
  }
  try {
    const [, count] = (await client.config('GET', 'databases')) as [string, string];
    if (Number(count) <= 1) return;
    const run = `${process.pid}-${randomBytes(4).toString('hex')}`;
    // From the highest down: apps and tools use the low numbers, database 0 first of all.
    for (let database = Number(count) - 1; database >= 1; database--) {
      await client.select(database);
      if ((await client.dbsize()) !== 0) continue;
      // A day at most: a run that never reached its teardown does not keep the database.
      if ((await client.set(CLAIM_KEY, run, 'EX', 86_400, 'NX')) !== 'OK') continue;
      claimed = { url: withRedisDatabase(serverUrl, database), previous };
      process.env.REDIS_URL = claimed.url;
      return;
    }
    throw new Error(`the tests use a Redis database of their own on ${new URL(serverUrl).host} and found none empty among databases 1 to ${Number(count) - 1}`);
  } finally {
    client.disconnect();
  }
}

export async function teardown(): Promise<void> {
  if (claimed === undefined) return;
  const { url, previous } = claimed;
  claimed = undefined;
  if (previous === undefined) delete process.env.REDIS_URL;
  else process.env.REDIS_URL = previous;
  const client = connect(url);
  try {
    await client.connect();
    // Every key in it is the run's: the database was empty when the run claimed it.
    await client.flushdb();
  } finally {
    client.disconnect();
  }
}
