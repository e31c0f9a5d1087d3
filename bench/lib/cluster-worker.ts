// A node:cluster worker of bench/cluster.ts: the counter app (sessionkit/node's
// withSession and update(fn)) on the backend named by BENCH_CLUSTER_BACKEND.
//   POST /  increments the session's counter (creating the session) and answers it
//   GET /   answers the counter without writing
// Every answer names the worker in `x-worker`, so the primary can see that a
// session made in one worker is read and written in the other.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';
import { withSession } from '../../src/adapters/node/index.js';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import type { BaseBackend } from '../../src/backend-kit/index.js';
import { pgConnection } from './scale-data.js';

const kind = process.env.BENCH_CLUSTER_BACKEND;
const name = process.env.BENCH_CLUSTER_NAME ?? 'bench_cluster';
let backend: BaseBackend;
let release: () => Promise<void>;
if (kind === 'postgres') {
  const pool = new pg.Pool({ ...pgConnection, max: 10 });
  pool.on('error', () => {});
  backend = new PostgresBackend(pool, { table: name });
  release = () => pool.end();
} else if (kind === 'redis') {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  redis.on('error', () => {});
  backend = new RedisBackend(redis, { prefix: `${name}:` });
  release = async () => void redis.disconnect();
} else {
  throw new Error(`BENCH_CLUSTER_BACKEND must be postgres or redis, got ${kind}`);
}

const worker = String(process.pid);
const server = createServer(
  withSession<{ count: number }>(backend, { onError: (_error, _req, res) => { res.statusCode = 500; res.end(); } }, async (req, res, session) => {
    res.setHeader('x-worker', worker);
    if (req.method === 'POST') {
      const { count } = await session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
      res.end(String(count));
    } else {
      res.end(String(session.get('count') ?? 0));
    }
  }),
);
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void backend.close().then(release).finally(() => process.exit(0));
});
