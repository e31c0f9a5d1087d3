import { afterAll, describe } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory/index.js';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { redisSkipReason, testClient, useTestRedis } from '../support/redis-env.js';
import { describeStore } from './store-suite.js';

describeStore('MemoryBackend', async () => new MemoryBackend());

describe.skipIf(postgresSkipReason !== undefined)(`on PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const pool = testPool(4);
  const prefix = `sk_esstore_${process.pid}_`;
  const table = () => uniqueTable('esstore').replace(/^sk_esstore_/, prefix);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });
  describeStore(
    'PostgreSQL',
    async () => {
      const backend = new PostgresBackend(pool, { table: table() });
      await backend.ensureSchema();
      return backend;
    },
    async () => {
      const ownPool = testPool(1);
      const backend = new PostgresBackend(ownPool, { table: table() });
      await backend.ensureSchema();
      await ownPool.end();
      return backend;
    },
  );
});

describe.skipIf(redisSkipReason !== undefined)(`on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  describeStore(
    'Redis',
    async () => new RedisBackend(redis.client, { prefix: redis.prefix('esstore') }),
    async () => {
      const client = testClient();
      await client.quit();
      return new RedisBackend(client, { prefix: redis.prefix('esstore-gone'), timeoutMs: 500 });
    },
  );
});
