import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { isBackendError, type BackendErrorCode } from '../../../src/index.js';
import { settleTimed } from '../../support/elapsed.js';
import { redisServerSkipReason } from '../../support/redis-env.js';
import { RedisServer } from '../../support/redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TIMEOUT_MS = 800;

interface Failure {
  code: BackendErrorCode;
  ms: number;
  /** The longest event-loop stall while it ran: a timer cannot fire during one, so the bound on `ms` allows this much more. */
  lagMs: number;
}

/** Runs `op` and resolves with the BackendError code it rejects with and how long that took. */
async function failure(op: () => Promise<unknown>): Promise<Failure> {
  const { error, ms, lagMs } = await settleTimed(op());
  if (error === undefined) throw new Error('the operation succeeded while Redis was down');
  if (!isBackendError(error)) throw error;
  return { code: error.code, ms, lagMs };
}

/** Polls until the backend serves a generate + get again; resolves with how long that took. */
async function serviceResumes(backend: RedisBackend, withinMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    try {
      const key = await backend.generate({ value: 'back' });
      expect(await backend.get(key)).toMatchObject({ ok: true, value: 'back' });
      return performance.now() - started;
    } catch (error) {
      if (!isBackendError(error)) throw error;
      if (performance.now() - started > withinMs) throw new Error(`no service within ${withinMs} ms: ${error.message}`);
      await sleep(100);
    }
  }
}

describe.skipIf(redisServerSkipReason !== undefined)(`RedisBackend when Redis goes away${redisServerSkipReason ? ` (skipped: ${redisServerSkipReason})` : ''}`, () => {
  let server: RedisServer;
  let client: Redis;
  let backend: RedisBackend;

  beforeAll(async () => {
    server = await RedisServer.start();
    client = new Redis({ host: '127.0.0.1', port: server.port });
    client.on('error', () => undefined);
    backend = new RedisBackend(client, { timeoutMs: TIMEOUT_MS });
  });
  afterAll(async () => {
    await backend?.close();
    client?.disconnect();
    await server?.destroy();
  });

  it('killed: every operation rejects with a BackendError within timeoutMs; restarted on the same port: service again without a new client', async () => {
    const key = await backend.generate({ value: 'before' });
    await server.stop('SIGKILL');
    const failures = await Promise.all([
      failure(() => backend.get(key)),
      failure(() => backend.set(key, 'x')),
      failure(() => backend.generate({ value: 'y' })),
      failure(() => backend.clear(key)),
      failure(() => backend.compareAndSet(key, 'before', 'z')),
    ]);
    // Some time later, while ioredis keeps reconnecting.
    await sleep(300);
    failures.push(await failure(() => backend.get(key)));
    for (const [i, { code, ms, lagMs }] of failures.entries()) {
      // A write sent as the connection died (ioredis had not seen the close yet) may have reached Redis: only its
      // fate is unknown, and the backend says so. Reads and writes never sent are unavailable or timed out.
      const isWrite = i >= 1 && i <= 4;
      expect(isWrite ? ['unavailable', 'timeout', 'indeterminate'] : ['unavailable', 'timeout']).toContain(code);
      expect(ms).toBeLessThan(TIMEOUT_MS + 300 + lagMs);
    }

    await server.restart();
    await serviceResumes(backend, 15_000);
    // No persistence: the restarted server is empty, and says so.
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
  });

  it('frozen (SIGSTOP): operations reject within timeoutMs (reads "timeout", writes "timeout" or "indeterminate"), none lands after it thaws, and service resumes', async () => {
    const key = await backend.generate({ value: 'kept' });
    server.signal('SIGSTOP');
    try {
      // Bursts in successive turns: later ones wait behind calls in flight, and still settle within timeoutMs of their own start.
      const bursts: Promise<Failure>[] = [];
      for (let burst = 0; burst < 5; burst++) {
        bursts.push(failure(() => backend.get(key)), failure(() => backend.set(key, 'later')));
        await sleep(100);
      }
      const results = await Promise.all(bursts);
      for (const [i, { code, ms, lagMs }] of results.entries()) {
        // A read times out. A write sent to the frozen server has a fate nobody can learn before it thaws:
        // indeterminate; one held back until the deadline was never sent: timeout.
        expect(i % 2 === 0 ? ['timeout'] : ['timeout', 'indeterminate']).toContain(code);
        expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
        expect(ms).toBeLessThan(TIMEOUT_MS + 300 + lagMs);
      }
    } finally {
      server.signal('SIGCONT');
    }
    await serviceResumes(backend, 15_000);
    // Every set reached Redis after its deadline, when the server thawed: the fence refused them all.
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'kept' });
  });

  it('a client that has not connected yet: operations wait for the connection, or fail as unavailable within timeoutMs', async () => {
    const lazy = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
    lazy.on('error', () => undefined);
    const early = new RedisBackend(lazy, { timeoutMs: TIMEOUT_MS });
    const key = await early.generate({ value: 'lazy' });
    expect(await early.get(key)).toMatchObject({ ok: true, value: 'lazy' });
    await early.close();
    lazy.disconnect();

    const port = server.port;
    await server.stop('SIGKILL');
    const connecting = new Redis({ host: '127.0.0.1', port });
    connecting.on('error', () => undefined);
    const backendBeforeServer = new RedisBackend(connecting, { timeoutMs: TIMEOUT_MS });
    const { code, ms, lagMs } = await failure(() => backendBeforeServer.generate());
    expect(code).toBe('unavailable');
    expect(ms).toBeLessThan(TIMEOUT_MS + 300 + lagMs);
    await server.restart();
    await serviceResumes(backendBeforeServer, 15_000);
    await backendBeforeServer.close();
    connecting.disconnect();
  });
});
