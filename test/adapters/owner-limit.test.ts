import { afterAll, describe } from 'vitest';
import { MemoryBackend } from '../../src/index.js';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { redisSkipReason, useTestRedis } from '../support/redis-env.js';
import { describeOwnerLimit } from './support/adapter-suite.js';
import { EVERY_APP } from './support/every-app.js';

// The 409 is each adapter's own: every adapter on memory; Express and Fastify on the server stores, whose
// atomicity (the owner's lock, the owner set's script) is what the parallel logins test.
const onServerStores = EVERY_APP.filter(([name]) => name === 'Express 5' || name === 'Fastify 5');

for (const [name, factory] of EVERY_APP) describeOwnerLimit(`${name} on memory`, factory, async (options) => new MemoryBackend(options));

const prefix = `sk_cap_${process.pid}_`;
describe.skipIf(postgresSkipReason !== undefined)(`on PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const pool = testPool(10);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });
  for (const [name, factory] of onServerStores) {
    describeOwnerLimit(`${name} on PostgreSQL`, factory, async (options) => {
      const backend = new PostgresBackend(pool, { ...options, table: uniqueTable('cap').replace(/^sk_cap_/, prefix) });
      await backend.ensureSchema();
      return backend;
    });
  }
});

describe.skipIf(redisSkipReason !== undefined)(`on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  for (const [name, factory] of onServerStores) describeOwnerLimit(`${name} on Redis`, factory, async (options) => new RedisBackend(redis.client, { ...options, prefix: redis.prefix('cap') }));
});
