import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../../support/postgres.js';

const prefix = `sk_olock_${process.pid}_`;

// A login of an owner waits for the owner's lock, in the transaction of its own statement: held elsewhere past the
// login's deadline, the wait is ended by the server's bound, and the login answers "not stored" (a timeout), truly.
describe.skipIf(postgresSkipReason !== undefined)(`the owner's lock${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const pool = testPool(4);
  const sql = postgres(DATABASE_URL, { max: 4, onnotice: () => undefined });
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await Promise.all([pool.end(), sql.end()]);
  });

  for (const [driver, db] of [
    ['pg Pool', pool],
    ['postgres.js', sql],
  ] as const) {
    it(`${driver}: a login blocked by the owner's lock past its deadline rejects with a timeout, stores nothing, and logs in once the lock is free`, async () => {
      const table = uniqueTable('olock').replace(/^sk_olock_/, prefix);
      const backend = new PostgresBackend(db, { table, timeoutMs: 1000, pruneIntervalSeconds: false });
      await backend.ensureSchema();
      const holder = await pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock(hashtext($1::text), hashtext($2::text))', [backend.table, 'ada']);
        const started = performance.now();
        await expect(backend.generate({ owner: 'ada', value: 'blocked' })).rejects.toMatchObject({ name: 'BackendError', code: 'timeout' });
        expect(performance.now() - started).toBeLessThan(2 * 1000);
        // Another owner's login does not wait for ada's lock.
        expect(await backend.listByOwner('bob')).toEqual([]);
        await backend.generate({ owner: 'bob', value: 'free' });
        await holder.query('COMMIT');
      } finally {
        holder.release();
      }
      expect(await backend.listByOwner('ada')).toEqual([]);
      const key = await backend.generate({ owner: 'ada', value: 'after' });
      expect(await backend.get(key)).toMatchObject({ ok: true, value: 'after' });
      expect(await backend.listByOwner('bob')).toHaveLength(1);
      await backend.close();
    });
  }
});
