import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresBackend, ocamlSessionSchemaSql } from '../../../src/backends/postgres/index.js';
import { digestKey, generateKey, type SessionEvent } from '../../../src/index.js';
import { dropTablesLike, postgresSkipReason, testPool } from '../../support/postgres.js';

const prefix = `sk_put_${process.pid}_`;

describe.skipIf(postgresSkipReason !== undefined)('PostgresBackend.put on a PostgreSQL server', () => {
  const pool = testPool();
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  it('stores the digest of the key, never the key, and clears a replaced row\'s owner', async () => {
    const table = `${prefix}hashed`;
    const backend = new PostgresBackend(pool, { table });
    await backend.ensureSchema();
    const key = await backend.generate({ owner: 'ada', value: 'owned' });
    await backend.put(key, 'replaced');
    const foreign = generateKey().slice(0, 32);
    await backend.put(foreign, 'new');
    const { rows } = await pool.query<{ key: string; owner: string | null; value: string }>(
      `SELECT trim(session_key) AS key, owner, session_data AS value FROM "${table}" ORDER BY session_data`,
    );
    expect(rows).toEqual([
      { key: digestKey(foreign), owner: null, value: 'new' },
      { key: digestKey(key), owner: null, value: 'replaced' },
    ]);
    await backend.close();
  });

  it("on ocaml-session's table (no unique index on session_key) rejects with schema_outdated, reported as an error event", async () => {
    const table = `${prefix}seed`;
    await pool.query(ocamlSessionSchemaSql(`"${table}"`));
    const events: SessionEvent[] = [];
    const backend = new PostgresBackend(pool, { table, onEvent: (event) => events.push(event) });
    await expect(backend.put(generateKey(), 'v')).rejects.toMatchObject({ name: 'BackendError', code: 'schema_outdated' });
    expect(events).toMatchObject([{ type: 'error', during: 'put', error: { code: 'schema_outdated' } }]);
    const { rows } = await pool.query(`SELECT 1 FROM "${table}"`);
    expect(rows).toHaveLength(0);
    await backend.close();
  });
});

describe('PostgresBackend.put on PGlite', () => {
  const db = new PGlite();
  // Starting PGlite (compiling its WebAssembly) is not an operation: keep it out of timeoutMs.
  beforeAll(() => db.waitReady, 60_000);
  afterAll(() => db.close());

  it('creates, replaces and removes under a caller-chosen key', async () => {
    const backend = new PostgresBackend(db, { table: 'put_pglite' });
    await backend.ensureSchema();
    const key = generateKey().slice(0, 24);
    await backend.put(key, 'a');
    await backend.put(key, 'b', { expiry: 60 });
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'b', period: 60 });
    await backend.put(key, 'c', { expiry: 0 });
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
    await backend.close();
  });
});
