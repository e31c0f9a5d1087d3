import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend, ocamlSessionSchemaSql } from '../../../src/backends/postgres/index.js';
import { digestKey } from '../../../src/index.js';
import { dropTablesLike, postgresSkipReason, testPool } from '../../support/postgres.js';

const prefix = `sk_schema_${process.pid}_`;

describe.skipIf(postgresSkipReason !== undefined)('PostgresBackend schema and storage', () => {
  const pool = testPool();
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  it('ensureSchema is idempotent and safe when ten callers race', async () => {
    const table = `${prefix}race`;
    const backends = Array.from({ length: 10 }, () => new PostgresBackend(pool, { table }));
    await Promise.all(backends.map((backend) => backend.ensureSchema()));
    await backends[0]!.ensureSchema();
    const { rows: columns } = await pool.query(
      `SELECT column_name, data_type, character_maximum_length, datetime_precision FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    expect(columns).toEqual([
      { column_name: 'session_key', data_type: 'character', character_maximum_length: 40, datetime_precision: null },
      { column_name: 'expire_date', data_type: 'timestamp with time zone', character_maximum_length: null, datetime_precision: 2 },
      { column_name: 'session_data', data_type: 'text', character_maximum_length: null, datetime_precision: null },
      { column_name: 'owner', data_type: 'text', character_maximum_length: null, datetime_precision: null },
      { column_name: 'created_at', data_type: 'timestamp with time zone', character_maximum_length: null, datetime_precision: 6 },
      { column_name: 'write_tokens', data_type: 'ARRAY', character_maximum_length: null, datetime_precision: null },
    ]);
    const { rows: indexes } = await pool.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`, [table]);
    expect(indexes.map((row) => row.indexdef.replace(/^.* USING /, ''))).toEqual([
      'btree (expire_date)',
      'btree (owner, created_at) WHERE (owner IS NOT NULL)',
      'btree (session_key)',
    ]);
    const { rows: primary } = await pool.query(`SELECT 1 FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`, [`"${table}"`]);
    expect(primary).toHaveLength(1);
  });

  it('a table with ocaml-session columns only works for everything but owners, which say clearly that they need the migration', async () => {
    const table = `${prefix}seed`;
    await pool.query(ocamlSessionSchemaSql(`"${table}"`));
    const backend = new PostgresBackend(pool, { table });
    const key = await backend.generate({ value: 'seeded' });
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'seeded' });
    for (const attempt of [backend.generate({ owner: 'ada' }), backend.listByOwner('ada'), backend.clearByOwner('ada')]) {
      await expect(attempt).rejects.toMatchObject({ name: 'BackendError', code: 'schema_outdated', message: expect.stringMatching(/ensureSchema|migrate/) });
    }
    // The migration is additive: the rows and ocaml-session's index stay, owner features start working.
    await backend.ensureSchema();
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'seeded' });
    const owned = await backend.generate({ owner: 'ada', value: 'mine' });
    expect(await backend.listByOwner('ada')).toHaveLength(1);
    expect(await backend.get(owned)).toMatchObject({ ok: true, value: 'mine' });
    const { rows } = await pool.query(`SELECT indexname FROM pg_indexes WHERE tablename = $1 AND indexname = $2`, [table, `${table}_key_idx`]);
    expect(rows).toHaveLength(1);
  });

  it.each(['session"; DROP TABLE x; --', 'a b', "o'brien", 'x;y', '', 'a.b.c', '1abc', 'x'.repeat(64)])('table name %j is a TypeError, never SQL', (table) => {
    expect(() => new PostgresBackend(pool, { table })).toThrow(TypeError);
  });

  it('accepts a schema-qualified name and a reserved word', async () => {
    const backend = new PostgresBackend(pool, { table: `public.${prefix}user` });
    await backend.ensureSchema();
    const key = await backend.generate({ value: 'v' });
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'v' });
  });

  it('stores a digest of each key by default, and the key itself with hashKeys: false', async () => {
    const hashedTable = `${prefix}hashed`;
    const plainTable = `${prefix}plain`;
    const hashed = new PostgresBackend(pool, { table: hashedTable });
    const plain = new PostgresBackend(pool, { table: plainTable, hashKeys: false });
    await Promise.all([hashed.ensureSchema(), plain.ensureSchema()]);
    const hashedKey = await hashed.generate({ value: 'secret' });
    const plainKey = await plain.generate({ value: 'secret' });
    const { rows: hashedRows } = await pool.query(`SELECT session_key FROM "${hashedTable}"`);
    const { rows: plainRows } = await pool.query(`SELECT session_key FROM "${plainTable}"`);
    expect(hashedRows).toEqual([{ session_key: digestKey(hashedKey) }]);
    expect(hashedRows[0].session_key).not.toBe(hashedKey);
    expect(plainRows).toEqual([{ session_key: plainKey }]);
    // A dump of the hashed table is useless as a cookie.
    expect(await hashed.get(hashedRows[0].session_key)).toEqual({ ok: false, error: 'NotFound' });
  });

  it('close() leaves a pool the caller passed in usable', async () => {
    const table = `${prefix}close`;
    const backend = new PostgresBackend(pool, { table });
    await backend.ensureSchema();
    await backend.close();
    await expect(backend.get('x'.repeat(40))).rejects.toMatchObject({ name: 'BackendError', code: 'closed' });
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('a write refused for a missing table works on the same connection once the table exists (its statement is parsed again)', async () => {
    const table = `${prefix}late`;
    const single = testPool(1);
    try {
      const backend = new PostgresBackend(single, { table, pruneIntervalSeconds: false });
      const key = 'k'.repeat(40);
      await expect(backend.clear(key)).rejects.toMatchObject({ name: 'BackendError', code: 'schema_missing' });
      await backend.ensureSchema();
      await backend.put(key, 'now there', { expiry: 60 });
      await expect(backend.clear(key)).resolves.toBeUndefined();
      expect(await backend.get(key)).toMatchObject({ ok: false });
      await backend.close();
    } finally {
      await single.end();
    }
  });
});
