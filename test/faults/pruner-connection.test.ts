import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import type { SessionEvent } from '../../src/index.js';
import { stopwatch } from '../support/elapsed.js';
import { postgresBinDir, ScratchPostgres } from '../support/postgres-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const binaries = postgresBinDir();
if (binaries === undefined && process.env.CI === 'true') throw new Error('PostgreSQL server binaries are required when CI=true');

async function until(done: () => boolean | Promise<boolean>, withinMs: number, what: string): Promise<void> {
  const elapsed = stopwatch();
  while (!(await done())) {
    if (elapsed() * 1000 > withinMs) throw new Error(`${what}: not done within ${withinMs} ms`);
    await sleep(50);
  }
}

/**
 * The pruning leader keeps a checked-out connection for its advisory lock.
 * When the server drops that connection (pg_terminate_backend, a restart),
 * the process must keep running and pruning must resume on its own.
 * A server of the test's own, so terminating and restarting touch nothing else.
 */
describe.skipIf(binaries === undefined)('the pruner when the server drops its connection', () => {
  let server: ScratchPostgres;
  let admin: pg.Pool;
  const pools: pg.Pool[] = [];
  const fleet: PostgresBackend[] = [];
  const events: { instance: number; event: SessionEvent }[] = [];
  const table = 'pruned_sessions';

  beforeAll(async () => {
    server = await ScratchPostgres.start();
    admin = new pg.Pool({ connectionString: server.url, max: 2 });
    admin.on('error', () => undefined);
    for (let instance = 0; instance < 2; instance++) {
      // Each instance has its own pool, as separate processes would.
      const pool = new pg.Pool({ connectionString: server.url, max: 4 });
      pool.on('error', () => undefined);
      pools.push(pool);
      fleet.push(new PostgresBackend(pool, { table, timeoutMs: 1000, pruneIntervalSeconds: 1, onEvent: (event) => events.push({ instance, event }) }));
    }
    await fleet[0]!.ensureSchema();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(fleet.map((backend) => backend.close()));
    await Promise.all(pools.map((pool) => pool.end()));
    await admin?.end();
    await server?.stop();
  });

  const insertExpired = (count: number) =>
    admin.query(`INSERT INTO ${table} SELECT md5(random()::text || i) || 'abcdefgh', now() - interval '1 minute', 'old' FROM generate_series(1, $1::int) AS i`, [count]);
  const countExpired = async () => (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE expire_date <= now()`)).rows[0]!.n;
  const lockHolders = async () =>
    (await admin.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted`)).rows.map((row) => row.pid);

  it('the lock holder terminated: no process error, an error event, and expired rows are pruned again', async () => {
    await insertExpired(200);
    await until(async () => (await countExpired()) === 0, 10_000, 'first prune');
    const [holder] = await lockHolders();
    expect(holder).toBeDefined();
    events.length = 0;

    await admin.query('SELECT pg_terminate_backend($1)', [holder]);
    await insertExpired(100);
    await until(async () => (await countExpired()) === 0, 10_000, 'prune after the leader was terminated');
    // The lock is held again, by a new connection.
    await until(async () => (await lockHolders()).some((pid) => pid !== holder), 5000, 'a new lock holder');
    expect(events.some(({ event }) => event.type === 'error' && event.during === 'prune-connection')).toBe(true);
    expect(await lockHolders()).toHaveLength(1);
    // Both instances still serve requests.
    for (const backend of fleet) expect(await backend.get(await backend.generate({ value: 'alive' }))).toMatchObject({ ok: true, value: 'alive' });
  }, 30_000);

  it('pg_ctl restart -m fast: no process error, and pruning resumes after the restart', async () => {
    await server.restart('fast');
    await until(() => insertExpired(100).then(() => true, () => false), 10_000, 'server back');
    await until(async () => (await countExpired()) === 0, 15_000, 'prune after the restart');
    expect(await lockHolders()).toHaveLength(1);
    for (const backend of fleet) {
      let answered = false;
      await until(async () => (answered = await backend.generate().then(() => true, () => false)), 5000, 'service back');
      expect(answered).toBe(true);
    }
  }, 30_000);
});
