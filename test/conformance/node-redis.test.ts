import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { RedisTestCluster } from '../support/redis-cluster.js';
import { deleteKeysWithPrefix, REDIS_URL, redisServerSkipReason, redisSkipReason, testClient, uniquePrefix } from '../support/redis-env.js';
import { runBackendConformance } from '../../src/testkit/index.js';

// The same suite as ioredis's (redis.test.ts, redis-cluster.test.ts), through node-redis: connect-redis 9's client.

describe.skipIf(redisSkipReason !== undefined)(`node-redis, single node${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const prefix = uniquePrefix('node-redis');
  const client = createClient({ url: REDIS_URL });
  client.on('error', () => undefined);
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    const cleaner = testClient();
    await deleteKeysWithPrefix(cleaner, prefix);
    await cleaner.quit();
    client.destroy();
  });

  let made = 0;
  runBackendConformance('redis via node-redis', async (options) => new RedisBackend(client, { ...options, prefix: `${prefix}${++made}:` }));

  it('a node-redis client that is not connected: operations reject with unavailable, at once', async () => {
    const closed = createClient({ url: REDIS_URL });
    const backend = new RedisBackend(closed, { prefix: `${prefix}closed:` });
    await expect(backend.get('a'.repeat(40))).rejects.toMatchObject({ name: 'BackendError', code: 'unavailable' });
    await backend.close();
  });

  it('anything else is a TypeError at setup', () => {
    expect(() => new RedisBackend({} as never)).toThrow(TypeError);
  });
});

describe.skipIf(redisServerSkipReason !== undefined)(`node-redis, Redis Cluster${redisServerSkipReason ? ` (skipped: ${redisServerSkipReason})` : ''}`, () => {
  let cluster: RedisTestCluster | undefined;
  let client: ReturnType<typeof createCluster> | undefined;

  beforeAll(async () => {
    cluster = await RedisTestCluster.start(1000);
    client = createCluster({ rootNodes: cluster.ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })) });
    client.on('error', () => undefined);
    await client.connect();
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await cluster?.destroy();
  });

  let made = 0;
  runBackendConformance('redis cluster via node-redis', async (options) => new RedisBackend(client!, { ...options, prefix: `nr${++made}:` }));
});
