import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { deleteKeysWithPrefix, redisSkipReason, testClient, uniquePrefix } from '../support/redis-env.js';
import { describeBackendContract } from './backend-contract.js';

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

  describeBackendContract('redis', async () => new RedisBackend(client, { prefix }));
  describeBackendContract('redis, keys unhashed', async () => new RedisBackend(client, { prefix: unhashedPrefix, hashKeys: false }));
});
