import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { postgresJsOptions } from '../../../src/backends/postgres/postgres-js-options.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { DATABASE_URL, postgresSkipReason } from '../../support/postgres.js';
import { postgresBinDir, ScratchPostgres } from '../../support/postgres-server.js';

const SILENCE_MS = 400;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A postgres.js `sql` through the socket guard, to the test database directly or through `port` on loopback. */
function guarded(port?: number): postgres.Sql {
  const url = new URL(DATABASE_URL);
  if (port !== undefined) {
    url.hostname = '127.0.0.1';
    url.port = String(port);
  }
  const sql = postgres(url.toString(), { ...postgresJsOptions({ silenceMs: SILENCE_MS }), max: 2, onnotice: () => undefined });
  cleanups.push(() => sql.end({ timeout: 1 }));
  return sql;
}

async function proxy(): Promise<FaultProxy> {
  const url = new URL(DATABASE_URL);
  const started = await FaultProxy.start({ port: Number(url.port || 5432) });
  cleanups.push(() => started.close());
  return started;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pidOf = async (sql: postgres.Sql | postgres.ReservedSql) => (await sql`SELECT pg_backend_pid() AS pid`)[0]!.pid as number;
/** A reserved connection: postgres.js 3.4 with `fetch_types: false` hands reserve() only a connection a query left open. */
async function reserve(sql: postgres.Sql): Promise<postgres.ReservedSql> {
  await sql`SELECT 1`;
  return sql.reserve();
}

describe.skipIf(postgresSkipReason !== undefined)('postgresJsOptions: a postgres.js connection silent while owed a reply is destroyed', () => {
  it('rejects a silence that is not a whole number of milliseconds', () => {
    expect(() => postgresJsOptions({ silenceMs: 0 })).toThrow(TypeError);
    expect(() => postgresJsOptions({ silenceMs: 1.5 })).toThrow(TypeError);
  });

  it('sessionkit works on it (arrays sent as text, no array types fetched), also with values that need escaping', async () => {
    const sql = guarded();
    const { PostgresBackend } = await import('../../../src/backends/postgres/index.js');
    const table = `sk_pjs_${process.pid}_${Date.now()}`;
    const backend = new PostgresBackend(sql, { table, timeoutMs: 5000, pruneIntervalSeconds: false });
    cleanups.push(async () => {
      await backend.close();
      await sql.unsafe(`DROP TABLE IF EXISTS ${table}`);
    });
    await backend.ensureSchema();
    const value = 'a "quoted" \\ back\\slash, {braces}, NULL, é😀';
    const key = await backend.generate();
    await backend.set(key, value);
    expect(await backend.get(key)).toMatchObject({ ok: true, value });
    // compareAndSet's batch statement sends keys, expected and new values as arrays.
    await expect(backend.compareAndSet(key, value, `${value}!`)).resolves.toBe('ok');
    await expect(backend.compareAndSet(key, value, 'stale')).resolves.toBe('conflict');
    expect(await backend.get(key)).toMatchObject({ ok: true, value: `${value}!` });
    await backend.put('put-key', value);
    expect(await backend.get('put-key')).toMatchObject({ ok: true, value });
  });

  it('serves queries, pipelined ones included, and keeps a connection idle far past the silence', async () => {
    const sql = guarded();
    const reserved = await reserve(sql);
    const pid = await pidOf(reserved);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => reserved`SELECT ${i}::int AS n`));
    expect(answers.map((rows) => rows[0]!.n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await sleep(SILENCE_MS * 3);
    expect(await pidOf(reserved)).toBe(pid);
    reserved.release();
  });

  it('a statement that sends nothing for longer than the silence loses its connection; the next query gets a new one', async () => {
    const sql = guarded();
    const reserved = await reserve(sql);
    const pid = await pidOf(reserved);
    reserved.release();
    await expect(sql`SELECT pg_sleep(${(SILENCE_MS * 3) / 1000})`).rejects.toThrow();
    const next = await pidOf(sql);
    expect(next).not.toBe(pid);
  });

  it('a black-holed connection (no FIN) fails its query and those pipelined behind it; service is back once the network is', async () => {
    const faults = await proxy();
    const sql = guarded(faults.port);
    await sql`SELECT 1`;
    faults.blackhole();
    const started = performance.now();
    const stuck = await Promise.allSettled([sql`SELECT 1`, sql`SELECT 2`, sql`SELECT 3`]);
    expect(stuck.every((outcome) => outcome.status === 'rejected')).toBe(true);
    faults.heal();
    expect((await sql`SELECT 42 AS n`)[0]!.n).toBe(42);
    // The silence, a reconnect, and room for a loaded machine; without the guard these queries never settle.
    expect(performance.now() - started).toBeLessThan(SILENCE_MS * 2 + 5_000);
  });

  it("a cancelled statement is cancelled (postgres.js's cancel request goes through the same socket option)", async () => {
    const sql = guarded();
    const query = sql`SELECT pg_sleep(0.3)`;
    setTimeout(() => query.cancel(), 50);
    await expect(query).rejects.toMatchObject({ code: '57014' });
    expect((await sql`SELECT 1 AS n`)[0]!.n).toBe(1);
  });
});

/** Resolves with `promise`'s outcome, or rejects once `ms` have passed without one. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Milliseconds from now until `attempt` first resolves, retried while it rejects; rejects once `ms` have passed. */
async function msUntilServed(attempt: () => Promise<unknown>, ms: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const left = ms - (performance.now() - started);
    if (left <= 0) throw new Error(`not served within ${ms} ms`);
    const served = await within(attempt(), left, 'attempt').then(
      () => true,
      () => false,
    );
    if (served) return performance.now() - started;
    await sleep(10);
  }
}

// A frozen server (SIGSTOP of a server of the test's own; the machine's is never frozen): connections cut by the
// silence, and queries that time out while their connection is still being opened, must leave no connection of the
// pool waiting forever, so that service is back within 2 x timeoutMs of the resume.
describe.skipIf(postgresBinDir() === undefined)('postgresJsOptions: a frozen server (SIGSTOP), then resumed', () => {
  let server: ScratchPostgres;
  beforeAll(async () => {
    server = await ScratchPostgres.start();
  }, 60_000);
  afterEach(async () => {
    await server.signal('SIGCONT');
  });
  afterAll(async () => {
    await server?.stop();
  });

  function frozenSql(options: { silenceMs: number; max: number }): postgres.Sql {
    const sql = postgres(server.url, { ...postgresJsOptions({ silenceMs: options.silenceMs }), max: options.max, onnotice: () => undefined });
    cleanups.push(() => sql.end({ timeout: 1 }));
    return sql;
  }

  it('a query handed to a connection as the silence cuts it fails with it, and the connection serves again', async () => {
    const sql = frozenSql({ silenceMs: SILENCE_MS, max: 1 });
    await sql`SELECT 1`;
    await server.signal('SIGSTOP');
    const cut = sql`SELECT 1`;
    // Asked for the moment the cut is heard (its rejection's turn): the pool still holds the connection then.
    const next = cut.then(
      () => undefined,
      () => sql`SELECT 2 AS n`,
    );
    next.catch(() => undefined);
    await expect(within(cut, SILENCE_MS * 5, 'the query on the cut connection')).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await sleep(SILENCE_MS);
    await server.signal('SIGCONT');
    // Every query settles: the one asked for at the cut, and the ones after it (which then queued behind it forever).
    await within(next.then(() => undefined, () => undefined), 2_000, 'the query asked for at the cut');
    for (let n = 0; n < 3; n++) expect((await within(sql`SELECT ${n}::int AS n`, 2_000, `query ${n} after the resume`))[0]!.n).toBe(n);
  });

  it("a query that timed out while its connection was being opened leaves that connection to the pool", async () => {
    const timeoutMs = 500;
    // Silence longer than the freeze: the bound, not the socket, ends the query.
    const sql = frozenSql({ silenceMs: 10_000, max: 1 });
    const table = `sk_pjs_frozen_${process.pid}`;
    const backend = new PostgresBackend(sql, { table, timeoutMs, pruneIntervalSeconds: false });
    cleanups.push(() => backend.close());
    await backend.ensureSchema();
    // The pool's only connection closed: the next query opens one, against the frozen server.
    await sql.end({ timeout: 1 });
    const reopened = frozenSql({ silenceMs: 10_000, max: 1 });
    const frozenBackend = new PostgresBackend(reopened, { table, timeoutMs, pruneIntervalSeconds: false });
    cleanups.push(() => frozenBackend.close());
    await server.signal('SIGSTOP');
    await expect(frozenBackend.get('k')).rejects.toMatchObject({ code: 'timeout' });
    await server.signal('SIGCONT');
    expect(await msUntilServed(() => frozenBackend.get('k'), 2 * timeoutMs)).toBeLessThan(2 * timeoutMs);
  });
});
