import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { dropTablesLike, postgresSkipReason, testPool } from '../../support/postgres.js';

const prefix = `sk_locks_${process.pid}_`;

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/**
 * Coalesced statements lock many rows at once. Two such statements that lock
 * the same rows in different orders deadlock (SQLSTATE 40P01), which would
 * fail every operation of both batches: rows must be locked in key order.
 */
describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL batches under contention', () => {
  const pool = testPool(10);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  it('overlapping set and clear batches from several instances never deadlock', async () => {
    const table = `${prefix}t`;
    const instances = Array.from({ length: 4 }, () => new PostgresBackend(pool, { table }));
    await instances[0]!.ensureSchema();
    // Enough rows that the planner reaches rows through the key index, in the order the batch lists them.
    await pool.query(`INSERT INTO "${table}" SELECT md5(i::text) || 'abcdefgh', now() + interval '1 hour', 'filler' FROM generate_series(1, 20000) AS i`);
    await pool.query(`ANALYZE "${table}"`);
    const keys = await Promise.all(Array.from({ length: 32 }, () => instances[0]!.generate({ value: '0' })));
    const failures: unknown[] = [];
    for (let round = 0; round < 40; round++) {
      // Each instance submits its operations in one tick, so each becomes one multi-row statement.
      await Promise.all(
        instances.flatMap((backend, i) =>
          shuffled(keys).map((key) =>
            (i === 3 && round % 4 === 3 ? backend.clear(key) : backend.set(key, `${round}:${i}`)).catch((error: unknown) => {
              failures.push(error);
            }),
          ),
        ),
      );
      if (round % 4 === 3) {
        keys.splice(0, keys.length, ...(await Promise.all(keys.map(() => instances[0]!.generate({ value: '0' })))));
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
