import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, describe } from 'vitest';
import { PostgresBackend, seedSchemaSql } from '../../src/backends/postgres/index.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { describeBackendContract } from './backend-contract.js';

const prefix = `sk_conf_${process.pid}_`;
const table = () => uniqueTable(`conf`).replace(/^sk_conf_/, prefix);

describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL server', () => {
  const pool = testPool();
  const client = new pg.Client({ connectionString: DATABASE_URL });
  const clientReady = client.connect();
  const sql = postgres(DATABASE_URL, { max: 10, onnotice: () => undefined });
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await Promise.all([pool.end(), client.end(), sql.end()]);
  });

  const withSchema = async (backend: PostgresBackend) => {
    await backend.ensureSchema();
    return backend;
  };
  describeBackendContract('postgres via pg Pool', () => withSchema(new PostgresBackend(pool, { table: table() })));
  describeBackendContract('postgres via pg Client', async () => {
    await clientReady;
    return withSchema(new PostgresBackend(client, { table: table() }));
  });
  describeBackendContract('postgres via postgres.js', () => withSchema(new PostgresBackend(sql, { table: table() })));
  describeBackendContract("postgres on the seed's exact DDL, keys unhashed", async () => {
    const name = table();
    await pool.query(seedSchemaSql(`"${name}"`));
    return new PostgresBackend(pool, { table: name, hashKeys: false });
  });
});

describe('PGlite (in-process)', () => {
  const db = new PGlite();
  afterAll(() => db.close());
  describeBackendContract('postgres via PGlite', async () => {
    const backend = new PostgresBackend(db, { table: uniqueTable('pglite') });
    await backend.ensureSchema();
    return backend;
  });
});
