// `npm run bench -- roundtrips [--requests 200] [--connections 50] [--subjects <id,...>]`
//
// Round trips to the store per request of the Express counter app (bench/http.ts:
// read the counter, add one, answer it), for every store that has them:
//
//   - PostgreSQL: statements sent, counted at the driver (every `query` of a
//     pg Client is one round trip: node-postgres sends one query at a time on
//     a connection, a prepared statement's parse/bind/execute included);
//   - Redis: commands clients sent to a private redis-server this script
//     starts (so nobody else's traffic counts), read from MONITOR, where the
//     commands a Lua script runs are marked and left out.
//
// Three loads: one client that keeps its cookie, one request after another
// (the round trips of one request that loads then updates its session); the
// same without a cookie (a new session per request); and `--connections`
// clients at once, each keeping its cookie (how batching shares round trips).
// Results: bench/results/roundtrips.json, rendered by `npm run bench -- report`.
import net from 'node:net';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { RedisServer, rawCommand } from '../test/support/redis-server.js';
import { saveResults } from './lib/report.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/test';

interface Count {
  total: number;
  byKind: Record<string, number>;
}

/** Counts every query a pg Client sends, by its first word (or prepared statement name). */
function countPostgres(): { reset(): void; read(): Count } {
  let count: Count = { total: 0, byKind: {} };
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string; name?: string };
    const text = typeof first === 'string' ? first : (first?.text ?? '');
    const kind = text.trim().split(/\s+/, 1)[0]!.toUpperCase() || 'other';
    count.total++;
    count.byKind[kind] = (count.byKind[kind] ?? 0) + 1;
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  return {
    reset: () => {
      count = { total: 0, byKind: {} };
    },
    read: () => ({ total: count.total, byKind: { ...count.byKind } }),
  };
}

/**
 * Commands clients sent to a private redis-server since the last reset, read
 * from MONITOR: a command a Lua script runs is marked `[0 lua]` there and is
 * not a round trip, so it is left out (INFO commandstats would count it).
 */
async function countRedis(port: number): Promise<{ reset(): Promise<void>; read(): Promise<Count>; close(): void }> {
  let count: Count = { total: 0, byKind: {} };
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.setEncoding('utf8');
  let buffered = '';
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\r\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      // +1733000000.123456 [0 127.0.0.1:54321] "evalsha" "…" …
      const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
      if (match === null || match[1] === 'lua') continue;
      const name = match[2]!.toLowerCase();
      count.total++;
      count.byKind[name] = (count.byKind[name] ?? 0) + 1;
    }
  });
  socket.write('MONITOR\r\n');
  // The monitor's own PING marks where counting may start and end: every command before it has been seen.
  const settle = async () => {
    const marker = `settle-${Math.random()}`;
    await rawCommand(port, `ECHO ${marker}`);
    for (let i = 0; i < 100 && !(count.byKind.echo ?? 0); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return {
    reset: async () => {
      await settle();
      count = { total: 0, byKind: {} };
    },
    read: async () => {
      await settle();
      const echo = count.byKind.echo ?? 0;
      const { echo: _settle, ...byKind } = count.byKind;
      return { total: count.total - echo, byKind };
    },
    close: () => socket.destroy(),
  };
}

interface Row {
  id: string;
  library: string;
  store: 'PostgreSQL' | 'Redis';
  load: string;
  requests: number;
  perRequest: number;
  byKind: Record<string, number>;
}

const cookieOf = (response: Response) => response.headers.getSetCookie()[0]?.split(';', 1)[0];

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { requests: { type: 'string', default: '200' }, connections: { type: 'string', default: '50' }, subjects: { type: 'string' } } });
  const requests = Number(values.requests);
  const connections = Number(values.connections);
  const redis = await RedisServer.start();
  process.env.REDIS_URL = `redis://127.0.0.1:${redis.port}`;
  // Loaded after REDIS_URL points at the private server: bench/http.ts reads it once.
  const { buildApp, subjectById } = await import('./http.js');
  const pgCount = countPostgres();
  const redisCount = await countRedis(redis.port);
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const tables: string[] = [];
  const rows: Row[] = [];
  const subjects = (values.subjects?.split(',') ?? [
    'express-sessionkit-pg',
    'express-sessionkit-pg-view',
    'express-session-sessionkitstore-pg',
    'express-session-pg',
    'express-sessionkit-redis',
    'express-sessionkit-redis-view',
    'express-session-sessionkitstore-redis',
    'express-session-redis',
    'express-session-redis-ioredis',
  ]).map(subjectById);
  try {
    for (const [index, subject] of subjects.entries()) {
      const store = subject.store.endsWith('pg') ? 'PostgreSQL' : 'Redis';
      const table = `bench_rt_${index}_${runId}`;
      if (store === 'PostgreSQL') tables.push(table);
      const app = await buildApp(subject, { table, prefix: `bench:rt:${index}:` });
      await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;
      const reset = () => (store === 'PostgreSQL' ? Promise.resolve(pgCount.reset()) : redisCount.reset());
      const read = () => (store === 'PostgreSQL' ? Promise.resolve(pgCount.read()) : redisCount.read());
      const measure = async (load: string, total: number, work: () => Promise<void>) => {
        await reset();
        await work();
        const { total: roundTrips, byKind } = await read();
        rows.push({ id: subject.id, library: subject.library, store, load, requests: total, perRequest: roundTrips / total, byKind });
      };
      const visit = async (cookie: string | undefined) => {
        const response = await fetch(url, cookie === undefined ? {} : { headers: { cookie } });
        if (response.status !== 200) throw new Error(`${subject.id}: ${response.status}`);
        await response.arrayBuffer();
        return cookieOf(response) ?? cookie;
      };
      try {
        // Warm-up: the session exists, statements are prepared and scripts loaded before counting.
        const cookie = await visit(undefined);
        await visit(cookie);
        await measure('one client, cookie reused, one request at a time', requests, async () => {
          let current = cookie;
          for (let i = 0; i < requests; i++) current = await visit(current);
        });
        await measure('one client, no cookie (a new session per request), one at a time', requests, async () => {
          for (let i = 0; i < requests; i++) await visit(undefined);
        });
        const cookies = await Promise.all(Array.from({ length: connections }, () => visit(undefined)));
        const rounds = Math.max(1, Math.round(requests / connections) * 2);
        await measure(`${connections} clients at once, each keeping its cookie`, rounds * connections, async () => {
          await Promise.all(
            cookies.map(async (start) => {
              let current = start;
              for (let i = 0; i < rounds; i++) current = await visit(current);
            }),
          );
        });
      } finally {
        app.server.closeAllConnections();
        app.server.close();
        await app.close();
      }
      for (const row of rows.filter((r) => r.id === subject.id)) {
        console.log(`${row.library} | ${row.load}: ${row.perRequest.toFixed(2)} round trips per request (${Object.entries(row.byKind).map(([k, n]) => `${k} ${n}`).join(', ')} over ${row.requests} requests)`);
      }
    }
  } finally {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    for (const table of tables) await pool.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => undefined);
    await pool.end();
    redisCount.close();
    await redis.destroy();
  }
  saveResults('roundtrips', { command: `npm run bench -- roundtrips${args.length > 0 ? ` ${args.join(' ')}` : ''}`, requests, connections, loadAverage: os.loadavg(), rows });
}
