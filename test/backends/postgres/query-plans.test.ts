import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementsFor } from '../../../src/backends/postgres/statements.js';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { dropTablesLike, postgresSkipReason, testPool } from '../../support/postgres.js';

const prefix = `sk_plans_${process.pid}_`;
const table = `${prefix}t`;

/**
 * The PostgreSQL trap in docs/architecture.md ("Storage: PostgreSQL"): a text parameter compared with the char(40) column
 * casts the column and turns a keyed lookup into a sequential scan. The
 * backend's statements must reach rows through the key index.
 */
describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL query plans', () => {
  const pool = testPool(2);
  const statements = statementsFor(`"${table}"`, 'unused');
  const keys = Array.from({ length: 8 }, (_, i) => `key${i}`.padEnd(40, 'x'));

  beforeAll(async () => {
    await new PostgresBackend(pool, { table }).ensureSchema();
    await pool.query(
      `INSERT INTO "${table}" SELECT md5(i::text) || 'abcdefgh', now() + interval '1 day', repeat('v', 100) FROM generate_series(1, 50000) AS i`,
    );
    await pool.query(`ANALYZE "${table}"`);
  });
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  const plan = async (sql: string, params: unknown[]) => {
    const client = await pool.connect();
    try {
      // A generic plan is what a prepared statement settles on after five runs.
      await client.query('SET plan_cache_mode = force_generic_plan');
      await client.query(`PREPARE probe AS ${sql}`);
      // EXECUTE inside EXPLAIN takes no bind parameters: pass them as literals.
      const literal = (value: unknown): string =>
        Array.isArray(value) ? `ARRAY[${value.map(literal).join(', ')}]` : typeof value === 'number' ? String(value) : client.escapeLiteral(String(value));
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE probe(${params.map(literal).join(', ')})`);
      return JSON.stringify(rows[0]['QUERY PLAN']);
    } finally {
      await client.query('DEALLOCATE ALL');
      await client.query('RESET plan_cache_mode');
      client.release();
    }
  };

  it('every keyed statement uses the key index and owner statements the owner index, never a sequential scan', async () => {
    const plans = {
      getMany: await plan(statements.getMany.text, [keys]),
      // A write's last parameter is its write token.
      setMany: await plan(statements.tokened.setMany.text, [keys, keys.map(() => 60), keys.map(() => 'v'), 'token']),
      clearMany: await plan(statements.clearMany.text, [keys]),
      compareAndSetOne: await plan(statements.tokened.compareAndSetOne.text, [keys[0], 'a', 'b', 60, 'token']),
      compareAndSetMany: await plan(statements.tokened.compareAndSetMany.text, [keys, keys, keys, keys.map(() => 60), 'token']),
      getOne: await plan(statements.getOne.text, [keys[0]]),
      setOne: await plan(statements.tokened.setOne.text, [keys[0], 60, 'v', 'token']),
      setOneWithoutTokens: await plan(statements.tokenless.setOne.text, [keys[0], 60, 'v', 'token']),
      clearOne: await plan(statements.clearOne.text, [keys[0]]),
      readTokens: await plan(statements.tokened.readTokens.text, [keys, 'token']),
      listByOwner: await plan(statements.listByOwnerPage.text, ['ada', '-infinity', '', 1000]),
      clearByOwner: await plan(statements.clearByOwnerBatch.text, ['ada', keys[0], 1000]),
      purgeBatch: await plan(statements.purgeBatch.text, [1000, '-infinity']),
    };
    for (const [name, text] of Object.entries(plans)) {
      expect(text, name).toMatch(name.endsWith('ByOwner') ? /_owner_idx/ : name === 'purgeBatch' ? /_expire_date_idx/ : /_pkey/);
      expect(text, name).not.toMatch(new RegExp(`"Seq Scan"[^}]*"Relation Name":"${table}"`));
    }
  });

  it('the trap is real: a text parameter makes the same lookup a sequential scan', async () => {
    const text = await plan(`SELECT 1 FROM "${table}" WHERE session_key::text = $1::text`, [keys[0]]);
    expect(text).toMatch(/Seq Scan/);
  });
});
