import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { isBackendError } from '../../../src/index.js';
import { settleTimed, watchEventLoopLag } from '../../support/elapsed.js';
import { redisServerSkipReason } from '../../support/redis-env.js';
import { RedisServer } from '../../support/redis-server.js';
import { TcpProxy } from '../../support/tcp-proxy.js';

// A network that drops every packet without a FIN (a NAT that forgot the
// connection, a failover behind a virtual IP): the client's connection stays
// open and silent forever. The backend drops a connection silent past a
// deadline, so the client opens a new one, and service is back within
// 2 × timeoutMs of the network healing.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TIMEOUT_MS = 1000;

/**
 * Normal service, then a black hole for 2.5 × timeoutMs while requests keep
 * coming, then the network heals: every operation failed in time, service is
 * back within 2 × timeoutMs, and no compare-and-set told anything but ok landed.
 */
async function blackHoleThenHeal(backend: RedisBackend, proxy: TcpProxy): Promise<void> {
  const key = await backend.generate({ value: '0' });
  expect(await backend.get(key)).toMatchObject({ ok: true, value: '0' });

  proxy.blackhole();
  // Writes and reads for a while, as requests keep coming.
  const outcomes: { error: unknown; ms: number; lagMs: number; write: boolean }[] = [];
  const blackHoleEndsAt = performance.now() + 2.5 * TIMEOUT_MS;
  const running: Promise<void>[] = [];
  while (performance.now() < blackHoleEndsAt) {
    running.push(settleTimed(backend.compareAndSet(key, '0', '1')).then((o) => void outcomes.push({ ...o, write: true })));
    running.push(settleTimed(backend.get(key)).then((o) => void outcomes.push({ ...o, write: false })));
    await sleep(200);
  }
  await Promise.all(running);
  for (const { error, ms, lagMs, write } of outcomes) {
    expect(isBackendError(error), String(error)).toBe(true);
    const code = isBackendError(error) ? error.code : undefined;
    expect(write ? ['timeout', 'unavailable', 'indeterminate'] : ['timeout', 'unavailable']).toContain(code);
    expect(ms).toBeLessThan(TIMEOUT_MS + 300 + lagMs);
  }

  await proxy.up();
  const healedAt = performance.now();
  const lag = watchEventLoopLag();
  for (;;) {
    try {
      const fresh = await backend.generate({ value: 'back' });
      expect(await backend.get(fresh)).toMatchObject({ ok: true, value: 'back' });
      break;
    } catch (error) {
      if (!isBackendError(error)) throw error;
      if (performance.now() - healedAt > 10 * TIMEOUT_MS) throw new Error(`no service 10 × timeoutMs after the network healed: ${error.message}`);
      await sleep(50);
    }
  }
  const backAfterMs = performance.now() - healedAt;
  expect(backAfterMs).toBeLessThan(2 * TIMEOUT_MS + lag());

  // Every compare-and-set was refused or could not be learned: none was told ok, and the fence kept the
  // ones still in the black hole's buffers from landing once they reach Redis.
  const indeterminate = outcomes.filter((o) => isBackendError(o.error) && o.error.code === 'indeterminate').length;
  const stored = await backend.get(key);
  expect(stored.ok).toBe(true);
  if (indeterminate === 0) expect(stored).toMatchObject({ value: '0' });
}

describe.skipIf(redisServerSkipReason !== undefined)(`RedisBackend behind a black hole${redisServerSkipReason ? ` (skipped: ${redisServerSkipReason})` : ''}`, () => {
  let server: RedisServer;
  let proxy: TcpProxy;
  let client: Redis;
  let backend: RedisBackend;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = new TcpProxy({ host: '127.0.0.1', port: server.port });
    await proxy.up();
    // A reconnect delay well under timeoutMs, as docs/redis.md asks.
    client = new Redis({ host: '127.0.0.1', port: proxy.port, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    backend = new RedisBackend(client, { timeoutMs: TIMEOUT_MS });
  });
  afterAll(async () => {
    await backend?.close();
    client?.disconnect();
    await proxy?.down();
    await server?.destroy();
  });

  it('operations fail within timeoutMs, none lands later, and service is back within 2 × timeoutMs once the network heals', async () => {
    await blackHoleThenHeal(backend, proxy);
  }, 30_000);

  it('node-redis with socketTimeout and pingInterval (its socket is its own): the same', async () => {
    const nodeRedis = createClient({ pingInterval: 200, socket: { host: '127.0.0.1', port: proxy.port, socketTimeout: TIMEOUT_MS / 2, reconnectStrategy: () => 50 } });
    nodeRedis.on('error', () => undefined);
    await nodeRedis.connect();
    const onNodeRedis = new RedisBackend(nodeRedis, { timeoutMs: TIMEOUT_MS });
    try {
      await blackHoleThenHeal(onNodeRedis, proxy);
    } finally {
      await onNodeRedis.close();
      nodeRedis.destroy();
    }
  }, 30_000);
});
