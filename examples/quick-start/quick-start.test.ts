import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { DATABASE_URL, postgresSkipReason, testPool } from '../../test/support/postgres.js';
import { REDIS_URL, redisSkipReason } from '../../test/support/redis-env.js';

const run = promisify(execFile);
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

describe('quick-start examples (the README shows these files)', () => {
  it('memory.ts prints the value, then NotFound', async () => {
    const { stdout } = await run(tsx, [here('memory.ts')]);
    expect(stdout).toMatch(/^\{"user":"ada"\} expires in 604800 s\n\{ ok: false, error: 'NotFound' \}\n$/);
  });

  it.skipIf(postgresSkipReason !== undefined)('postgres.ts stores, reads and clears a session', async () => {
    const table = `sk_example_${process.pid}`;
    const { stdout } = await run(tsx, [here('postgres.ts')], { env: { ...process.env, DATABASE_URL, SESSION_TABLE: table } });
    expect(stdout).toBe(`{ ok: true, value: '{"cart":[42]}', period: 3600 }\n`);
    const pool = testPool(1);
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows).toEqual([{ n: 0 }]);
    await pool.query(`DROP TABLE "${table}"`);
    await pool.end();
  });

  it.skipIf(redisSkipReason !== undefined)('redis.ts stores, reads and clears a session', async () => {
    const prefix = `sk_example_${process.pid}:`;
    const { stdout } = await run(tsx, [here('redis.ts')], { env: { ...process.env, REDIS_URL, SESSION_PREFIX: prefix } });
    expect(stdout).toBe(`{ ok: true, value: '{"userId":42}', period: 3600 }\n`);
    const redis = new Redis(REDIS_URL);
    expect(await redis.keys(`${prefix}*`)).toEqual([]);
    await redis.quit();
  });
});
