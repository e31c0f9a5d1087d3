import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { RedisTestCluster } from '../support/redis-cluster.js';
import { redisServerSkipReason } from '../support/redis-env.js';
import { describeStore } from './store-suite.js';

describe.skipIf(redisServerSkipReason !== undefined)(`on Redis Cluster${redisServerSkipReason ? ` (skipped: ${redisServerSkipReason})` : ''}`, () => {
  let cluster: RedisTestCluster | undefined;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await RedisTestCluster.start(1000);
    client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('end', () => reject(new Error('cluster client ended')));
    });
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.destroy();
  });

  let made = 0;
  describeStore('Redis Cluster', async () => new RedisBackend(client, { prefix: `esstore:${++made}:` }));
});
