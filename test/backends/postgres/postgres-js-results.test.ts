import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../../support/postgres.js';

const prefix = `sk_pgjs_rows_${process.pid}_`;

/**
 * postgres.js 3.4 resets its per-connection row count only when a statement
 * completes. A statement that fails after sending rows (here: an error on the
 * third row) leaves the next result on that connection with empty slots before
 * its first row. An app shares its `sql` with the backend, so any of its
 * statements can leave them; the backend's reads and writes must not see them.
 */
describe.skipIf(postgresSkipReason !== undefined)(`postgres.js results after a statement that failed part-way through its rows${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const admin = testPool(2);
  // One connection: the app's failed statement and the backend's next one share it.
  const sql = postgres(DATABASE_URL, { max: 1, fetch_types: false, onnotice: () => undefined });
  afterAll(async () => {
    await sql.end();
    await dropTablesLike(admin, prefix);
    await admin.end();
  });
  const failPartWay = () => sql.unsafe('SELECT CASE WHEN g < 3 THEN g ELSE 1 / (g - 3) END AS v FROM generate_series(1, 5) AS g').then(
    () => expect.unreachable('the third row divides by zero'),
    (error: unknown) => expect((error as { code?: string }).code).toBe('22012'),
  );

  it('the driver does leave the empty slots (the defect this guards against)', async () => {
    await failPartWay();
    const rows = await sql.unsafe('SELECT 1 AS x');
    expect(rows.length).toBe(3);
    expect([...rows]).toEqual([undefined, undefined, { x: 1 }]);
  });

  it('get, set, compareAndSet, countLive and liveSessions answer as if the failed statement had not run', async () => {
    const table = uniqueTable(prefix);
    const backend = new PostgresBackend(sql, { table, timeoutMs: 2000, pruneIntervalSeconds: false });
    await backend.ensureSchema();
    const key = await backend.generate({ value: 'one' });
    const other = await backend.generate({ value: 'two' });

    await failPartWay();
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'one' });
    await failPartWay();
    await backend.set(key, 'three');
    await failPartWay();
    expect(await backend.compareAndSet(other, 'two', 'four')).toBe('ok');
    await failPartWay();
    expect(await backend.countLive()).toBe(2);
    await failPartWay();
    const live = [];
    for await (const session of backend.liveSessions()) live.push(session.value);
    expect(live.sort()).toEqual(['four', 'three']);
    await backend.close();
  });
});
