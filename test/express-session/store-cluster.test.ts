import { describe } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { useTestCluster } from '../support/redis-cluster.js';
import { redisServerSkipReason } from '../support/redis-env.js';
import { describeStore } from './store-suite.js';

describe.skipIf(redisServerSkipReason !== undefined)(`on Redis Cluster${redisServerSkipReason ? ` (skipped: ${redisServerSkipReason})` : ''}`, () => {
  const redis = useTestCluster();
  let made = 0;
  describeStore('Redis Cluster', async () => new RedisBackend(redis.client, { prefix: `esstore:${++made}:` }));
});
