import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, PostgresBackend } from '../../../src/backends/postgres/index.js';
import { BackendError } from '../../../src/index.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool } from '../../support/postgres.js';
import { settleTimed, type TimedOutcome } from '../../support/elapsed.js';
import { TcpProxy } from '../../support/tcp-proxy.js';

const prefix = `sk_fail_${process.pid}_`;
const server = new URL(DATABASE_URL);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads `key` until the backend answers again (at most 3 s), as a client would after an outage. */
async function readOnceServiceResumes(backend: PostgresBackend, key: string) {
  let answer = await settleTimed(backend.get(key));
  for (let attempt = 0; attempt < 30 && answer.error !== undefined; attempt++) {
    await sleep(100);
    answer = await settleTimed(backend.get(key));
  }
  return answer;
}

/** Every outcome is a BackendError that arrived within timeoutMs (1000), a margin, and any stall of the event loop. */
function expectBoundedFailures(outcomes: TimedOutcome<unknown>[]): void {
  for (const outcome of outcomes) {
    expect(outcome.error).toMatchObject({ name: 'BackendError' });
    expect(outcome.ms).toBeLessThan(1500 + outcome.lagMs);
  }
}

describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL failures', () => {
  const pool = testPool();
  const proxy = new TcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  let backend: PostgresBackend;
  beforeAll(async () => {
    await proxy.up();
    backend = await connect({
      host: '127.0.0.1',
      port: proxy.port,
      dbname: server.pathname.slice(1),
      user: decodeURIComponent(server.username),
      table: `${prefix}proxied`,
      timeoutMs: 1000,
      max: 4,
    });
    await backend.ensureSchema();
  });
  afterAll(async () => {
    await backend?.close();
    await proxy.down();
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  it('the database going away gives BackendErrors within timeoutMs, then service again by itself', async () => {
    const key = await backend.generate({ value: 'before' });
    await proxy.down();
    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => settleTimed<unknown>(i % 2 ? backend.get(key) : backend.set(key, 'during'))));
    expectBoundedFailures(during);
    for (const outcome of during) expect(['unavailable', 'timeout']).toContain((outcome.error as BackendError).code);
    await proxy.up();
    const answer = await readOnceServiceResumes(backend, key);
    // Nothing was written while it was down, so the value from before is intact.
    expect(answer.value).toMatchObject({ ok: true, value: 'before' });
    await backend.set(key, 'after');
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'after' });
  });

  it('a server that stops answering gives a timeout within timeoutMs, never a hang', async () => {
    const key = await backend.generate({ value: 'v' });
    proxy.blackhole();
    expectBoundedFailures(await Promise.all([settleTimed<unknown>(backend.get(key)), settleTimed<unknown>(backend.set(key, 'w')), settleTimed<unknown>(backend.generate()), settleTimed<unknown>(backend.clear(key))]));
    await proxy.down();
    await proxy.up();
    expect((await readOnceServiceResumes(backend, key)).value).toMatchObject({ ok: true });
  });

  it('operations queued behind busy statements also settle within timeoutMs', async () => {
    const key = await backend.generate({ value: 'v' });
    proxy.blackhole();
    const outcomes: Promise<TimedOutcome<unknown>>[] = [];
    // Separate ticks: the first statements take every slot, the rest queue behind them.
    for (let i = 0; i < 12; i++) {
      outcomes.push(settleTimed<unknown>(backend.get(key)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expectBoundedFailures(await Promise.all(outcomes));
    await proxy.down();
    await proxy.up();
    expect((await readOnceServiceResumes(backend, key)).value).toMatchObject({ ok: true });
  });

  it('a statement blocked by a lock rejects with a timeout BackendError', async () => {
    const table = `${prefix}locked`;
    const direct = new PostgresBackend(pool, { table });
    await direct.ensureSchema();
    const key = await direct.generate({ value: 'v' });
    const impatient = new PostgresBackend(pool, { table, timeoutMs: 500 });
    const holder = await pool.connect();
    await holder.query(`BEGIN; LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
    try {
      const outcome = await settleTimed(impatient.get(key));
      expect(outcome.error).toMatchObject({ name: 'BackendError', code: 'timeout' });
      expect(outcome.ms).toBeLessThan(1000 + outcome.lagMs);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await direct.get(key)).toMatchObject({ ok: true, value: 'v' });
  });

  it('a missing table is schema_missing, naming ensureSchema() and the migrate command with the table; other database errors are query_failed', async () => {
    const table = `${prefix}never_created`;
    const missing = new PostgresBackend(pool, { table });
    for (const work of [missing.get('a'.repeat(40)), missing.generate()]) {
      const outcome = await settleTimed<unknown>(work);
      expect(outcome.error).toMatchObject({ name: 'BackendError', code: 'schema_missing' });
      expect((outcome.error as BackendError).message).toContain('ensureSchema()');
      expect((outcome.error as BackendError).message).toContain(`sessionkit migrate --table ${table}`);
      expect((outcome.error as BackendError).cause).toMatchObject({ code: '42P01' });
    }
    const notText = new PostgresBackend(pool, { table: `${prefix}wrong_type` });
    await pool.query(`CREATE TABLE "${prefix}wrong_type" (session_key int, expire_date int, session_data int)`);
    const outcome = await settleTimed(notText.get('a'.repeat(40)));
    expect(outcome.error).toMatchObject({ name: 'BackendError', code: 'query_failed' });
  });

  it('too many connections (SQLSTATE 53300) is unavailable, like the other connection classes', async () => {
    const role = `${prefix}limited`;
    await pool.query(`CREATE ROLE "${role}" LOGIN CONNECTION LIMIT 0`);
    try {
      const outcome = await settleTimed(connect({ host: server.hostname, port: Number(server.port || 5432), dbname: server.pathname.slice(1), user: role, timeoutMs: 1000 }));
      expect(outcome.error).toMatchObject({ name: 'BackendError', code: 'unavailable' });
      expect((outcome.error as BackendError).cause).toMatchObject({ code: '53300' });
    } finally {
      await pool.query(`DROP ROLE "${role}"`);
    }
  });

  it('connect() to a port nobody listens on rejects with unavailable', async () => {
    const closed = new TcpProxy({ host: '127.0.0.1', port: 1 });
    await closed.up();
    const port = closed.port;
    await closed.down();
    const outcome = await settleTimed(connect({ host: '127.0.0.1', port, dbname: 'app', user: 'app', password: 'hunter2-secret', timeoutMs: 1000 }));
    expect(outcome.error).toMatchObject({ name: 'BackendError', code: 'unavailable' });
    // What was tried, never the password.
    expect((outcome.error as BackendError).message).toContain(`127.0.0.1:${port}/app`);
    expect((outcome.error as BackendError).message).not.toContain('hunter2');
  });

  it('connect() creates a missing table by default, and with createTable: false fails at once with schema_missing', async () => {
    const options = { host: server.hostname, port: Number(server.port || 5432), dbname: server.pathname.slice(1), user: decodeURIComponent(server.username), timeoutMs: 5000 };
    const refused = await settleTimed(connect({ ...options, table: `${prefix}not_created`, createTable: false }));
    expect(refused.error).toMatchObject({ name: 'BackendError', code: 'schema_missing' });
    expect((refused.error as BackendError).message).toContain(`sessionkit migrate --table ${prefix}not_created`);
    expect((await pool.query('SELECT to_regclass($1) AS t', [`${prefix}not_created`])).rows[0].t).toBeNull();

    // Several processes starting at once on a fresh database.
    const starts = await Promise.all(Array.from({ length: 3 }, () => connect({ ...options, table: `${prefix}created_at_start`, max: 2 })));
    const key = await starts[0]!.generate({ value: 'first request' });
    expect(await starts[1]!.get(key)).toMatchObject({ ok: true, value: 'first request' });
    await Promise.all(starts.map((backend) => backend.close()));
  });
});
