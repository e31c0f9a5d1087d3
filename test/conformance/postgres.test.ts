import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, describe } from 'vitest';
import { PostgresBackend, ocamlSessionSchemaSql } from '../../src/backends/postgres/index.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { runBackendConformance } from '../../src/testkit/index.js';

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
  runBackendConformance('postgres via pg Pool', (options) => withSchema(new PostgresBackend(pool, { ...options, table: table() })));
  runBackendConformance('postgres via pg Client', async (options) => {
    await clientReady;
    return withSchema(new PostgresBackend(client, { ...options, table: table() }));
  });
  runBackendConformance('postgres via postgres.js', (options) => withSchema(new PostgresBackend(sql, { ...options, table: table() })));
  runBackendConformance(
    "postgres on ocaml-session's exact DDL, keys unhashed",
    async (options) => {
      const name = table();
      await pool.query(ocamlSessionSchemaSql(`"${name}"`));
      return new PostgresBackend(pool, { ...options, table: name, hashKeys: false });
    },
    {
      ownersSkipReason: 'a table with ocaml-session columns only has no owner column until migrated (schema.test.ts checks the clear error)',
      putSchemaOutdated: 'put needs a unique index on session_key, which ocaml-session\'s DDL lacks',
    },
  );
  // ocaml-session's exact DDL, migrated by ensureSchema() (owner columns added) and used with unhashed keys.
  runBackendConformance(
    "postgres on ocaml-session's DDL, migrated, keys unhashed",
    async (options) => {
      const name = table();
      await pool.query(ocamlSessionSchemaSql(`"${name}"`));
      return withSchema(new PostgresBackend(pool, { ...options, table: name, hashKeys: false }));
    },
    { putSchemaOutdated: 'migrating keeps ocaml-session\'s table without a unique index on session_key' },
  );
});

describe('PGlite (in-process)', () => {
  const db = new PGlite();
  afterAll(() => db.close());
  runBackendConformance('postgres via PGlite', async (options) => {
    const backend = new PostgresBackend(db, { ...options, table: uniqueTable('pglite') });
    await backend.ensureSchema();
    return backend;
  });
});
