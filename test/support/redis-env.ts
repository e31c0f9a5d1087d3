import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/** The Redis server the tests use: REDIS_URL, or the machine's server on loopback. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const inCi = process.env.CI === 'true';

async function reachable(): Promise<string | undefined> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${REDIS_URL} is unreachable (${(error as Error).message})`;
  } finally {
    client.disconnect();
  }
}

function serverBinary(): string | undefined {
  const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? undefined : 'the redis-server binary is not on PATH';
}

const unreachable = await reachable();
if (unreachable !== undefined && inCi) throw new Error(`${unreachable}; CI=true requires it`);
const noBinary = serverBinary();
if (noBinary !== undefined && inCi) throw new Error(`${noBinary}; CI=true requires it`);

/** Why suites on the shared Redis are skipped, or undefined when it answers (with CI=true an unreachable server fails instead). */
export const redisSkipReason = unreachable;
/** Why suites that start their own redis-server (outage, cluster) are skipped, or undefined (with CI=true a missing binary fails instead). */
export const redisServerSkipReason = noBinary;

let counter = 0;
/** A key prefix no other test file or parallel run uses. */
export function uniquePrefix(name: string): string {
  counter += 1;
  return `sessionkit-test:${name}:${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}:`;
}

/** An ioredis client on the shared test server. */
export function testClient(): Redis {
  const client = new Redis(REDIS_URL);
  client.on('error', () => undefined);
  return client;
}

/** Every key that starts with `prefix` on one node, found with SCAN (KEYS would block a busy shared server). */
export async function keysWithPrefix(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/** Deletes every key that starts with `prefix` on one node (prefixes hold no glob characters). */
export async function deleteKeysWithPrefix(client: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for (const key of await keysWithPrefix(client, prefix)) deleted += await client.del(key);
  return deleted;
}

/** Redis's own clock in milliseconds (what expiry instants are measured on). */
export async function serverNowMs(client: Redis): Promise<number> {
  const [seconds, micros] = (await client.time()) as [string | number, string | number];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * For one describe block on the shared server: a client opened before its
 * tests and quit after them, and unique prefixes whose keys are deleted after
 * them, so the block leaves nothing behind.
 */
export function useTestRedis(): { readonly client: Redis; prefix(name: string): string } {
  const prefixes: string[] = [];
  let client: Redis | undefined;
  beforeAll(() => {
    client = testClient();
  });
  afterAll(async () => {
    if (client === undefined) return;
    for (const prefix of prefixes) await deleteKeysWithPrefix(client, prefix);
    await client.quit();
  });
  return {
    get client(): Redis {
      if (client === undefined) throw new Error('useTestRedis: the client exists only inside tests');
      return client;
    },
    prefix(name: string): string {
      const prefix = uniquePrefix(name);
      prefixes.push(prefix);
      return prefix;
    },
  };
}
