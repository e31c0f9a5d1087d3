import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { dropTablesLike, postgresSkipReason, testPool } from '../../support/postgres.js';

const prefix = `sk_fanout_${process.pid}_`;
// 200,000 by default (about 30 s here); SESSIONKIT_FANOUT_SESSIONS=1000000 runs the million (about 150 s on a loaded 2-core machine).
const SESSIONS = Number(process.env.SESSIONKIT_FANOUT_SESSIONS ?? 200_000);

/**
 * Owner fan-out in bounded steps: listing and logging out an owner with
 * hundreds of thousands of sessions (a million with the variable above)
 * finishes, each statement within timeoutMs, however long the whole takes.
 */
describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL owner fan-out', () => {
  const pool = testPool(4);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  it(`listByOwner and clearByOwner finish for an owner with ${SESSIONS} sessions, in steps each within timeoutMs`, async () => {
    const table = `${prefix}big`;
    // No limit: the owner holds far more sessions than the default maxSessionsPerOwner, as one did before it existed.
    const backend = new PostgresBackend(pool, { table, timeoutMs: 1000, pruneIntervalSeconds: false, maxSessionsPerOwner: false });
    await backend.ensureSchema();
    await pool.query(
      `INSERT INTO "${table}" (session_key, expire_date, session_data, owner, created_at)
       SELECT left(md5(i::text) || md5(i::text), 40), now() + interval '1 day', 'v', 'many', now() - i * interval '1 ms'
         FROM generate_series(1, $1::int) AS i`,
      [SESSIONS],
    );
    const other = await backend.generate({ value: 'kept', owner: 'someone else' });
    const keep = await backend.generate({ value: 'this device', owner: 'many' });
    await pool.query(`ANALYZE "${table}"`);

    const listed = await backend.listByOwner('many');
    expect(listed).toHaveLength(SESSIONS + 1);
    expect(new Set(listed.map((session) => session.keyDigest)).size).toBe(SESSIONS + 1);

    expect(await backend.clearByOwner('many', { except: keep })).toBe(SESSIONS);
    expect(await backend.listByOwner('many')).toHaveLength(1);
    expect(await backend.get(keep)).toMatchObject({ ok: true, value: 'this device' });
    expect(await backend.get(other)).toMatchObject({ ok: true, value: 'kept' });
    await backend.close();
  }, 600_000);
});
