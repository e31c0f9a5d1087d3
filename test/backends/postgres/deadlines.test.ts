import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { digestKey } from '../../../src/core/keys.js';
import { settleTimed } from '../../support/elapsed.js';
import { dropTablesLike, postgresSkipReason, testPool } from '../../support/postgres.js';

const prefix = `sk_deadline_${process.pid}_`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * "Timed out" means "did not happen": an operation past its timeoutMs is never
 * applied afterwards, whether it waited for a row lock on the server or for a
 * connection in the pool's queue.
 */
describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL deadlines end work', () => {
  const pool = testPool(4);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  it('a set blocked by a row lock held past its timeoutMs times out and is not applied when the lock is released', async () => {
    const table = `${prefix}row_lock`;
    const backend = new PostgresBackend(pool, { table, timeoutMs: 2000, pruneIntervalSeconds: false });
    await backend.ensureSchema();
    const key = await backend.generate({ value: 'old' });
    const swapKey = await backend.generate({ value: 'old' });
    const clearKey = await backend.generate({ value: 'old' });
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${table}" WHERE session_key = ANY($1::char(40)[]) FOR UPDATE`, [[key, swapKey, clearKey].map(digestKey)]);
      const outcomes = await Promise.all([
        settleTimed(backend.set(key, 'late')),
        settleTimed(backend.compareAndSet(swapKey, 'old', 'late')),
        settleTimed(backend.clear(clearKey)),
      ]);
      for (const outcome of outcomes) {
        expect(outcome.error).toMatchObject({ name: 'BackendError', code: 'timeout' });
        expect(outcome.ms).toBeLessThan(2000 + 500 + outcome.lagMs);
      }
      // The lock is held 4 s in all.
      await sleep(4000 - 2000);
    } finally {
      await holder.query('COMMIT');
      holder.release();
    }
    await sleep(300);
    for (const k of [key, swapKey, clearKey]) expect(await backend.get(k)).toMatchObject({ ok: true, value: 'old' });
  }, 20_000);

  it('with every pool connection held, timed-out sets waiting for a connection are never sent later', async () => {
    const table = `${prefix}full_pool`;
    const backend = new PostgresBackend(pool, { table, timeoutMs: 1000, pruneIntervalSeconds: false });
    await backend.ensureSchema();
    const keys = await Promise.all(Array.from({ length: 32 }, (_, i) => backend.generate({ value: `old ${i}` })));
    const held = await Promise.all(Array.from({ length: 4 }, () => pool.connect()));
    let outcomes;
    try {
      // Separate ticks, so they are separate statements rather than one batch.
      const pending = [];
      for (const [i, key] of keys.entries()) {
        pending.push(settleTimed(backend.set(key, `late ${i}`)));
        await new Promise((resolve) => setImmediate(resolve));
      }
      outcomes = await Promise.all(pending);
    } finally {
      for (const client of held) client.release();
    }
    for (const outcome of outcomes) expect(outcome.error).toMatchObject({ name: 'BackendError', code: 'timeout' });
    await sleep(500);
    const reads = await Promise.all(keys.map((key) => backend.get(key)));
    expect(reads.map((read) => (read.ok ? read.value : read))).toEqual(keys.map((_, i) => `old ${i}`));
  }, 20_000);
});
