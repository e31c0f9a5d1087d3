import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { expectPeriodWithin, stopwatch } from '../../test/support/elapsed.js';
import { DATABASE_URL, postgresSkipReason, testPool } from '../../test/support/postgres.js';
import { REDIS_URL, redisSkipReason } from '../../test/support/redis-env.js';

const run = promisify(execFile);
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** The example printed `{ ok: true, value: <value>, period: N }` and nothing else, N being the expiry less at most the time the run took. */
function expectPrintedRead(stdout: string, value: string, expirySeconds: number, elapsed: () => number): void {
  const printed = /^\{ ok: true, value: (.*), period: (\d+) \}\n$/.exec(stdout);
  expect(printed, stdout).not.toBeNull();
  expect(printed![1]).toBe(value);
  expectPeriodWithin(Number(printed![2]), expirySeconds, elapsed);
}

describe('quick-start examples (the README shows these files)', () => {
  it('memory.ts prints the value, then NotFound', async () => {
    const elapsed = stopwatch();
    const { stdout } = await run(tsx, [here('memory.ts')]);
    const printed = /^\{"user":"ada"\} expires in (\d+) s\n\{ ok: false, error: 'NotFound' \}\n$/.exec(stdout);
    expect(printed, stdout).not.toBeNull();
    expectPeriodWithin(Number(printed![1]), 604_800, elapsed);
  });

  it.skipIf(postgresSkipReason !== undefined)('postgres.ts stores, reads and clears a session', async () => {
    const table = `sk_example_${process.pid}`;
    const elapsed = stopwatch();
    const { stdout } = await run(tsx, [here('postgres.ts')], { env: { ...process.env, DATABASE_URL, SESSION_TABLE: table } });
    expectPrintedRead(stdout, `'{"cart":[42]}'`, 3600, elapsed);
    const pool = testPool(1);
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows).toEqual([{ n: 0 }]);
    await pool.query(`DROP TABLE "${table}"`);
    await pool.end();
  });

  it.skipIf(redisSkipReason !== undefined)('redis.ts stores, reads and clears a session', async () => {
    const prefix = `sk_example_${process.pid}:`;
    const elapsed = stopwatch();
    const { stdout } = await run(tsx, [here('redis.ts')], { env: { ...process.env, REDIS_URL, SESSION_PREFIX: prefix } });
    expectPrintedRead(stdout, `'{"userId":42}'`, 3600, elapsed);
    const redis = new Redis(REDIS_URL);
    expect(await redis.keys(`${prefix}*`)).toEqual([]);
    await redis.quit();
  });
});
