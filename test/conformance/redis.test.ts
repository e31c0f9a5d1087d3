import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { deleteKeysWithPrefix, redisSkipReason, testClient, uniquePrefix } from '../support/redis-env.js';
import { describeBackendContract } from './backend-contract.js';

const NO_OWNERS = 'RedisBackend keeps no sessions by owner yet (issue 6)';

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

  describeBackendContract('redis', async (options) => new RedisBackend(client, { ...options, prefix }), { ownersSkipReason: NO_OWNERS });
  describeBackendContract('redis, keys unhashed', async (options) => new RedisBackend(client, { ...options, prefix: unhashedPrefix, hashKeys: false }), {
    ownersSkipReason: NO_OWNERS,
  });
});
