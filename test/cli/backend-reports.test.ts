import pg from 'pg';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend, ocamlSessionSchemaSql } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { digestKey } from '../../src/core/keys.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { deleteKeysWithPrefix, redisSkipReason, testClient, uniquePrefix } from '../support/redis-env.js';

// What the sessionkit command asks the backends (it has no query of its own), on each driver it could be given.
const prefix = `sk_reports_${process.pid}_`;
const table = () => uniqueTable('reports').replace(/^sk_reports_/, prefix);

describe.skipIf(postgresSkipReason !== undefined)('PostgresBackend reports for operators', () => {
  const pool = testPool(4);
  const notices: unknown[] = [];
  const sql = postgres(DATABASE_URL, { max: 4, onnotice: (notice) => notices.push(notice) });
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await Promise.all([pool.end(), sql.end()]);
  });

  describe.each([
    ['pg Pool', () => pool],
    ['postgres.js', () => sql],
  ] as const)('on %s', (_, database) => {
    it('describeTable, counts, sessions per owner, sizes and a session\'s owner, as numbers and dates', async () => {
      const name = table();
      const backend = new PostgresBackend(database(), { table: name, pruneIntervalSeconds: false });
      expect(await backend.describeTable()).toEqual({ exists: false, columns: [], indexes: [], empty: true });
      await backend.ensureSchema();
      const described = await backend.describeTable();
      expect(described).toEqual({ exists: true, columns: ['session_key', 'expire_date', 'session_data', 'owner', 'created_at', 'write_tokens'], indexes: expect.any(Array), empty: true });
      expect(described.indexes).toEqual([`${name}_expire_date_idx`, `${name}_owner_idx`, `${name}_pkey`]);
      expect(await backend.hasOwnerColumns()).toBe(true);

      const owned = await Promise.all([backend.generate({ owner: 'ada' }), backend.generate({ owner: 'ada' }), backend.generate({ owner: 'bob' })]);
      const plain = await backend.generate({ value: 'x' });
      await backend.generate({ expiry: 1 });
      await pool.query(`INSERT INTO "${name}" (session_key, expire_date, session_data) VALUES (repeat('e', 40), now() - interval '1 hour', 'old'), (repeat('f', 40), now() - interval '1 hour', 'old')`);
      expect((await backend.describeTable()).empty).toBe(false);
      expect(await backend.countLive()).toBe(5);
      expect(await backend.countExpired()).toBe(2);
      expect(await backend.sessionsPerOwner()).toEqual({ owners: 2, sessionsWithOwner: 3, p50: 1, p90: 2, p99: 2, max: 2 });
      const sizes = await backend.storageBytes();
      for (const bytes of Object.values(sizes)) expect(typeof bytes === 'number' && bytes > 0).toBe(true);
      expect(sizes.totalBytes).toBe(sizes.tableBytes + sizes.indexBytes);

      const ada = await backend.sessionOwner(owned[0]!);
      expect(ada).toEqual({ owner: 'ada', createdAt: expect.any(Date) });
      expect(Math.abs(ada!.createdAt!.getTime() - Date.now())).toBeLessThan(60_000);
      expect(await backend.sessionOwner(plain)).toMatchObject({ owner: null });
      expect(await backend.sessionOwner('nosuchsession')).toBeUndefined();
      expect(await backend.sessionOwner('not a key!')).toBeUndefined();
      await backend.close();
    });
  });

  it("on ocaml-session's table: no owner columns, and what needs them says schema_outdated", async () => {
    const name = table();
    await pool.query(ocamlSessionSchemaSql(`"${name}"`));
    const backend = new PostgresBackend(pool, { table: name, pruneIntervalSeconds: false });
    expect(await backend.hasOwnerColumns()).toBe(false);
    expect((await backend.describeTable()).columns).toEqual(['session_key', 'expire_date', 'session_data']);
    await expect(backend.sessionsPerOwner()).rejects.toMatchObject({ code: 'schema_outdated' });
    await expect(backend.sessionOwner('abc')).rejects.toMatchObject({ code: 'schema_outdated' });
  });

  it('ensureSchema sends no NOTICE, on a new table or an existing one (postgres.js prints each one by default)', async () => {
    const backend = new PostgresBackend(sql, { table: table(), pruneIntervalSeconds: false });
    notices.length = 0;
    await backend.ensureSchema();
    await backend.ensureSchema();
    expect(notices).toEqual([]);
    // Notices are silenced for this DDL only: the connection still reports others.
    await sql`DO $$ BEGIN RAISE NOTICE 'still heard'; END $$`;
    expect(notices).toEqual([expect.objectContaining({ message: 'still heard' })]);
  });

  it("a failure the server explains carries its words: a missing database names itself", async () => {
    const url = new URL(DATABASE_URL);
    url.pathname = `/${prefix}no_such_database`;
    const missing = new pg.Pool({ connectionString: url.href, max: 1 });
    missing.on('error', () => undefined);
    try {
      const backend = new PostgresBackend(missing, { table: 'session', pruneIntervalSeconds: false });
      await expect(backend.ensureSchema()).rejects.toMatchObject({
        code: 'query_failed',
        message: `PostgreSQL failed ensureSchema (SQLSTATE 3D000: database "${prefix}no_such_database" does not exist)`,
      });
    } finally {
      await missing.end();
    }
  });
});

describe.skipIf(redisSkipReason !== undefined)('RedisBackend reports for operators', () => {
  const client = testClient();
  const prefixes: string[] = [];
  const newPrefix = () => {
    const made = uniquePrefix('reports');
    prefixes.push(made);
    return made;
  };
  afterAll(async () => {
    for (const made of prefixes) await deleteKeysWithPrefix(client, made);
    await client.quit();
  });

  it('countLive, liveSessions and storageBytes see sessions only: a set under the prefix is neither counted nor a failure', async () => {
    const backend = new RedisBackend(client, { prefix: newPrefix() });
    await Promise.all([backend.generate({ value: 'a' }), backend.generate({ value: 'b' }), backend.generate({ owner: 'ada' })]);
    await client.sadd(`${backend.prefix}{a-set}`, 'x');
    expect(await backend.countLive()).toBe(3);
    const values: (string | null)[] = [];
    for await (const session of backend.liveSessions()) values.push(session.value);
    expect(values.sort()).toEqual(['a', 'b', null]);
    const { sessionCount, sessionBytes, serverUsedMemoryBytes } = await backend.storageBytes();
    expect(sessionCount).toBe(3);
    expect(sessionBytes).toBeGreaterThan(0);
    expect(serverUsedMemoryBytes).toBeGreaterThan(sessionBytes);
  });

  it("sessionOwner: the owner's digest and creation time, null without owner, undefined without a live session", async () => {
    const backend = new RedisBackend(client, { prefix: newPrefix() });
    const startedMs = Date.now();
    const owned = await backend.generate({ owner: 'ada' });
    const plain = await backend.generate();
    const found = await backend.sessionOwner(owned);
    expect(found).toEqual({ ownerDigest: digestKey('ada'), createdAt: expect.any(Date) });
    expect(Math.abs(found!.createdAt!.getTime() - startedMs)).toBeLessThan(60_000);
    expect(await backend.sessionOwner(plain)).toEqual({ ownerDigest: null, createdAt: null });
    expect(await backend.sessionOwner('nosuchsession')).toBeUndefined();
    await backend.clear(owned);
    expect(await backend.sessionOwner(owned)).toBeUndefined();
  });
});
