import type { Redis } from 'ioredis';

/**
 * connect-redis 9 speaks node-redis's API; with ioredis, the calls it makes
 * are translated, as its users write them (connect-redis 8, the last with
 * ioredis support of its own, is not installed here).
 */
export function ioredisForConnectRedis(client: Redis) {
  return {
    get: (key: string) => client.get(key),
    set: (key: string, value: string, options?: { expiration?: { type: 'EX'; value: number } }) =>
      options?.expiration ? client.set(key, value, 'EX', options.expiration.value) : client.set(key, value),
    del: (keys: string[]) => client.del(...keys),
    expire: (key: string, seconds: number) => client.expire(key, seconds),
    mGet: (keys: string[]) => client.mget(...keys),
  };
}
