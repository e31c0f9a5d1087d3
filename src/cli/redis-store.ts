import { RedisBackend } from '../backends/redis/redis-backend.js';
import { digestKey } from '../core/keys.js';
import { failFastIoredis, loadDriver, oneLine } from './drivers.js';
import { CliError, ExitCode } from './exit-codes.js';
import { decodeEnvelope } from '../http/envelope.js';
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

export const REDIS_PURGE_NOTE = 'Redis deletes expired sessions itself (each session is a key with a TTL): nothing is stored past expiry';

/**
 * Connects (no retries, no offline queue: a command line must fail fast) and
 * wraps the client in a {@link RedisBackend}. Rejects with a `CliError`: 2 for
 * a bad prefix, 3 when Redis cannot be reached, 4 when `ioredis` is not installed.
 */
export async function openRedisStore(target: RedisTarget): Promise<CliStore> {
  const database = redisDatabaseOf(target.url);
  const where = describeRedis(target.url);
  const ioredis = await loadDriver<typeof import('ioredis')>('ioredis');
  let redis: ReturnType<typeof failFastIoredis>;
  try {
    redis = failFastIoredis(ioredis, target.url, target.timeoutMs);
  } catch (error) {
    throw new CliError(ExitCode.usage, `REDIS_URL: ${oneLine(error)}`, { cause: error });
  }
  const { client } = redis;
  let backend: RedisBackend;
  try {
    backend = new RedisBackend(client, { prefix: target.prefix, hashKeys: target.hashKeys, timeoutMs: target.timeoutMs });
  } catch (error) {
    client.disconnect();
    throw new CliError(ExitCode.usage, `--prefix: ${oneLine(error)}`, { cause: error });
  }
  try {
    await redis.connect();
  } catch (error) {
    throw new CliError(ExitCode.unreachable, `cannot reach Redis at ${where}: ${oneLine(error)}`, { cause: error });
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

  return {
    kind: 'redis',
    where: `Redis ${where}, prefix ${JSON.stringify(target.prefix)}`,
    backend,

    migrateCommand: 'sessionkit migrate',

    async isEmpty() {
      // The first live session found ends the walk.
      for await (const _session of backend.liveSessions()) return false;
      return true;
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
      // One scan counts and sizes the sessions.
      const sizes = await backend.storageBytes();
      return {
        store: 'redis',
        live: sizes.sessionCount,
        expired: null,
        owners: null,
        sizeBytes: { sessions: sizes.sessionBytes, serverUsedMemory: sizes.serverUsedMemoryBytes },
        notes: [REDIS_PURGE_NOTE, 'sessions per owner are not counted on Redis (each owner has a set of its own; counting them all would walk the keyspace): revoke --owner works'],
      };
    },

    /**
     * Redis keeps an owner's digest, not the owner id (see docs/redis.md):
     * the id shown is the one a typed session keeps in its value, when its
     * digest is the session's; otherwise only the digest is known.
     */
    async ownerOf(key): Promise<OwnerInfo | undefined> {
      const found = await backend.sessionOwner(key);
      if (found === undefined) return undefined;
      const createdAt = found.createdAt === null ? null : found.createdAt.toISOString();
      if (found.ownerDigest === null) return { owner: null, createdAt };
      const stored = await backend.get(key);
      const envelopeOwner = stored.ok ? decodeEnvelope(stored.value)?.owner : undefined;
      const owner = envelopeOwner !== undefined && digestKey(envelopeOwner) === found.ownerDigest ? envelopeOwner : undefined;
      return owner === undefined ? { ownerDigest: found.ownerDigest, createdAt } : { owner, ownerDigest: found.ownerDigest, createdAt };
    },

    async close() {
      await backend.close().catch(() => undefined);
      await client.quit().catch(() => client.disconnect());
    },
  };
}
