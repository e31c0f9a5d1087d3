// `npm run bench -- cluster [--backends postgres,redis] [--workers 1,2] [--connections 64]
//                           [--requests 20000] [--sessions 1000] [--hot-connections 16] [--hot-requests 3000]`
//
// The counter app (bench/lib/cluster-worker.ts: sessionkit/node's
// withSession and session.update(fn), a compare-and-set loop) under
// node:cluster, on PostgreSQL and on Redis, loaded by autocannon from the
// primary process. For each backend and worker count:
//  - cross-worker: one session, 20 increments each on a new connection (the
//    primary hands connections to workers round-robin): the answers must
//    count 1..20 and come from every worker;
//  - spread: `--requests` POSTs over `--sessions` sessions made beforehand,
//    `--connections` at once; then every session is read back and the counts
//    must add up to the requests answered 2xx;
//  - hot: `--hot-requests` POSTs on ONE session from `--hot-connections`
//    connections: worst-case contention; the count must equal the 2xx answers.
// autocannon shares the machine's 2 cores with the workers and the database,
// so the 2-worker speed-up is bounded well below 2x here.
//
// Results: bench/results/cluster.json.
import cluster, { type Worker } from 'node:cluster';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import pg from 'pg';
import { quoteTableName } from '../src/backends/postgres/table-name.js';
import { PostgresBackend } from '../src/backends/postgres/index.js';
import { saveResults } from './lib/report.js';
import { pgConnection } from './lib/scale-data.js';

const NAME = 'bench_cluster';

/** The little of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  requests: { total: number };
  latency: { p50: number; p99: number };
}
interface AutocannonRequest {
  method: string;
  setupRequest: (req: { headers?: Record<string, string> }) => { headers?: Record<string, string> };
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string;
  connections: number;
  amount: number;
  requests: AutocannonRequest[];
}) => Promise<AutocannonResult>;
const workerScript = fileURLToPath(new URL('./lib/cluster-worker.ts', import.meta.url));

interface Answer {
  status: number;
  body: string;
  worker: string | undefined;
  cookie: string | undefined;
}

/** One request on a connection of its own (no keep-alive), so that the primary picks a worker afresh. */
function call(port: number, method: 'GET' | 'POST', cookie?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path: '/', agent: false, headers: cookie ? { cookie } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const setCookie = res.headers['set-cookie']?.[0]?.split(';')[0];
        resolve({ status: res.statusCode ?? 0, body, worker: res.headers['x-worker'] as string | undefined, cookie: setCookie });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function startWorkers(backend: string, count: number): Promise<{ port: number; workers: Worker[] }> {
  cluster.setupPrimary({ exec: workerScript, execArgv: process.execArgv, silent: false });
  const workers: Worker[] = [];
  const ports: Promise<number>[] = [];
  for (let i = 0; i < count; i++) {
    const worker = cluster.fork({ BENCH_CLUSTER_BACKEND: backend, BENCH_CLUSTER_NAME: NAME });
    workers.push(worker);
    ports.push(new Promise((resolve, reject) => {
      worker.once('listening', (address) => resolve(address.port));
      worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before listening`)));
    }));
  }
  const [port] = await Promise.all(ports);
  return { port: port!, workers };
}

async function stopWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((worker) => new Promise<void>((resolve) => {
    if (worker.isDead()) return resolve();
    worker.once('exit', () => resolve());
    worker.kill('SIGTERM');
  })));
}

interface Load {
  requests: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Sum of the counters read back, minus what the sessions held before. */
  counted: number;
  lost: number;
}

/** Sends `amount` POSTs over `cookies` (round-robin) from `connections` connections and checks the counters. */
async function load(port: number, cookies: string[], connections: number, amount: number): Promise<Load> {
  const readCounts = async () => {
    let sum = 0;
    for (const cookie of cookies) sum += Number((await call(port, 'GET', cookie)).body);
    return sum;
  };
  const before = await readCounts();
  let next = 0;
  const started = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections,
    amount,
    requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, headers: { ...req.headers, cookie: cookies[next++ % cookies.length]! } }) }],
  });
  // autocannon's own duration is in whole seconds: time the run here.
  const seconds = (performance.now() - started) / 1000;
  const counted = (await readCounts()) - before;
  const ok2xx = result['2xx'];
  return {
    requests: result.requests.total,
    ok2xx,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds,
    requestsPerSecond: result.requests.total / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    counted,
    lost: ok2xx - counted,
  };
}

interface ClusterResult {
  backend: string;
  workers: number;
  crossWorker: { requests: number; workersSeen: number; countsInOrder: boolean };
  spread: Load;
  hot: Load;
}

async function resetStore(backend: string): Promise<void> {
  if (backend === 'postgres') {
    const pool = new pg.Pool({ ...pgConnection, max: 1 });
    await pool.query(`DROP TABLE IF EXISTS ${quoteTableName(NAME)}`);
    await new PostgresBackend(pool, { table: NAME }).ensureSchema();
    await pool.end();
  } else {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${NAME}:*`, 'COUNT', 10_000);
      cursor = nextCursor;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}

async function dropStore(backend: string): Promise<void> {
  if (backend === 'postgres') {
    const client = new pg.Client(pgConnection);
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${quoteTableName(NAME)}`);
    await client.end();
  } else {
    await resetStore('redis');
  }
}

/** `npm run bench -- cluster`: see the header comment. */
export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      backends: { type: 'string', default: 'postgres,redis' },
      workers: { type: 'string', default: '1,2' },
      connections: { type: 'string', default: '64' },
      requests: { type: 'string', default: '20000' },
      sessions: { type: 'string', default: '1000' },
      'hot-connections': { type: 'string', default: '16' },
      'hot-requests': { type: 'string', default: '3000' },
    },
  });
  const backends = values.backends.split(',');
  const workerCounts = values.workers.split(',').map(Number);
  const connections = Number(values.connections);
  const amount = Number(values.requests);
  const sessionCount = Number(values.sessions);
  const results: ClusterResult[] = [];
  for (const backend of backends) {
    for (const workers of workerCounts) {
      await resetStore(backend);
      const started = await startWorkers(backend, workers);
      try {
        const { port } = started;
        // Cross-worker: one session, each request on a new connection.
        const first = await call(port, 'POST');
        const cookie = first.cookie!;
        const answers = [first];
        for (let i = 1; i < 20; i++) answers.push(await call(port, 'POST', cookie));
        const crossWorker = {
          requests: answers.length,
          workersSeen: new Set(answers.map((a) => a.worker)).size,
          countsInOrder: answers.every((a, i) => a.status === 200 && Number(a.body) === i + 1),
        };
        // Spread: sessions made beforehand, then the timed load.
        const cookies: string[] = [];
        for (let i = 0; i < sessionCount; i++) cookies.push((await call(port, 'POST')).cookie!);
        const spread = await load(port, cookies, connections, amount);
        const hot = await load(port, [cookie], Number(values['hot-connections']), Number(values['hot-requests']));
        const result = { backend, workers, crossWorker, spread, hot };
        results.push(result);
        console.error(
          `${backend} x${workers}: cross-worker ${crossWorker.workersSeen} workers, in order ${crossWorker.countsInOrder}; spread ${Math.round(spread.requestsPerSecond)} req/s p99 ${spread.p99Ms} ms, lost ${spread.lost}, non-2xx ${spread.non2xx}; hot ${Math.round(hot.requestsPerSecond)} req/s, lost ${hot.lost}, non-2xx ${hot.non2xx}`,
        );
      } finally {
        await stopWorkers(started.workers);
      }
    }
    await dropStore(backend);
  }
  const speedups = backends.map((backend) => {
    const of = (n: number) => results.find((r) => r.backend === backend && r.workers === n)?.spread.requestsPerSecond;
    const one = of(1);
    const two = of(2);
    return { backend, oneWorker: one, twoWorkers: two, ratio: one && two ? two / one : undefined };
  });
  saveResults('cluster', { command: `npm run bench -- cluster ${args.join(' ')}`.trim(), connections, requests: amount, sessions: sessionCount, hotConnections: Number(values['hot-connections']), hotRequests: Number(values['hot-requests']), results, speedups });
  for (const s of speedups) console.log(`${s.backend}: 1 worker ${Math.round(s.oneWorker ?? NaN)} req/s, 2 workers ${Math.round(s.twoWorkers ?? NaN)} req/s (${s.ratio?.toFixed(2)}x)`);
}
