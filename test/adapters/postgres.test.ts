import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { describeConcurrency, describeOwners, describeSessionHeader, sidOf, withKey } from './support/adapter-suite.js';
import { EVERY_APP } from './support/every-app.js';

const prefix = `sk_http_${process.pid}_`;

describe.skipIf(postgresSkipReason !== undefined)(`adapters on PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const pool = testPool(10);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });
  const backend = async () => {
    const created = new PostgresBackend(pool, { table: uniqueTable('http').replace(/^sk_http_/, prefix) });
    await created.ensureSchema();
    return created;
  };

  for (const [name, factory] of EVERY_APP) {
    describeConcurrency(`${name} on PostgreSQL`, factory, backend);
    describeOwners(`${name} on PostgreSQL`, factory, backend);
    describeSessionHeader(`${name} on PostgreSQL`, factory, backend);

    it(`${name}: a PostgreSQL store that went away is a 503 with Retry-After, without Set-Cookie`, async () => {
      const ownPool = testPool(2);
      const store = new PostgresBackend(ownPool, { table: uniqueTable('http').replace(/^sk_http_/, prefix) });
      await store.ensureSchema();
      const client = await factory(store, {});
      try {
        const key = sidOf(await client.get('/set?f1=a'))!;
        expect(key).toMatch(/^[A-Za-z0-9_-]{40}$/);
        await ownPool.end();
        const reply = await client.get('/read', withKey(key));
        expect(reply.status).toBe(503);
        expect(reply.header('retry-after')).toBe('1');
        expect(reply.setCookies).toEqual([]);
        const fresh = await client.get('/set?f1=b');
        expect(fresh.status).toBe(503);
        expect(fresh.header('retry-after')).toBe('1');
        expect(fresh.setCookies).toEqual([]);
      } finally {
        await client.close();
        await store.close();
      }
    });
  }
});
