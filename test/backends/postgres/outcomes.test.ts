import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { digestKey } from '../../../src/core/keys.js';
import type { BackendError } from '../../../src/index.js';
import { settleTimed, type TimedOutcome } from '../../support/elapsed.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool } from '../../support/postgres.js';

const prefix = `sk_outcome_${process.pid}_`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Driver = 'pg' | 'postgres.js';

/** A pool of 10 on the driver named, and how to end it. */
async function poolFor(driver: Driver, applicationName: string): Promise<{ db: pg.Pool | import('postgres').Sql; end: () => Promise<void> }> {
  if (driver === 'pg') {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, application_name: applicationName });
    pool.on('error', () => undefined);
    return { db: pool, end: () => pool.end() };
  }
  const { default: postgres } = await import('postgres');
  const sql = postgres(DATABASE_URL, { max: 10, onnotice: () => undefined, connection: { application_name: applicationName } });
  return { db: sql, end: () => sql.end({ timeout: 1 }) };
}

/**
 * Every outcome is true: a write that rejects was not stored, and will not be
 * stored later; one that resolves was stored once.
 */
describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL write outcomes', () => {
  const admin = testPool(4);
  afterAll(async () => {
    await dropTablesLike(admin, prefix);
    await admin.end();
  });

  for (const driver of ['pg', 'postgres.js'] as const) {
    it(`${driver}: writes queued on a row lock held past their timeoutMs all reject timeout, and none lands when the lock goes`, async () => {
      const table = `${prefix}row_lock_${driver === 'pg' ? 'pg' : 'pgjs'}`;
      const { db, end } = await poolFor(driver, `${prefix}lock`);
      try {
        const backend = new PostgresBackend(db, { table, timeoutMs: 2000, pruneIntervalSeconds: false });
        await backend.ensureSchema();
        const key = await backend.generate({ value: 'old' });
        const locker = await admin.connect();
        let outcomes: TimedOutcome<unknown>[];
        try {
          await locker.query('BEGIN');
          await locker.query(`SELECT 1 FROM "${table}" WHERE session_key = $1::char(40) FOR UPDATE`, [digestKey(key)]);
          const first = settleTimed<unknown>(backend.compareAndSet(key, 'old', 'first swap'));
          await sleep(20);
          const second = settleTimed<unknown>(backend.compareAndSet(key, 'old', 'second swap'));
          await sleep(20);
          const put = settleTimed<unknown>(backend.put(key, 'put'));
          outcomes = await Promise.all([first, second, put]);
          await sleep(Math.max(0, 2800 - 40 - Math.max(...outcomes.map((outcome) => outcome.ms))));
        } finally {
          await locker.query('COMMIT');
          locker.release();
        }
        for (const outcome of outcomes) {
          expect(outcome.error).toMatchObject({ name: 'BackendError', code: 'timeout' });
          // It had been sent: the message must not say it was queued.
          expect((outcome.error as BackendError).message).not.toMatch(/queued/);
          expect(outcome.ms).toBeLessThan(2000 + 500 + outcome.lagMs);
        }
        // Time for anything still waiting on the server to land, if it could.
        await sleep(1000);
        expect(await backend.get(key)).toMatchObject({ ok: true, value: 'old' });
        await backend.close();
      } finally {
        await end();
      }
    }, 30_000);
  }

  for (const driver of ['pg', 'postgres.js'] as const) {
  it(`${driver}: under pg_terminate_backend rounds, 32 compare-and-set increment loops store every ok once and no rejected write`, async () => {
    const table = `${prefix}terminated_${driver === 'pg' ? 'pg' : 'pgjs'}`;
    const applicationName = `${prefix}victim_${driver === 'pg' ? 'pg' : 'pgjs'}`;
    const { db, end } = await poolFor(driver, applicationName);
    const backend = new PostgresBackend(db, { table, timeoutMs: 2000, pruneIntervalSeconds: false });
    try {
      await backend.ensureSchema();
      // Four loops per key: writes of one key race, so a settled write's token may already have later ones after it.
      const keys = await Promise.all(Array.from({ length: 8 }, () => backend.generate({ value: '0' })));
      const acknowledged = new Map(keys.map((key) => [key, 0]));
      const indeterminate = new Map(keys.map((key) => [key, 0]));
      const failures = new Map<string, number>();
      let running = true;
      const loop = async (key: string) => {
        while (running) {
          const read = await backend.get(key).catch(() => undefined);
          if (read === undefined || !read.ok || read.value === null) continue;
          try {
            const answer = await backend.compareAndSet(key, read.value, String(Number(read.value) + 1));
            if (answer === 'ok') acknowledged.set(key, acknowledged.get(key)! + 1);
          } catch (error) {
            const code = (error as BackendError).code;
            failures.set(code, (failures.get(code) ?? 0) + 1);
            if (code === 'indeterminate') indeterminate.set(key, indeterminate.get(key)! + 1);
          }
        }
      };
      const loops = Array.from({ length: 32 }, (_, i) => loop(keys[i % keys.length]!));
      let terminated = 0;
      for (let round = 0; round < 8; round++) {
        await sleep(250);
        const { rows } = await admin.query<{ count: number }>(
          'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS count FROM pg_stat_activity WHERE application_name = $1',
          [applicationName],
        );
        terminated += rows[0]!.count;
      }
      await sleep(250);
      running = false;
      await Promise.all(loops);
      expect(terminated).toBeGreaterThan(0);
      for (const key of keys) {
        const stored = Number(((await backend.get(key)) as { value: string }).value);
        // Each acknowledged increment is stored once; a rejected one never; an indeterminate one at most once.
        expect(stored, `key ${key}: ${JSON.stringify(Object.fromEntries(failures))}`).toBeGreaterThanOrEqual(acknowledged.get(key)!);
        expect(stored, `key ${key}: ${JSON.stringify(Object.fromEntries(failures))}`).toBeLessThanOrEqual(acknowledged.get(key)! + indeterminate.get(key)!);
      }
    } finally {
      await backend.close();
      await end();
    }
  }, 60_000);
  }
});
