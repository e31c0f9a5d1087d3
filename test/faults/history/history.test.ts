/**
 * The history checker in CI: for each driver and each fault, clients
 * increment per-key counters (read → compareAndSet, and set / put on a key a
 * client owns) while a nemesis breaks the store, every write's outcome is
 * recorded, and the final values must agree with the outcome model: `ok`
 * stored exactly once, a failure never stored, `indeterminate` at most once,
 * nothing lost. Every server here is the test's own; combinations on
 * separate servers run at the same time.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import postgres from 'postgres';
import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryBackend } from '../../../src/backends/memory/index.js';
import { PostgresBackend, postgresJsOptions, type PostgresDatabase } from '../../../src/backends/postgres/index.js';
import { RedisBackend, type RedisClient } from '../../../src/backends/redis/index.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { postgresBinDir, ScratchPostgres } from '../../support/postgres-server.js';
import { RedisTestCluster } from '../../support/redis-cluster.js';
import { rawCommand, RedisServer } from '../../support/redis-server.js';
import { redisServerSkipReason } from '../../support/redis-env.js';
import { describeUntyped, formatTable, runWorkload, sleep, type TableRow, type WorkloadReport } from './workload.js';

const binaries = postgresBinDir();
if (binaries === undefined && process.env.CI === 'true') throw new Error('PostgreSQL server binaries are required when CI=true');

/** Every backend's deadline here; each fault lasts longer than it where it should make writes fail. */
const timeoutMs = 1000;
/** Longer than `timeoutMs`, so that every operation waiting on it fails (or settles) first. */
const outageMs = 2500;
const poolMax = 5;
/** The controls' deadline: long enough that this loaded machine never misses it. */
const controlTimeoutMs = 15_000;
/** What a control changes of a run: its deadline, and no long waits for a service to come back or a late write to land. */
const controlRun = { timeoutMs: controlTimeoutMs, cooldownMs: 500, settleMs: 500 };
type RunOverrides = Partial<typeof controlRun>;
const combinationTimeoutMs = 90_000;

// The combinations mostly wait (on faults, on deadlines): run up to 12 at once to stay within the CI budget.
vi.setConfig({ maxConcurrency: 12 });

/** Waits for `promise` at most `ms`; resolves false when it did not settle by then (a teardown that hangs must not hang the test). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

const rows: TableRow[] = [];
const tableFile = join(tmpdir(), 'sessionkit-history-checker.md');
/** Every combination's full history (writes, reads, final values), as JSON, for a closer look at an anomaly. */
const historyDir = join(tmpdir(), 'sessionkit-history-checker');
mkdirSync(historyDir, { recursive: true });

// What escapes the backends (an 'error' event nobody listens to ends a real process): listed under the table too.
const uncaught: string[] = [];
/** The combinations running now, to say which ones an uncaught error may come from. */
const runningCombinations = new Set<string>();
/** Records an error that would have ended a process, with where it was thrown and which combinations were running. */
const recordUncaught = (kind: string) => (error: unknown) => {
  uncaught.push(`${kind}: ${describeUntyped(error)} (while running: ${[...runningCombinations].join('; ')})`);
};
const recordException = recordUncaught('uncaught exception');
const recordRejection = recordUncaught('unhandled rejection');
beforeAll(() => {
  process.on('uncaughtException', recordException);
  process.on('unhandledRejection', recordRejection);
});

afterAll(() => {
  process.off('uncaughtException', recordException);
  process.off('unhandledRejection', recordRejection);
  const order = (row: TableRow) => `${row.driver}\u0000${row.nemesis}`;
  const table = formatTable([...rows].sort((a, b) => order(a).localeCompare(order(b))));
  const escaped = uncaught.length === 0 ? 'none' : uncaught.map((message) => `\n- ${message}`).join('');
  const text = `History checker, ${new Date().toISOString()} (timeoutMs ${timeoutMs})\n\n${table}\n\nUncaught exceptions and unhandled rejections during the run (would end a process): ${escaped}\n`;
  writeFileSync(tableFile, text);
  console.info(`${text}\n(also written to ${tableFile}; histories in ${historyDir})`);
  // Listening for them keeps vitest from failing the run on them itself: each would have ended a real process.
  expect(uncaught, 'uncaught exceptions or unhandled rejections').toEqual([]);
});

/** Runs one combination, records its row, and fails on any anomaly or on a fault that did nothing. */
async function combination(driver: string, nemesis: string, expectsFailures: boolean, run: () => Promise<WorkloadReport>): Promise<void> {
  let report: WorkloadReport | undefined;
  const name = `${driver} × ${nemesis}`;
  runningCombinations.add(name);
  try {
    report = await run();
    rows.push({ driver, nemesis, report });
    const { history } = report;
    const file = join(historyDir, `${`${driver}-${nemesis}`.replace(/[^A-Za-z0-9.]+/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ ...history, finals: Object.fromEntries(history.finals), anomalies: report.check.anomalies }, null, 1));
  } catch (error) {
    rows.push({ driver, nemesis, report: undefined, error: String((error as Error)?.stack ?? error) });
    throw error;
  } finally {
    runningCombinations.delete(name);
  }
  const { check } = report;
  const summary = `${driver} × ${nemesis}: ${JSON.stringify({ outcomes: check.outcomes, codes: check.codes, faults: report.faults, anomalies: check.anomalyCounts })}`;
  const problems = check.anomalies.slice(0, 20).map((a) => `${a.kind}: ${a.detail}`);
  if (check.anomalies.length > 20) problems.push(`... ${check.anomalies.length - 20} more anomalies`);
  // Not vacuous: the fault happened, the clients kept writing, and where the fault must fail writes, some failed.
  if (report.faults === 0) problems.push('no fault injected');
  if (check.outcomes.ok === 0) problems.push('no write succeeded');
  const failedByFault = Object.entries(check.codes).filter(([code]) => code !== 'conflict').reduce((sum, [, n]) => sum + n, 0) + report.readsFailed;
  if (expectsFailures && failedByFault === 0) problems.push('the fault failed no operation');
  // Service back within 2 × timeoutMs of the heal (the outcome model's bound), plus a margin for this loaded machine.
  if (report.recoveryMs === undefined || report.recoveryMs > 2 * timeoutMs + 1000) problems.push(`service not back after the fault healed (${report.recoveryMs ?? 'no'} ms)`);
  expect(problems, summary).toEqual([]);
}

/**
 * A control: the same clients on the same kind of store with no fault, which must show no anomaly, so that the
 * anomalies of the other combinations are the store's, not the harness's. Its deadline is generous
 * ({@link controlTimeoutMs}): on a loaded machine a missed deadline is a fault too.
 */
async function control(driver: string, run: (nemesis: () => Promise<number>) => Promise<WorkloadReport>): Promise<void> {
  const nemesis = 'none (control)';
  let report: WorkloadReport;
  try {
    report = await run(async () => {
      await sleep(1500);
      return 0;
    });
  } catch (error) {
    rows.push({ driver, nemesis, report: undefined, error: String((error as Error)?.stack ?? error) });
    throw error;
  }
  rows.push({ driver, nemesis, report });
  const { check } = report;
  expect(check.outcomes.ok, `${driver} control: no write succeeded`).toBeGreaterThan(0);
  expect(check.anomalies.slice(0, 20).map((a) => `${a.kind}: ${a.detail}`), `${driver} control`).toEqual([]);
}

it('control: the memory backend, no fault, no anomaly', async () => {
  const backend = new MemoryBackend();
  await control('memory', (nemesis) => runWorkload({ ...controlRun, backend, nemesis, openVerifier: async () => ({ backend, close: async () => undefined }) }));
  await backend.close();
});

// --- PostgreSQL -------------------------------------------------------------

type PgDriver = 'pg' | 'postgres.js';

interface PgHandle {
  db: PostgresDatabase;
  /** 'error' events on the pool's connections that no listener but the test's saw: pg would have thrown them, ending a real process. */
  escapedErrors: string[];
  /** Takes one connection of the pool away from the backend until the returned function gives it back. */
  hold: () => Promise<() => Promise<void>>;
  end: () => Promise<void>;
}

let made = 0;
function uniqueName(prefix: string): string {
  made += 1;
  return `${prefix}_${process.pid}_${made}_${Math.random().toString(36).slice(2, 7)}`;
}

function openPg(driver: PgDriver, url: string, applicationName: string): PgHandle {
  if (driver === 'pg') {
    const pool = new pg.Pool({ connectionString: url, max: poolMax, application_name: applicationName });
    pool.on('error', () => undefined);
    const escapedErrors: string[] = [];
    // Heard first (prepended), so that the pool's idle listener, which removes itself, is still counted.
    pool.on('connect', (client) => {
      const heard = (error: Error) => {
        if (client.listeners('error').every((listener) => listener === heard)) escapedErrors.push(`pg connection 'error' with no listener: ${error.message}`);
      };
      client.prependListener('error', heard);
    });
    return {
      db: pool,
      escapedErrors,
      hold: async () => {
        const client = await pool.connect();
        return async () => client.release();
      },
      end: () => pool.end().catch(() => undefined),
    };
  }
  // As the README asks of postgres.js: no array types fetched, a bounded reconnect delay, and connections silent
  // while owed a reply destroyed once the backend's own bound (a cancel at timeoutMs) has had its time.
  const sql = postgres(url, {
    ...postgresJsOptions({ silenceMs: (timeoutMs * 3) / 2 }),
    max: poolMax,
    connection: { application_name: applicationName },
    onnotice: () => undefined,
  });
  return {
    db: sql,
    // postgres.js emits no 'error' events; what escapes it is an unhandled rejection, listed under the table.
    escapedErrors: [],
    hold: async () => {
      // postgres.js 3.4 with fetch_types: false hands reserve() only a connection a query left open (as the backend does).
      await sql`SELECT 1`;
      const reserved = await sql.reserve();
      return async () => reserved.release();
    },
    end: () => sql.end({ timeout: 1 }).catch(() => undefined),
  };
}

/** Runs the workload on `table` of the server at `serverUrl`, the clients going through `clientUrl` (a proxy) when given. */
async function pgWorkload(
  driver: PgDriver,
  serverUrl: string,
  nemesis: (handle: PgHandle, ctx: { table: string; applicationName: string }) => Promise<number>,
  clientUrl = serverUrl,
  overrides: RunOverrides = {},
): Promise<WorkloadReport> {
  const backendTimeoutMs = overrides.timeoutMs ?? timeoutMs;
  const table = uniqueName('hist');
  const applicationName = uniqueName('hist_app');
  const setup = new pg.Pool({ connectionString: serverUrl, max: 1 });
  setup.on('error', () => undefined);
  await new PostgresBackend(setup, { table, timeoutMs, pruneIntervalSeconds: false }).ensureSchema();
  await setup.end();
  const handle = openPg(driver, clientUrl, applicationName);
  const backend = new PostgresBackend(handle.db, { table, timeoutMs: backendTimeoutMs, pruneIntervalSeconds: false });
  try {
    return await runWorkload({
      ...overrides,
      backend,
      timeoutMs: backendTimeoutMs,
      nemesis: () => nemesis(handle, { table, applicationName }),
      escapedErrors: () => handle.escapedErrors,
      openVerifier: async () => {
        const pool = new pg.Pool({ connectionString: serverUrl, max: 2 });
        pool.on('error', () => undefined);
        const verifier = new PostgresBackend(pool, { table, timeoutMs: 5000, pruneIntervalSeconds: false });
        return { backend: verifier, close: async () => (await verifier.close(), await pool.end()) };
      },
    });
  } finally {
    // A pool whose connections were black-holed may never end: the proxy's close then cuts them.
    await settledWithin(backend.close(), 3000);
    await settledWithin(handle.end(), 3000);
  }
}

/** The server's postmaster process id: a restart changes it. */
function postmasterPid(server: ScratchPostgres): number {
  return Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** An administrator's connection to the server (not through any proxy), for the nemeses. */
async function admin<T>(serverUrl: string, use: (client: pg.Client) => Promise<T>, connectTimeoutMs = 10_000): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: connectTimeoutMs });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const pgNemeses = {
  /** Another transaction holds every row with SELECT … FOR UPDATE longer than the deadline, twice. */
  rowLocks: (serverUrl: string) => async (_handle: PgHandle, { table }: { table: string }) =>
    admin(serverUrl, async (client) => {
      let rounds = 0;
      for (let round = 0; round < 2; round++) {
        await client.query('BEGIN');
        const { rowCount } = await client.query(`SELECT 1 FROM "${table}" FOR UPDATE`);
        await sleep(outageMs);
        await client.query('COMMIT');
        if ((rowCount ?? 0) > 0) rounds += 1;
        await sleep(800);
      }
      return rounds;
    }),
  /** Other users of the same pool take every connection for longer than the deadline, twice. */
  poolExhaustion: async (handle: PgHandle) => {
    let rounds = 0;
    for (let round = 0; round < 2; round++) {
      // Each hold is bounded: a pool that never hands a connection out must not hang the run (the round then does not count).
      const holds = Array.from({ length: poolMax }, () => handle.hold());
      const allHeld = await settledWithin(Promise.all(holds), 10_000);
      if (allHeld) await sleep(outageMs);
      for (const hold of holds) void hold.then((release) => release(), () => undefined);
      if (allHeld) rounds += 1;
      await sleep(800);
    }
    return rounds;
  },
  /** The server terminates the pool's connections (pg_terminate_backend), 8 rounds. */
  terminate: (serverUrl: string) => async (_handle: PgHandle, { applicationName }: { applicationName: string }) =>
    admin(serverUrl, async (client) => {
      let terminated = 0;
      for (let round = 0; round < 8; round++) {
        const { rows } = await client.query<{ done: boolean }>(
          'SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
          [applicationName],
        );
        terminated += rows.filter((row) => row.done).length;
        await sleep(350);
      }
      return terminated;
    }),
};

/**
 * Loses replies (the server executed the command; the connection is reset
 * before the client hears), in short windows. A driver or backend may learn
 * the outcome again (resend, read its write back), so this fault need not
 * fail any write: only the lost replies are counted as faults.
 */
async function loseReplies(proxy: FaultProxy): Promise<number> {
  let lost = 0;
  for (let round = 0; round < 5; round++) {
    lost += await proxy.loseRepliesFor(150);
    await sleep(600);
  }
  return lost;
}

/** Black-holes every connection (no FIN) for longer than the deadline, then lets new connections through. */
async function blackhole(proxy: FaultProxy): Promise<number> {
  proxy.blackhole();
  await sleep(outageMs);
  proxy.heal();
  return proxy.connectionsBlackholed;
}

/** Starts a server, retried: on this loaded machine a start may miss its own readiness checks. */
async function started<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt === 3) throw error;
      await sleep(500);
    }
  }
}

async function withScratchPostgres<T>(use: (server: ScratchPostgres) => Promise<T>): Promise<T> {
  const server = await started(() => ScratchPostgres.start());
  try {
    return await use(server);
  } finally {
    await server.signal('SIGCONT').catch(() => undefined);
    await server.stop();
  }
}

async function withProxy<T>(port: number, use: (proxy: FaultProxy) => Promise<T>): Promise<T> {
  const proxy = await FaultProxy.start({ port });
  try {
    return await use(proxy);
  } finally {
    await proxy.close();
  }
}

describe.skipIf(binaries === undefined)('history checker: PostgreSQL', { concurrent: true }, () => {
  // One server of the test's own for the faults that leave it running; each restart or freeze gets its own.
  let shared: ScratchPostgres | undefined;
  beforeAll(async () => {
    shared = await started(() => ScratchPostgres.start());
  }, 60_000);
  afterAll(async () => {
    await shared?.stop();
  });
  const sharedUrl = () => shared!.url;
  const proxiedUrl = (proxy: FaultProxy) => `postgresql://postgres@127.0.0.1:${proxy.port}/postgres`;

  for (const driver of ['pg', 'postgres.js'] as const) {
    it(`${driver} × no fault (control)`, async () => {
      await control(driver, (nemesis) => pgWorkload(driver, sharedUrl(), nemesis, sharedUrl(), controlRun));
    }, combinationTimeoutMs);

    it(`${driver} × PostgreSQL restart -m immediate`, async () => {
      await combination(driver, 'restart -m immediate', true, () =>
        withScratchPostgres((server) =>
          pgWorkload(driver, server.url, async () => {
            let restarts = 0;
            for (let round = 0; round < 2; round++) {
              const before = postmasterPid(server);
              await server.restart('immediate');
              if (postmasterPid(server) !== before) restarts += 1;
              await sleep(1000);
            }
            return restarts;
          }),
        ),
      );
    }, combinationTimeoutMs);

    it(`${driver} × SIGSTOP of the server`, async () => {
      await combination(driver, 'SIGSTOP of the server', true, () =>
        withScratchPostgres((server) =>
          pgWorkload(driver, server.url, async () => {
            let freezes = 0;
            for (let round = 0; round < 2; round++) {
              await server.signal('SIGSTOP');
              const answered = await admin(server.url, async () => true, 500).catch(() => false);
              if (!answered) freezes += 1;
              await sleep(outageMs - 500);
              await server.signal('SIGCONT');
              await sleep(800);
            }
            return freezes;
          }),
        ),
      );
    }, combinationTimeoutMs);

    it(`${driver} × row locks longer than the deadline`, async () => {
      await combination(driver, 'row locks (SELECT … FOR UPDATE)', true, () => pgWorkload(driver, sharedUrl(), pgNemeses.rowLocks(sharedUrl())));
    }, combinationTimeoutMs);

    it(`${driver} × pool exhaustion`, async () => {
      await combination(driver, 'pool exhaustion', true, () => pgWorkload(driver, sharedUrl(), pgNemeses.poolExhaustion));
    }, combinationTimeoutMs);

    it(`${driver} × pg_terminate_backend of the pool's connections`, async () => {
      await combination(driver, 'pg_terminate_backend', true, () => pgWorkload(driver, sharedUrl(), pgNemeses.terminate(sharedUrl())));
    }, combinationTimeoutMs);

    it(`${driver} × lost replies`, async () => {
      await combination(driver, 'lost replies (proxy)', false, () =>
        withProxy(shared!.port, (proxy) => pgWorkload(driver, sharedUrl(), () => loseReplies(proxy), proxiedUrl(proxy))),
      );
    }, combinationTimeoutMs);

    it(`${driver} × black hole`, async () => {
      await combination(driver, 'black hole (proxy, no FIN)', true, () =>
        withProxy(shared!.port, (proxy) => pgWorkload(driver, sharedUrl(), () => blackhole(proxy), proxiedUrl(proxy))),
      );
    }, combinationTimeoutMs);
  }
});

// --- Redis ------------------------------------------------------------------

type RedisDriver = 'ioredis' | 'node-redis';

const reconnectDelayMs = (attempt: number) => Math.min(attempt * 50, 500);

async function openRedis(driver: RedisDriver, port: number): Promise<{ client: RedisClient; close: () => Promise<void> }> {
  if (driver === 'ioredis') {
    const client = new Redis({ host: '127.0.0.1', port, retryStrategy: reconnectDelayMs });
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('end', () => reject(new Error('ioredis ended')));
    });
    return { client, close: async () => client.disconnect() };
  }
  // As docs/redis.md asks of node-redis, whose socket the backend cannot drop: a socket timeout of half of timeoutMs (a
  // reconnect begun while the black hole lasts then ends in time for the next), and a ping more often than that, so that a
  // healthy idle connection is never taken for a silent one.
  const client = createClient({ pingInterval: timeoutMs / 5, socket: { host: '127.0.0.1', port, socketTimeout: timeoutMs / 2, reconnectStrategy: reconnectDelayMs } });
  client.on('error', () => undefined);
  await client.connect();
  return { client, close: async () => client.destroy() };
}

async function openRedisCluster(driver: RedisDriver, ports: number[]): Promise<{ client: RedisClient; close: () => Promise<void> }> {
  if (driver === 'ioredis') {
    const client = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('end', () => reject(new Error('ioredis cluster ended')));
    });
    return { client, close: async () => client.disconnect() };
  }
  const client = createCluster({ rootNodes: ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })) });
  client.on('error', () => undefined);
  await client.connect();
  return { client, close: async () => client.destroy() };
}

/** Runs the workload with `driver` on `clientPort`; final values are read by ioredis straight from `serverPort`. */
async function redisWorkload(
  driver: RedisDriver,
  clientPort: number,
  serverPort: number,
  nemesis: () => Promise<number>,
  overrides: RunOverrides = {},
): Promise<WorkloadReport> {
  const backendTimeoutMs = overrides.timeoutMs ?? timeoutMs;
  const prefix = `${uniqueName('hist')}:`;
  const { client, close } = await openRedis(driver, clientPort);
  const backend = new RedisBackend(client, { prefix, timeoutMs: backendTimeoutMs });
  try {
    return await runWorkload({
      ...overrides,
      backend,
      timeoutMs: backendTimeoutMs,
      nemesis,
      openVerifier: async () => {
        const verifierClient = await openRedis('ioredis', serverPort);
        return { backend: new RedisBackend(verifierClient.client, { prefix, timeoutMs: 5000 }), close: verifierClient.close };
      },
    });
  } finally {
    await settledWithin(backend.close(), 3000);
    await settledWithin(close(), 3000);
  }
}

async function withRedis<T>(args: string[], use: (server: RedisServer) => Promise<T>): Promise<T> {
  const server = await started(() => RedisServer.start({ args }));
  try {
    return await use(server);
  } finally {
    await server.destroy();
  }
}

/** Asks each master's replica to take over (CLUSTER FAILOVER: the replica catches up first) and waits until it has; resolves with how many did. */
async function failOverEveryMaster(cluster: RedisTestCluster): Promise<number> {
  let failovers = 0;
  const nodes = await cluster.nodes(cluster.ports[0]!);
  for (const master of nodes.filter((node) => node.role === 'master' && node.slots.length > 0)) {
    const replica = nodes.find((node) => node.masterId === master.id);
    if (replica === undefined) continue;
    await rawCommand(replica.port, 'CLUSTER FAILOVER');
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const self = (await cluster.nodes(replica.port)).find((node) => node.port === replica.port);
      if (self?.role === 'master') {
        failovers += 1;
        break;
      }
      await sleep(50);
    }
    await sleep(500);
  }
  return failovers;
}

describe.skipIf(redisServerSkipReason !== undefined)('history checker: Redis', { concurrent: true }, () => {
  for (const driver of ['ioredis', 'node-redis'] as const) {
    it(`${driver} × no fault (control)`, async () => {
      await control(driver, (nemesis) => withRedis([], (server) => redisWorkload(driver, server.port, server.port, nemesis, controlRun)));
    }, combinationTimeoutMs);

    it(`${driver} × Redis Cluster master failover`, async () => {
      // A manual failover loses no acknowledged write and need not fail any: only anomalies fail this one.
      await combination(driver, 'Cluster master failover (CLUSTER FAILOVER)', false, async () => {
        const cluster = await started(() => RedisTestCluster.start(1000));
        try {
          const prefix = `${uniqueName('hist')}:`;
          const { client, close } = await openRedisCluster(driver, cluster.ports);
          const backend = new RedisBackend(client, { prefix, timeoutMs });
          try {
            return await runWorkload({
              backend,
              timeoutMs,
              nemesis: () => failOverEveryMaster(cluster),
              openVerifier: async () => {
                const verifierClient = await openRedisCluster('ioredis', cluster.ports);
                return { backend: new RedisBackend(verifierClient.client, { prefix, timeoutMs: 5000 }), close: verifierClient.close };
              },
            });
          } finally {
            await settledWithin(backend.close(), 3000);
            await settledWithin(close(), 3000);
          }
        } finally {
          await cluster.destroy();
        }
      });
    }, combinationTimeoutMs);

    it(`${driver} × SIGSTOP of redis-server`, async () => {
      await combination(driver, 'SIGSTOP of redis-server', true, () =>
        withRedis([], (server) =>
          redisWorkload(driver, server.port, server.port, async () => {
            let freezes = 0;
            for (let round = 0; round < 2; round++) {
              server.signal('SIGSTOP');
              if (!(await rawCommand(server.port, 'PING', 500).then(() => true, () => false))) freezes += 1;
              await sleep(outageMs - 500);
              server.signal('SIGCONT');
              await sleep(800);
            }
            return freezes;
          }),
        ),
      );
    }, combinationTimeoutMs);

    it(`${driver} × kill -9 with AOF (appendfsync always)`, async () => {
      // Down for only ~0.3 s: node-redis queues commands meanwhile and may fail none, so only the kills are required.
      await combination(driver, 'kill -9 + restart, AOF always', false, () =>
        withRedis(['--appendonly', 'yes', '--appendfsync', 'always'], (server) =>
          redisWorkload(driver, server.port, server.port, async () => {
            let kills = 0;
            for (let round = 0; round < 2; round++) {
              const before = server.pid;
              await server.stop('SIGKILL');
              await sleep(300);
              await server.restart();
              if (server.pid !== before) kills += 1;
              await sleep(800);
            }
            return kills;
          }),
        ),
      );
    }, combinationTimeoutMs);

    it(`${driver} × lost replies`, async () => {
      await combination(driver, 'lost replies (proxy)', false, () =>
        withRedis([], (server) => withProxy(server.port, (proxy) => redisWorkload(driver, proxy.port, server.port, () => loseReplies(proxy)))),
      );
    }, combinationTimeoutMs);

    it(`${driver} × black hole`, async () => {
      await combination(driver, 'black hole (proxy, no FIN)', true, () =>
        withRedis([], (server) => withProxy(server.port, (proxy) => redisWorkload(driver, proxy.port, server.port, () => blackhole(proxy)))),
      );
    }, combinationTimeoutMs);
  }
});
