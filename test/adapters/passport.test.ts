import { afterAll, describe } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory/index.js';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { redisSkipReason, useTestRedis } from '../support/redis-env.js';
import { describePassport } from './support/passport-suite.js';

describePassport('MemoryBackend', async () => new MemoryBackend());

describe.skipIf(postgresSkipReason !== undefined)(`on PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const pool = testPool(4);
  const prefix = `sk_passport_${process.pid}_`;
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });
  describePassport('PostgreSQL', async () => {
    const backend = new PostgresBackend(pool, { table: uniqueTable('passport').replace(/^sk_passport_/, prefix) });
    await backend.ensureSchema();
    return backend;
  });
});

describe.skipIf(redisSkipReason !== undefined)(`on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  describePassport('Redis', async () => new RedisBackend(redis.client, { prefix: redis.prefix('passport') }));
});
