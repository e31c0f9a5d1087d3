import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DATABASE_URL, postgresSkipReason, testPool } from '../support/postgres.js';
import { TEST_DATABASE_PREFIX } from '../support/postgres-database.js';
import { CLAIM_KEY } from '../support/redis-database.js';
import { REDIS_URL, redisSkipReason, testClient } from '../support/redis-env.js';

// The CLI's suites spawn the command and create connect-pg-simple tables (whose constraint names are fixed): they are
// the first to break when the tests share a database with anything else, so the run's own database is checked here.
describe.skipIf(postgresSkipReason !== undefined)('the tests run in a PostgreSQL database of their own', () => {
  it('DATABASE_URL names a database this run created, in this worker and in a process it spawns', async () => {
    const pool = testPool(1);
    try {
      const { rows } = await pool.query<{ name: string }>('SELECT current_database() AS name');
      expect(rows[0]!.name.startsWith(TEST_DATABASE_PREFIX)).toBe(true);
      expect(new URL(DATABASE_URL).pathname).toBe(`/${rows[0]!.name}`);
    } finally {
      await pool.end();
    }
    const child = execFileSync(process.execPath, ['-e', 'process.stdout.write(process.env.DATABASE_URL ?? "")'], { encoding: 'utf8' });
    expect(child).toBe(DATABASE_URL);
  });
});

describe.skipIf(redisSkipReason !== undefined)('the tests run in a Redis database of their own', () => {
  it('REDIS_URL names a database other than 0 that this run claimed, in this worker and in a process it spawns', async () => {
    const database = Number(new URL(REDIS_URL).pathname.slice(1));
    expect(database).toBeGreaterThan(0);
    const client = testClient();
    try {
      const claim = await client.get(CLAIM_KEY);
      expect(claim).toMatch(/^\d+-[0-9a-f]{8}$/);
    } finally {
      await client.quit();
    }
    const child = execFileSync(process.execPath, ['-e', 'process.stdout.write(process.env.REDIS_URL ?? "")'], { encoding: 'utf8' });
    expect(child).toBe(REDIS_URL);
  });
});
