import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { getSession, sessionMiddleware } from '../../src/adapters/express/index.js';
import type { Backend } from '../../src/core/contract.js';
import { connect } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { watchEventLoopLag } from '../support/elapsed.js';
import { postgresBinDir, ScratchPostgres } from '../support/postgres-server.js';
import { RedisServer } from '../support/redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const binaries = postgresBinDir();
if (binaries === undefined && process.env.CI === 'true') throw new Error('PostgreSQL server binaries are required when CI=true');

/** Every store operation settles within this; a request is a read then a compare-and-set, two operations. */
const timeoutMs = 1000;
/** After the server is back (restarted or resumed), some request succeeds within this. */
const serviceBackWithinMs = 3000;
const users = 8;

interface Fault {
  name: string;
  /** Breaks the server and, once it is back, resolves (its recovery is timed from then). */
  run: () => Promise<void>;
}

interface User {
  cookie: string | undefined;
  acknowledged: number;
  inDoubt: number;
}

/** The Express app of the quick start: a counter kept in the session with update(fn). */
function counterApp(backend: Backend): Promise<{ server: Server; url: string }> {
  const app = express();
  app.use(sessionMiddleware(backend, { cookie: { secure: false } }));
  app.post('/count', async (req, res) => {
    const { count } = await getSession<{ count: number }>(req).update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
    res.json({ count });
  });
  app.get('/count', (req, res) => {
    res.json({ count: getSession<{ count: number }>(req).get('count') ?? 0 });
  });
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

/**
 * Runs `users` clients, each POSTing /count with its own cookie, while each
 * fault runs, and checks what the issue of a broken store may and may not do.
 */
async function underChaos(backend: Backend, faults: Fault[]) {
  const { server, url } = await counterApp(backend);
  const population: User[] = Array.from({ length: users }, () => ({ cookie: undefined, acknowledged: 0, inDoubt: 0 }));
  const failures: { status: number; ms: number; setCookie: string | null }[] = [];
  const unexpected: unknown[] = [];
  let lastSuccessMs = 0;
  let running = true;
  const lag = watchEventLoopLag();

  const client = async (user: User) => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(`${url}/count`, { method: 'POST', headers: user.cookie === undefined ? {} : { cookie: user.cookie } });
        await response.arrayBuffer();
        const ms = performance.now() - started;
        if (response.status === 200) {
          const setCookie = response.headers.get('set-cookie');
          if (setCookie !== null) {
            const cookie = setCookie.split(';')[0]!;
            if (user.cookie !== undefined && cookie !== user.cookie) unexpected.push(new Error('the session moved to a new key'));
            user.cookie = cookie;
          }
          if (user.cookie !== undefined) user.acknowledged++;
          lastSuccessMs = performance.now();
        } else {
          failures.push({ status: response.status, ms, setCookie: response.headers.get('set-cookie') });
          // A failed request may still have been applied (a reply lost on the way back).
          if (user.cookie !== undefined) user.inDoubt++;
          await sleep(50);
        }
      } catch (error) {
        unexpected.push(error);
        await sleep(50);
      }
    }
  };

  const recoveries: { fault: string; ms: number }[] = [];
  const load = Promise.all(population.map(client));
  try {
    await sleep(800);
    for (const fault of faults) {
      await fault.run();
      const backAt = performance.now();
      while (lastSuccessMs < backAt && performance.now() - backAt < serviceBackWithinMs + 2000) await sleep(20);
      recoveries.push({ fault: fault.name, ms: lastSuccessMs - backAt });
      await sleep(500);
    }
  } finally {
    running = false;
    await load;
  }
  const lagMs = lag();

  // What each user's session holds now, read back through the app.
  const stored: number[] = [];
  for (const user of population) {
    if (user.cookie === undefined) {
      stored.push(0);
      continue;
    }
    const response = await fetch(`${url}/count`, { headers: { cookie: user.cookie } });
    stored.push(((await response.json()) as { count: number }).count);
  }
  await new Promise((resolve) => server.close(resolve));
  return { population, failures, unexpected, recoveries, lagMs, stored };
}

function expectNoBrokenPromise(result: Awaited<ReturnType<typeof underChaos>>): void {
  const { population, failures, unexpected, recoveries, lagMs, stored } = result;
  expect(unexpected).toEqual([]);
  // Only typed store failures: a 5xx with no Set-Cookie, each within two operations' timeoutMs and the event loop's longest stall.
  for (const failure of failures) {
    expect(failure.status).toBeGreaterThanOrEqual(500);
    expect(failure.setCookie).toBeNull();
    expect(failure.ms).toBeLessThan(2 * timeoutMs + 300 + lagMs);
  }
  expect(failures.length).toBeGreaterThan(0);
  for (const recovery of recoveries) expect(recovery.ms, recovery.fault).toBeLessThan(serviceBackWithinMs);
  // No acknowledged increment lost; where no request was in doubt, none invented either.
  population.forEach((user, i) => {
    expect(stored[i]).toBeGreaterThanOrEqual(user.acknowledged);
    expect(stored[i]).toBeLessThanOrEqual(user.acknowledged + user.inDoubt);
    if (user.inDoubt === 0) expect(stored[i]).toBe(user.acknowledged);
  });
  expect(population.every((user) => user.acknowledged > 0)).toBe(true);
}

/** The second server of a fault is started only after the first's recovery is measured: two short freezes. */
const freeze = (name: string, stop: () => Promise<void> | void, resume: () => Promise<void> | void): Fault => ({
  name,
  run: async () => {
    await stop();
    await sleep(1500);
    await resume();
  },
});

describe.skipIf(binaries === undefined)('chaos: the Express counter on a PostgreSQL that is crashed, restarted and frozen', () => {
  let server: ScratchPostgres | undefined;
  afterAll(async () => {
    await server?.signal('SIGCONT').catch(() => undefined);
    await server?.stop();
  });

  it('keeps serving, fails only with bounded 5xx, and loses no acknowledged write', async () => {
    server = await ScratchPostgres.start();
    const pg = server;
    // connect() creates the table; pruning runs every second here to keep the pruner's held connection in play.
    const backend = await connect({ conninfo: pg.url, timeoutMs, max: 6, pruneIntervalSeconds: 1 });
    try {
      const result = await underChaos(backend, [
        { name: 'crash and restart (pg_ctl -m immediate)', run: () => pg.restart('immediate') },
        { name: 'restart (pg_ctl -m fast)', run: () => pg.restart('fast') },
        freeze('SIGSTOP 1.5 s then SIGCONT', () => pg.signal('SIGSTOP'), () => pg.signal('SIGCONT')),
      ]);
      console.info('chaos postgres', JSON.stringify({ ...result, population: result.population.map((u) => [u.acknowledged, u.inDoubt]), failures: result.failures.length }));
      expectNoBrokenPromise(result);
    } finally {
      await backend.close();
    }
  }, 45_000);
});

describe('chaos: the Express counter on a Redis that is killed, restarted and frozen', () => {
  const servers: RedisServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.destroy();
  });

  const redisBackend = (server: RedisServer) => {
    // ioredis's default back-off waits up to 2 s between attempts; capped at 500 ms, service is back soon after the server.
    const client = new Redis({ port: server.port, host: '127.0.0.1', retryStrategy: (attempt) => Math.min(attempt * 50, 500), maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    return { client, backend: new RedisBackend(client, { timeoutMs }) };
  };

  it('frozen (SIGSTOP, SIGCONT): bounded 5xx, service back, no acknowledged write lost', async () => {
    const server = await RedisServer.start();
    servers.push(server);
    const { client, backend } = redisBackend(server);
    try {
      const result = await underChaos(backend, [freeze('SIGSTOP 1.5 s then SIGCONT', () => server.signal('SIGSTOP'), () => server.signal('SIGCONT'))]);
      console.info('chaos redis', JSON.stringify({ ...result, population: result.population.map((u) => [u.acknowledged, u.inDoubt]), failures: result.failures.length }));
      expectNoBrokenPromise(result);
    } finally {
      client.disconnect();
    }
  }, 30_000);

  it('with appendfsync always, killed (SIGKILL) and restarted, and frozen: no acknowledged write lost', async () => {
    const server = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    servers.push(server);
    const { client, backend } = redisBackend(server);
    try {
      const result = await underChaos(backend, [
        {
          name: 'SIGKILL then restart',
          run: async () => {
            await server.stop('SIGKILL');
            await sleep(500);
            await server.restart();
          },
        },
        freeze('SIGSTOP 1.5 s then SIGCONT', () => server.signal('SIGSTOP'), () => server.signal('SIGCONT')),
      ]);
      console.info('chaos redis aof', JSON.stringify({ ...result, population: result.population.map((u) => [u.acknowledged, u.inDoubt]), failures: result.failures.length }));
      expectNoBrokenPromise(result);
    } finally {
      client.disconnect();
    }
  }, 30_000);
});
