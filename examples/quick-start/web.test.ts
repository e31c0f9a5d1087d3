import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/ports.js';
import { DATABASE_URL, postgresSkipReason } from '../../test/support/postgres.js';
import { startExample } from '../support/start-example.js';

// The README's quick start, run as a user runs it, against a database where the table does not exist yet:
// a schema of its own (first on the search_path), so its "session" table is new and nobody else's.
describe.skipIf(postgresSkipReason !== undefined)(`README quick start (web.ts) on a fresh database${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const schema = `sk_quick_start_${process.pid}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('creates the table, then counts visits per cookie', async () => {
    await admin.query(`CREATE SCHEMA ${schema}`);
    const url = new URL(DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const port = await freePort();
    const app = await startExample('examples/quick-start/web.ts', { DATABASE_URL: url.href, PORT: String(port) });
    try {
      const first = await fetch(`${app.url}/`);
      expect(await first.text()).toBe('visit number 1\n');
      const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
      expect(await (await fetch(`${app.url}/`, { headers: { cookie } })).text()).toBe('visit number 2\n');
      expect(await (await fetch(`${app.url}/`)).text()).toBe('visit number 1\n');
      const rows = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.session`);
      expect(rows.rows).toEqual([{ n: 2 }]);
    } finally {
      await app.stop();
    }
  });
});
