import type { Cluster, Redis } from 'ioredis';

/** What {@link RedisBackend} accepts: an ioredis client for one node or for a Redis Cluster, created and owned by the caller. */
export type RedisClient = Redis | Cluster;

/** True when `client` looks like an ioredis `Redis` or `Cluster` (checked in the constructor, so a wrong argument fails at setup). */
export function isRedisClient(client: unknown): client is RedisClient {
  if (typeof client !== 'object' || client === null) return false;
  const candidate = client as Partial<Record<'evalsha' | 'eval' | 'once' | 'removeListener', unknown>> & { status?: unknown };
  return (
    typeof candidate.evalsha === 'function' &&
    typeof candidate.eval === 'function' &&
    typeof candidate.once === 'function' &&
    typeof candidate.removeListener === 'function' &&
    typeof candidate.status === 'string'
  );
}
