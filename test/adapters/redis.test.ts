import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { supportsOwners, type Backend } from '../../src/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { redisSkipReason, useTestRedis } from '../support/redis-env.js';
import { freePort } from '../support/ports.js';
import { describeConcurrency, describeOwners, describeSessionHeader, sidOf, withKey } from './support/adapter-suite.js';
import { EVERY_APP } from './support/every-app.js';

describe.skipIf(redisSkipReason !== undefined)(`adapters on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  const backend = async () => {
    return new RedisBackend(redis.client, { prefix: redis.prefix('http') });
  };

  for (const [name, factory] of EVERY_APP) describeConcurrency(`${name} on Redis`, factory, backend);
  for (const [name, factory] of EVERY_APP) describeSessionHeader(`${name} on Redis`, factory, backend);

  for (const [name, factory] of EVERY_APP) {
    it(`${name}: a Redis that is down is a 503 with Retry-After, without Set-Cookie`, async () => {
      // A server that went away: nothing listens on the port, and the client does not queue commands while offline.
      const down = new Redis({ host: '127.0.0.1', port: await freePort(), lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
      down.on('error', () => undefined);
      const store = new RedisBackend(down, { prefix: redis.prefix('down') });
      const client = await factory(store, {});
      try {
        const key = sidOf(await (await factory(await backend(), {})).get('/set?f1=a'))!;
        for (const reply of [await client.get('/read', withKey(key)), await client.get('/set?f1=b')]) {
          expect(reply.status).toBe(503);
          expect(reply.header('retry-after')).toBe('1');
          expect(reply.setCookies).toEqual([]);
        }
      } finally {
        await client.close();
        await store.close();
        down.disconnect();
      }
    });
  }

  // Sessions by owner: RedisBackend keeps them too.
  const keepsOwners = supportsOwners(Object.create(RedisBackend.prototype) as Backend);
  describe.skipIf(!keepsOwners)(`sessions by owner${keepsOwners ? '' : ' (skipped: RedisBackend keeps no sessions by owner yet)'}`, () => {
    const ownerBackend = async () => {
      const created = await backend();
      if (!supportsOwners(created)) throw new Error('RedisBackend keeps no sessions by owner');
      return created;
    };
    for (const [name, factory] of EVERY_APP) describeOwners(`${name} on Redis`, factory, ownerBackend);
  });
});
