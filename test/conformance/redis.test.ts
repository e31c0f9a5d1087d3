import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { deleteKeysWithPrefix, redisSkipReason, testClient, uniquePrefix } from '../support/redis-env.js';
import { runBackendConformance } from '../../src/testkit/index.js';

describe.skipIf(redisSkipReason !== undefined)(`Redis single node${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const prefix = uniquePrefix('conformance');
  const unhashedPrefix = uniquePrefix('conformance-unhashed');
  let client: Redis;
  beforeAll(() => {
    client = testClient();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(client, prefix);
    await deleteKeysWithPrefix(client, unhashedPrefix);
    await client.quit();
  });

  // A prefix per backend: owner tests reuse owner names, and each test must start from no sessions.
  let made = 0;
  runBackendConformance('redis', async (options) => new RedisBackend(client, { ...options, prefix: `${prefix}${++made}:` }));
  runBackendConformance('redis, keys unhashed', async (options) => new RedisBackend(client, { ...options, prefix: `${unhashedPrefix}${++made}:`, hashKeys: false }));
});
