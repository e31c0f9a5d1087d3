import type { Redis, RedisOptions } from 'ioredis';
import { toBackendError } from '../backends/redis/errors.js';
import { RedisBackend } from '../backends/redis/redis-backend.js';
import { digestKey } from '../core/keys.js';
import { loadDriver, oneLine } from './drivers.js';
import { CliError, ExitCode } from './exit-codes.js';
import { decodeEnvelope } from '../http/envelope.js';
import { decodeStored } from '../backends/redis/stored-value.js';
import type { CliStore, OwnerInfo, StatsReport } from './store.js';
import { redisDatabaseOf } from './store-url.js';

/** How the command reaches the sessions under one Redis key prefix. */
export interface RedisTarget {
  /** A `redis://` or `rediss://` URL. */
  url: string;
  prefix: string;
  hashKeys: boolean;
  timeoutMs: number;
}

/** Host, port and database of a Redis URL, without the password. */
export function describeRedis(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || '127.0.0.1'}:${parsed.port || '6379'}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
  } catch {
    return 'the REDIS_URL server';
  }
}

/** A SCAN MATCH pattern that matches `text` literally. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

const SESSION_KEY_SUFFIX = '{*}';
const NO_EXPIRED_NOTE = 'Redis deletes expired sessions itself (each session is a key with a TTL): nothing is stored past expiry';

/**
 * Connects (no retries, no offline queue: a command line must fail fast) and
 * wraps the client in a {@link RedisBackend}. Rejects with a `CliError`: 2 for
 * a bad prefix, 3 when Redis cannot be reached, 4 when `ioredis` is not installed.
 */
export async function openRedisStore(target: RedisTarget): Promise<CliStore> {
  const database = redisDatabaseOf(target.url);
  const where = describeRedis(target.url);
  const ioredis = await loadDriver<typeof import('ioredis')>('ioredis');
  const RedisClass = ioredis.Redis ?? ioredis.default;
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: target.timeoutMs,
    commandTimeout: target.timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  };
  let client: Redis;
  try {
    client = new RedisClass(target.url, options);
  } catch (error) {
    throw new CliError(ExitCode.usage, `REDIS_URL: ${oneLine(error)}`, { cause: error });
  }
  // ioredis reports the socket's error here and rejects connect() with a vaguer one.
  let lastError: unknown;
  client.on('error', (error: unknown) => {
    lastError = error;
  });
  let backend: RedisBackend;
  try {
    backend = new RedisBackend(client, { prefix: target.prefix, hashKeys: target.hashKeys, timeoutMs: target.timeoutMs });
  } catch (error) {
    client.disconnect();
    throw new CliError(ExitCode.usage, `--prefix: ${oneLine(error)}`, { cause: error });
  }
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new CliError(ExitCode.unreachable, `cannot reach Redis at ${where}: ${oneLine(lastError ?? error)}`, { cause: lastError ?? error });
  }
  // ioredis reports a failed SELECT of the URL's database only as an 'error' event and goes on in database 0:
  // selecting again here makes an out-of-range number fail before any command touches database 0's sessions.
  if (database !== 0) {
    try {
      await client.select(database);
    } catch (error) {
      client.disconnect();
      throw new CliError(ExitCode.usage, `REDIS_URL names database ${database}, which ${where.replace(/\/\d+$/, '')} does not have: ${oneLine(error)}`, { cause: error });
    }
  }

  const pattern = globEscape(target.prefix) + SESSION_KEY_SUFFIX;

  return {
    kind: 'redis',
    where: `Redis ${where}, prefix ${JSON.stringify(target.prefix)}`,
    backend,

    migrateCommand: 'sessionkit migrate',

    async isEmpty() {
      try {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000, 'TYPE', 'string');
          if (keys.length > 0) return false;
          cursor = next;
        } while (cursor !== '0');
        return true;
      } catch (error) {
        throw toBackendError(error);
      }
    },

    async ready() {},

    async migrate() {
      return { store: 'redis', action: 'none', added: [], note: 'Redis needs no schema: sessions are plain keys under the prefix, nothing to migrate' };
    },

    async countExpired() {
      return null;
    },

    async purge() {
      return 0;
    },

    async stats(): Promise<StatsReport> {
      try {
        return await scanStats();
      } catch (error) {
        throw toBackendError(error);
      }
    },

    async ownerOf(key) {
      try {
        return await redisOwnerOf(key);
      } catch (error) {
        throw toBackendError(error);
      }
    },

    async close() {
      await backend.close().catch(() => undefined);
      await client.quit().catch(() => client.disconnect());
    },
  };

  /**
   * Redis keeps an owner's digest in the session's string, not the owner id
   * (see docs/redis.md): the id shown is the one a typed session keeps in its
   * value, when its digest is that tag; the creation time is the session's
   * score in its owner's set.
   */
  async function redisOwnerOf(key: string): Promise<OwnerInfo | undefined> {
    const stored = await client.get(backend.redisKey(key));
    const session = stored === null ? undefined : decodeStored(stored);
    if (session === undefined) return undefined;
    if (session.ownerTag === undefined) return { owner: null, createdAt: null };
    const envelopeOwner = session.value === null ? undefined : decodeEnvelope(session.value)?.owner;
    const owner = envelopeOwner !== undefined && digestKey(envelopeOwner) === session.ownerTag ? envelopeOwner : undefined;
    const member = target.hashKeys ? digestKey(key) : key;
    // The owner's set key (docs/redis.md), from the tag: Redis keeps no owner id to start from.
    const score = await client.zscore(`${target.prefix}owner:{${session.ownerTag}}`, member);
    const createdAt = score === null ? null : new Date(Number(score)).toISOString();
    // An owned session whose value does not name its owner (not a typed session): only the digest is known.
    return owner === undefined ? { ownerDigest: session.ownerTag, createdAt } : { owner, ownerDigest: session.ownerTag, createdAt };
  }

  async function scanStats(): Promise<StatsReport> {
    let live = 0;
    let keyBytes = 0;
    let cursor = '0';
    // SCAN walks the keyspace in small steps, so a busy server is never blocked; TYPE keeps other structures under the prefix out.
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000, 'TYPE', 'string');
      cursor = next;
      live += keys.length;
      if (keys.length > 0) {
        const pipeline = client.pipeline();
        for (const key of keys) pipeline.memory('USAGE', key);
        for (const [error, bytes] of (await pipeline.exec()) ?? []) if (error === null && typeof bytes === 'number') keyBytes += bytes;
      }
    } while (cursor !== '0');
    const info = await client.info('memory');
    const usedMemory = /^used_memory:(\d+)/m.exec(info)?.[1];
    const sizeBytes: Record<string, number> = { sessions: keyBytes };
    if (usedMemory !== undefined) sizeBytes.serverUsedMemory = Number(usedMemory);
    return {
      store: 'redis',
      live,
      expired: null,
      owners: null,
      sizeBytes,
      notes: [NO_EXPIRED_NOTE, 'sessions per owner are not counted on Redis (each owner has a set of its own; counting them all would walk the keyspace): revoke --owner works'],
    };
  }
}

export { NO_EXPIRED_NOTE as REDIS_PURGE_NOTE };
