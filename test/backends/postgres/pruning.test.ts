import { afterAll, describe, expect, it, vi } from 'vitest';
import { PostgresBackend, postgresJsOptions } from '../../../src/backends/postgres/index.js';
import type { SessionEvent } from '../../../src/index.js';
import { stopwatch } from '../../support/elapsed.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool } from '../../support/postgres.js';

const prefix = `sk_prune_${process.pid}_`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` holds, checking every 50 ms; fails after `withinMs`. */
async function until(done: () => boolean | Promise<boolean>, withinMs: number): Promise<void> {
  const elapsed = stopwatch();
  while (!(await done())) {
    if (elapsed() * 1000 > withinMs) throw new Error(`not done within ${withinMs} ms`);
    await sleep(50);
  }
}

describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL pruning', () => {
  const pool = testPool();
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  const insertExpired = (table: string, count: number) =>
    pool.query(`INSERT INTO "${table}" SELECT md5(random()::text || i) || 'abcdefgh', now() - interval '1 minute', 'old' FROM generate_series(1, $1::int) AS i`, [count]);
  const countRows = async (table: string) => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0]!.n;

  /** A statement-level trigger records how many rows each DELETE statement removed (and can make each one take `sleepSeconds` longer). */
  const logDeleteStatements = async (table: string, sleepSeconds = 0) => {
    await pool.query(`CREATE TABLE "${table}_log" (at timestamptz DEFAULT clock_timestamp(), deleted int)`);
    await pool.query(`CREATE FUNCTION "${table}_count"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(${sleepSeconds}); INSERT INTO "${table}_log" (deleted) SELECT count(*) FROM old_rows; RETURN NULL; END $$`);
    await pool.query(`CREATE TRIGGER log_deletes AFTER DELETE ON "${table}" REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION "${table}_count"()`);
    return async () => (await pool.query<{ deleted: number }>(`SELECT deleted FROM "${table}_log" ORDER BY at`)).rows.map((row) => row.deleted);
  };
  const dropLogged = (table: string) => pool.query(`DROP TABLE "${table}"; DROP TABLE "${table}_log"; DROP FUNCTION "${table}_count"()`);

  it('purgeExpired deletes every expired row, batches growing from 100 to at most batchSize while statements are quick, and keeps live ones', async () => {
    const table = `${prefix}batches`;
    const backend = new PostgresBackend(pool, { table });
    await backend.ensureSchema();
    const deletedPerStatement = await logDeleteStatements(table);
    await insertExpired(table, 3000);
    const live = await Promise.all(Array.from({ length: 20 }, (_, i) => backend.generate({ value: `live ${i}` })));

    const progress: number[] = [];
    // A target no statement can miss: every batch doubles, up to batchSize.
    expect(await backend.purgeExpired({ batchSize: 1000, statementTargetMs: 1_000_000, onBatch: (deletedSoFar) => progress.push(deletedSoFar) })).toBe(3000);
    expect(progress).toEqual([100, 300, 700, 1500, 2500, 3000]);
    expect(await deletedPerStatement()).toEqual([100, 200, 400, 800, 1000, 500]);
    expect(await countRows(table)).toBe(20);
    for (const key of live) expect((await backend.get(key)).ok).toBe(true);
    expect(await backend.purgeExpired()).toBe(0);
    await dropLogged(table);
  });

  it('purgeExpired shrinks its batches when statements take longer than statementTargetMs, down to 10 rows', async () => {
    const table = `${prefix}slow`;
    const backend = new PostgresBackend(pool, { table });
    await backend.ensureSchema();
    // Every DELETE statement takes at least 10 ms: ten times the target, so the next batch is at most a tenth of the last.
    const deletedPerStatement = await logDeleteStatements(table, 0.01);
    await insertExpired(table, 155);
    expect(await backend.purgeExpired({ batchSize: 1000, statementTargetMs: 1 })).toBe(155);
    expect(await deletedPerStatement()).toEqual([100, 10, 10, 10, 10, 10, 5]);
    expect(await countRows(table)).toBe(0);
    // Nor does a shrunk batch ever exceed a batchSize under that floor.
    await insertExpired(table, 12);
    expect(await backend.purgeExpired({ batchSize: 4, statementTargetMs: 1 })).toBe(12);
    expect((await deletedPerStatement()).slice(7)).toEqual([4, 4, 4, 0]);
    await dropLogged(table);
  });

  it('a purge batch commits without waiting for its WAL flush, and the connection keeps its own synchronous_commit', async () => {
    const table = `${prefix}async`;
    const client = await pool.connect();
    try {
      const backend = new PostgresBackend(client, { table });
      await backend.ensureSchema();
      // What the purge statement's transaction sees when it ends (a statement-level trigger runs last).
      await client.query(`CREATE TABLE "${table}_seen" (setting text)`);
      await client.query(`CREATE FUNCTION "${table}_seen"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO "${table}_seen" VALUES (current_setting('synchronous_commit')); RETURN NULL; END $$`);
      await client.query(`CREATE TRIGGER seen AFTER DELETE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION "${table}_seen"()`);
      await insertExpired(table, 5);
      expect(await backend.purgeExpired()).toBe(5);
      expect((await client.query<{ setting: string }>(`SELECT setting FROM "${table}_seen"`)).rows).toEqual([{ setting: 'off' }]);
      expect((await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]!.synchronous_commit).toBe('on');
      await client.query(`DROP TABLE "${table}"; DROP TABLE "${table}_seen"; DROP FUNCTION "${table}_seen"()`);
    } finally {
      client.release();
    }
  });

  it('purgeExpired rejects a batchSize or statementTargetMs that is not a whole number >= 1 with a TypeError', async () => {
    const backend = new PostgresBackend(pool, { table: `${prefix}options` });
    for (const options of [{ batchSize: 0 }, { batchSize: 1.5 }, { statementTargetMs: 0 }, { statementTargetMs: Number.NaN }]) {
      await expect(backend.purgeExpired(options)).rejects.toThrow(TypeError);
    }
  });

  it('purgeExpired works on PGlite as well', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = new PGlite();
    // Loading PGlite's WebAssembly can outlast timeoutMs on a busy machine; that is not what this test is about.
    await db.waitReady;
    const backend = new PostgresBackend(db, { table: 'pruned' });
    await backend.ensureSchema();
    await db.query(`INSERT INTO pruned SELECT md5(i::text) || 'abcdefgh', now() - interval '1 s', NULL FROM generate_series(1, 300) AS i`);
    const key = await backend.generate({ value: 'live' });
    expect(await backend.purgeExpired({ batchSize: 128 })).toBe(300);
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'live' });
    await backend.close();
    await db.close();
  });

  it('purgeExpired and the interval pruner work on postgres.js as well', async () => {
    const { default: postgres } = await import('postgres');
    const sql = postgres(DATABASE_URL, { max: 4, onnotice: () => undefined });
    const table = `${prefix}postgresjs`;
    const errors: unknown[] = [];
    try {
      const backend = new PostgresBackend(sql, { table });
      await backend.ensureSchema();
      await insertExpired(table, 250);
      const key = await backend.generate({ value: 'live' });
      expect(await backend.purgeExpired({ batchSize: 64 })).toBe(250);
      expect(await backend.get(key)).toMatchObject({ ok: true, value: 'live' });

      const pruning = new PostgresBackend(sql, { table, pruneIntervalSeconds: 1, onEvent: (event) => event.type === 'error' && errors.push(event.error) });
      await insertExpired(table, 30);
      await until(async () => (await countRows(table)) === 1, 5000);
      expect(errors).toEqual([]);
      await pruning.close();
      await backend.close();
    } finally {
      await sql.end();
    }
  });

  it("the pruner works on a fresh postgres.js sql made with postgresJsOptions (its reserve() needs a connection a query left open)", async () => {
    const { default: postgres } = await import('postgres');
    const sql = postgres(DATABASE_URL, { ...postgresJsOptions({ silenceMs: 10_000 }), max: 2, onnotice: () => undefined });
    const table = `${prefix}postgresjs_options`;
    const errors: unknown[] = [];
    try {
      const setup = new PostgresBackend(pool, { table, pruneIntervalSeconds: false });
      await setup.ensureSchema();
      await insertExpired(table, 30);
      await setup.close();
      // The pruner's held connection is the first thing this sql is asked for.
      const pruning = new PostgresBackend(sql, { table, pruneIntervalSeconds: 1, onEvent: (event) => event.type === 'error' && errors.push(event.error) });
      await until(async () => (await countRows(table)) === 0, 5000);
      expect(errors).toEqual([]);
      await pruning.close();
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it('three instances on one table prune once per interval between them, and another takes over when the pruner leaves', async () => {
    const table = `${prefix}fleet`;
    const events: { instance: number; event: SessionEvent }[] = [];
    const start = (instance: number) =>
      new PostgresBackend(pool, { table, pruneIntervalSeconds: 1, onEvent: (event) => events.push({ instance, event }) });
    const sinceStart = stopwatch();
    const fleet = [start(0), start(1), start(2)];
    await fleet[0]!.ensureSchema();
    await insertExpired(table, 500);

    const prunedEvents = () => events.filter(({ event }) => event.type === 'pruned');
    await until(() => prunedEvents().length >= 3, 20_000);
    const pruned = prunedEvents();
    expect(events.filter(({ event }) => event.type === 'error')).toEqual([]);
    // One run per interval (at least 0.8 s apart with the ±20 % jitter) in all, not one per instance, and all by the same instance.
    expect(pruned.length).toBeLessThanOrEqual(Math.floor(sinceStart() / 0.8));
    const pruners = new Set(pruned.map(({ instance }) => instance));
    expect(pruners.size).toBe(1);
    expect(pruned.reduce((sum, { event }) => sum + (event.type === 'pruned' ? event.deletedCount : 0), 0)).toBe(500);
    expect(await countRows(table)).toBe(0);

    const [leader] = pruners;
    await fleet[leader!]!.close();
    events.length = 0;
    await insertExpired(table, 50);
    await until(() => prunedEvents().length > 0, 20_000);
    const successors = new Set(prunedEvents().map(({ instance }) => instance));
    expect(successors.size).toBe(1);
    expect(successors.has(leader!)).toBe(false);
    expect(await countRows(table)).toBe(0);
    await Promise.all(fleet.map((backend) => backend.close()));
  });

  it('pruning is on by default and turned off by false or 0; anything else that is not a whole number >= 1 is a TypeError', async () => {
    const table = `${prefix}defaults`;
    // A pruner schedules its first tick when the backend is made: 900 s ± 20 % by default, none when off.
    const firstTicksMs = (options: object) => {
      const spy = vi.spyOn(globalThis, 'setTimeout');
      try {
        void new PostgresBackend(pool, { table, ...options }).close();
        return spy.mock.calls.map(([, delayMs]) => delayMs ?? 0);
      } finally {
        spy.mockRestore();
      }
    };
    const [byDefault] = firstTicksMs({});
    expect(byDefault).toBeGreaterThanOrEqual(720_000);
    expect(byDefault).toBeLessThanOrEqual(1_080_000);
    expect(firstTicksMs({ pruneIntervalSeconds: false })).toEqual([]);
    expect(firstTicksMs({ pruneIntervalSeconds: 0 })).toEqual([]);
    for (const off of [false, 0] as const) expect(() => new PostgresBackend(pool, { table, pruneIntervalSeconds: off })).not.toThrow();
    for (const bad of [-1, 1.5, true, '60', Number.NaN]) {
      expect(() => new PostgresBackend(pool, { table, pruneIntervalSeconds: bad as never })).toThrow(TypeError);
    }
    // With the default, a pool of one connection simply does not prune.
    const tiny = testPool(1);
    expect(() => new PostgresBackend(tiny, { table })).not.toThrow();
    await tiny.end();
  });

  it('a pool of one connection cannot also hold the pruning lock: TypeError at setup', () => {
    const tiny = testPool(1);
    expect(() => new PostgresBackend(tiny, { table: `${prefix}tiny`, pruneIntervalSeconds: 60 })).toThrow(TypeError);
    return tiny.end();
  });
});
