// `npm run bench -- http [--seconds 5] [--warmup 1] [--rounds 3] [--connections 50]
//                       [--subjects <id,...>] [--lost-update-runs 3] [--skip-throughput] [--skip-lost-updates]`
//
// Requests/s of the counter app (GET / increments a count kept
// in the session and answers it), served over HTTP by Express 5 and Fastify 5:
//
//   - with sessionkit (PostgresBackend on a pg Pool of 10);
//   - with express-session + connect-pg-simple, or @fastify/session (+ @fastify/cookie)
//     with connect-pg-simple as its store (same server, same pool size);
//   - with no sessions at all (the ceiling);
//
// each in two modes: every connection keeps the cookie it was given (as a
// browser does) or sends none (a new session per request). Each server runs in
// a process of its own and the load comes from autocannon in another, so the
// server has a core to itself as far as the shared machine allows. Rounds
// alternate between the subjects and the median round is reported with the
// range, so that a burst of load from elsewhere hits every subject alike.
//
// Then the lost-update check: one cookie, 100 concurrent increments, the final
// count read back, for the anchors (express-session with connect-pg-simple,
// connect-redis and MemoryStore; @fastify/session with connect-pg-simple) and
// sessionkit on memory, PostgreSQL and Redis.
//
// This file is also the server and the load generator: the benchmark forks it
// with BENCH_HTTP_ROLE=server or BENCH_HTTP_ROLE=load.
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { FastifyPluginAsync } from 'fastify';
import pg from 'pg';
import type { Measurement } from './lib/measure.js';
import { printTable, saveResults } from './lib/report.js';

const POOL_MAX = 10;
const ONE_WEEK_MS = 7 * 24 * 3600 * 1000;
const SECRET = 'bench-only secret, at least thirty-two characters long';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const here = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------
// Subjects: one counter app each.

type Framework = 'Express' | 'Fastify';
type Store =
  | 'none'
  | 'sessionkit-pg'
  | 'sessionkit-memory'
  | 'sessionkit-redis'
  | 'sessionkit-store-pg'
  | 'sessionkit-store-redis'
  | 'anchor-pg'
  | 'anchor-memory'
  | 'anchor-redis';

interface Subject {
  id: string;
  framework: Framework;
  /** The library column of the tables. */
  library: string;
  store: Store;
  /** sessionkit middleware written express-session style (`req.session.count = …`) instead of `update(fn)`. */
  propertyStyle?: boolean;
}

const SUBJECTS: Subject[] = [
  { id: 'express-none', framework: 'Express', library: 'Express, no sessions', store: 'none' },
  { id: 'express-sessionkit-pg', framework: 'Express', library: 'sessionkit (PostgreSQL)', store: 'sessionkit-pg' },
  { id: 'express-session-pg', framework: 'Express', library: 'express-session + connect-pg-simple', store: 'anchor-pg' },
  { id: 'express-session-memory', framework: 'Express', library: 'express-session + MemoryStore', store: 'anchor-memory' },
  { id: 'express-session-redis', framework: 'Express', library: 'express-session + connect-redis', store: 'anchor-redis' },
  { id: 'express-sessionkit-memory', framework: 'Express', library: 'sessionkit (memory)', store: 'sessionkit-memory' },
  { id: 'express-sessionkit-redis', framework: 'Express', library: 'sessionkit (Redis)', store: 'sessionkit-redis' },
  { id: 'express-sessionkit-pg-props', framework: 'Express', library: 'sessionkit (PostgreSQL), req.session property style', store: 'sessionkit-pg', propertyStyle: true },
  { id: 'express-session-sessionkitstore-pg', framework: 'Express', library: 'express-session + SessionkitStore (PostgreSQL)', store: 'sessionkit-store-pg' },
  { id: 'express-session-sessionkitstore-redis', framework: 'Express', library: 'express-session + SessionkitStore (Redis)', store: 'sessionkit-store-redis' },
  { id: 'fastify-none', framework: 'Fastify', library: 'Fastify, no sessions', store: 'none' },
  { id: 'fastify-sessionkit-pg', framework: 'Fastify', library: 'sessionkit (PostgreSQL)', store: 'sessionkit-pg' },
  { id: 'fastify-session-pg', framework: 'Fastify', library: '@fastify/session + connect-pg-simple', store: 'anchor-pg' },
];
const subjectById = (id: string) => {
  const subject = SUBJECTS.find((s) => s.id === id);
  if (subject === undefined) throw new TypeError(`unknown subject ${id}; known: ${SUBJECTS.map((s) => s.id).join(', ')}`);
  return subject;
};

/** The throughput subjects the issue names; the others are available with --subjects. */
const DEFAULT_THROUGHPUT = ['express-none', 'express-sessionkit-pg', 'express-session-pg', 'express-session-memory', 'fastify-none', 'fastify-sessionkit-pg', 'fastify-session-pg'];
const LOST_UPDATE = [
  'express-session-pg',
  'express-session-redis',
  'express-session-memory',
  'fastify-session-pg',
  'express-sessionkit-memory',
  'express-sessionkit-pg',
  'express-sessionkit-redis',
  'fastify-sessionkit-pg',
];

/** Where a server child keeps its sessions: its own table (PostgreSQL) or key prefix (Redis). */
interface StoreConfig {
  table: string;
  prefix: string;
}

interface RunningApp {
  server: Server;
  close(): Promise<void>;
}

interface CounterData {
  count?: number;
}

/** Builds the counter app of `subject`: GET / increments and answers the count, GET /read answers it unchanged. */
async function buildApp(subject: Subject, config: StoreConfig): Promise<RunningApp> {
  const closers: Array<() => Promise<unknown>> = [];
  const pool = () => {
    const created = new pg.Pool({ connectionString: DATABASE_URL, max: POOL_MAX });
    created.on('error', () => undefined);
    closers.push(() => created.end());
    return created;
  };

  let sessionkitBackend: import('../src/index.js').Backend | undefined;
  if (subject.store.startsWith('sessionkit-')) {
    if (subject.store === 'sessionkit-pg' || subject.store === 'sessionkit-store-pg') {
      const { PostgresBackend } = await import('../src/backends/postgres/index.js');
      const backend = new PostgresBackend(pool(), { table: config.table });
      await backend.ensureSchema();
      sessionkitBackend = backend;
    } else if (subject.store === 'sessionkit-redis' || subject.store === 'sessionkit-store-redis') {
      const { Redis } = await import('ioredis');
      const { RedisBackend } = await import('../src/backends/redis/index.js');
      const client = new Redis(REDIS_URL);
      closers.push(() => client.quit());
      sessionkitBackend = new RedisBackend(client, { prefix: config.prefix });
    } else {
      const { MemoryBackend } = await import('../src/index.js');
      sessionkitBackend = new MemoryBackend();
    }
    const backend = sessionkitBackend;
    closers.unshift(() => backend.close());
  }

  /** An express-session compatible store for the anchors (connect-pg-simple, connect-redis, MemoryStore). */
  const anchorStore = async () => {
    const { default: expressSession } = await import('express-session');
    if (subject.store === 'anchor-pg') {
      const { default: connectPgSimple } = await import('connect-pg-simple');
      const PgStore = connectPgSimple(expressSession);
      const anchorPool = pool();
      // connect-pg-simple's DDL (table.sql) with constraint and index names of this table: its own
      // names (session_pkey, IDX_session_expire) collide with any other table made by it in the schema.
      const table = config.table;
      await anchorPool.query(`CREATE TABLE IF NOT EXISTS "${table}" (sid varchar NOT NULL COLLATE "default", sess json NOT NULL, expire timestamp(6) NOT NULL, CONSTRAINT "${table}_pkey" PRIMARY KEY (sid))`);
      await anchorPool.query(`CREATE INDEX IF NOT EXISTS "${table}_expire" ON "${table}" (expire)`);
      const store = new PgStore({ pool: anchorPool, tableName: table, createTableIfMissing: false, pruneSessionInterval: false });
      closers.unshift(async () => store.close());
      return store;
    }
    if (subject.store === 'anchor-redis') {
      const { createClient } = await import('redis');
      const { RedisStore } = await import('connect-redis');
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      closers.push(() => client.close());
      return new RedisStore({ client, prefix: config.prefix });
    }
    return new expressSession.MemoryStore();
  };

  let server: Server;
  if (subject.framework === 'Express') {
    const { default: express } = await import('express');
    const app = express();
    let global = 0;
    if (subject.store === 'none') {
      app.get('/', (_req, res) => void res.type('text/plain').send(String(++global)));
      app.get('/read', (_req, res) => void res.type('text/plain').send(String(global)));
    } else if (sessionkitBackend !== undefined && subject.store.startsWith('sessionkit-store-')) {
      const { default: expressSession } = await import('express-session');
      const { SessionkitStore } = await import('../src/adapters/express-session/index.js');
      app.use(expressSession({ secret: SECRET, resave: false, saveUninitialized: false, store: new SessionkitStore(sessionkitBackend), cookie: { maxAge: ONE_WEEK_MS } }));
      app.get('/', (req, res) => {
        const session = req.session as unknown as CounterData;
        session.count = (session.count ?? 0) + 1;
        res.type('text/plain').send(String(session.count));
      });
      app.get('/read', (req, res) => void res.type('text/plain').send(String((req.session as unknown as CounterData).count ?? 0)));
    } else if (sessionkitBackend !== undefined && subject.propertyStyle === true) {
      const { sessionMiddleware } = await import('../src/adapters/express/index.js');
      app.use(sessionMiddleware(sessionkitBackend));
      app.get('/', (req, res) => {
        const session = req.session as unknown as CounterData;
        session.count = (session.count ?? 0) + 1;
        res.type('text/plain').send(String(session.count));
      });
      app.get('/read', (req, res) => void res.type('text/plain').send(String((req.session as unknown as CounterData).count ?? 0)));
    } else if (sessionkitBackend !== undefined) {
      const { getSession, sessionMiddleware } = await import('../src/adapters/express/index.js');
      app.use(sessionMiddleware<CounterData>(sessionkitBackend));
      app.get('/', async (req, res) => {
        const { count } = await getSession<CounterData>(req).update((d) => ({ ...d, count: (d.count ?? 0) + 1 }));
        res.type('text/plain').send(String(count));
      });
      app.get('/read', (req, res) => void res.type('text/plain').send(String(getSession<CounterData>(req).get('count') ?? 0)));
    } else {
      const { default: expressSession } = await import('express-session');
      // What the express-session README recommends: no resave, no empty sessions.
      app.use(expressSession({ secret: SECRET, resave: false, saveUninitialized: false, store: await anchorStore(), cookie: { maxAge: ONE_WEEK_MS } }));
      app.get('/', (req, res) => {
        const session = req.session as unknown as CounterData;
        session.count = (session.count ?? 0) + 1;
        res.type('text/plain').send(String(session.count));
      });
      app.get('/read', (req, res) => void res.type('text/plain').send(String((req.session as unknown as CounterData).count ?? 0)));
    }
    server = createServer(app);
  } else {
    const { default: Fastify } = await import('fastify');
    const app = Fastify();
    let global = 0;
    if (subject.store === 'none') {
      app.get('/', async (_request, reply) => reply.type('text/plain').send(String(++global)));
      app.get('/read', async (_request, reply) => reply.type('text/plain').send(String(global)));
    } else if (sessionkitBackend !== undefined) {
      const { getSession, sessionPlugin } = await import('../src/adapters/fastify/index.js');
      await app.register(sessionPlugin, { backend: sessionkitBackend });
      app.get('/', async (request, reply) => {
        const { count } = await getSession<CounterData>(request).update((d) => ({ ...d, count: (d.count ?? 0) + 1 }));
        return reply.type('text/plain').send(String(count));
      });
      app.get('/read', async (request, reply) => reply.type('text/plain').send(String(getSession<CounterData>(request).get('count') ?? 0)));
    } else {
      // Loaded without their types: @fastify/session declares `FastifyRequest.session` for the whole
      // program, which would clash with the sessionkit adapter tests type-checked beside this file.
      const require = createRequire(import.meta.url);
      const fastifyCookie = require('@fastify/cookie') as FastifyPluginAsync;
      const fastifySession = require('@fastify/session') as FastifyPluginAsync<Record<string, unknown>>;
      await app.register(fastifyCookie);
      // @fastify/session takes express-session compatible stores: connect-pg-simple serves as its PostgreSQL store.
      await app.register(fastifySession, { secret: SECRET, saveUninitialized: false, cookie: { secure: false, maxAge: ONE_WEEK_MS }, store: await anchorStore() });
      app.get('/', async (request, reply) => {
        const session = Reflect.get(request, 'session') as { get(name: 'count'): number | undefined; set(name: 'count', value: number): void };
        const count = (session.get('count') ?? 0) + 1;
        session.set('count', count);
        return reply.type('text/plain').send(String(count));
      });
      app.get('/read', async (request, reply) => {
        const session = Reflect.get(request, 'session') as { get(name: 'count'): number | undefined };
        return reply.type('text/plain').send(String(session.get('count') ?? 0));
      });
    }
    await app.ready();
    closers.unshift(() => app.close());
    server = app.server;
  }
  return {
    server,
    async close() {
      for (const close of closers) await close().catch(() => undefined);
    },
  };
}

// ---------------------------------------------------------------------------
// Child roles.

interface ServerReady {
  port: number;
}

/** BENCH_HTTP_ROLE=server: builds the app, listens on 127.0.0.1, tells the parent its port, exits when told (or orphaned). */
async function serverRole(): Promise<void> {
  const subject = subjectById(process.env.BENCH_HTTP_SUBJECT ?? '');
  const app = await buildApp(subject, { table: process.env.BENCH_HTTP_TABLE ?? 'bench_http', prefix: process.env.BENCH_HTTP_PREFIX ?? 'bench:http:' });
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  const stop = async () => {
    app.server.closeAllConnections();
    app.server.close();
    await app.close();
    process.exit(0);
  };
  process.on('message', (message) => message === 'stop' && void stop());
  process.on('disconnect', () => void stop());
  process.send!({ port: (app.server.address() as AddressInfo).port } satisfies ServerReady);
}

interface LoadRequest {
  url: string;
  connections: number;
  seconds: number;
  /** Each connection sends back the session cookie it last received, as a browser does. */
  reuseCookie: boolean;
}

interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers, connection errors and timeouts. */
  errors: number;
  total: number;
}

interface AutocannonClient {
  on(event: 'headers', listener: (info: { headers: string[] }) => void): void;
  setHeaders(headers: Record<string, string>): void;
}
interface AutocannonResult {
  requests: { total: number };
  duration: number;
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

/** BENCH_HTTP_ROLE=load: runs one autocannon load per message and answers with its result. */
function loadRole(): void {
  // autocannon ships no types; its API is a function of options.
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  process.on('message', async (message: LoadRequest) => {
    const { url, connections, seconds, reuseCookie } = message;
    const setupClient = (client: AutocannonClient) => {
      if (!reuseCookie) return;
      let cookie = '';
      client.on('headers', ({ headers }) => {
        for (let i = 0; i < headers.length; i += 2) {
          if (headers[i]!.toLowerCase() !== 'set-cookie') continue;
          const pair = headers[i + 1]!.split(';', 1)[0]!;
          // An expiring cookie (empty value) is dropped, as a browser would.
          const next = pair.endsWith('=') ? '' : pair;
          if (next !== cookie) {
            cookie = next;
            client.setHeaders(cookie === '' ? {} : { cookie });
          }
        }
      });
    };
    const result = await autocannon({ url, connections, duration: seconds, pipelining: 1, setupClient });
    process.send!({
      requestsPerSecond: result.requests.total / result.duration,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      errors: result.non2xx + result.errors + result.timeouts,
      total: result.requests.total,
    } satisfies LoadResult);
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------
// The parent: starts children, runs rounds, prints.

function forkRole(role: 'server' | 'load', env: Record<string, string> = {}): ChildProcess {
  return fork(here, [], { execArgv: process.execArgv, env: { ...process.env, BENCH_HTTP_ROLE: role, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before answering`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message as T);
    });
  });
}

interface StartedServer {
  url: string;
  stop(): Promise<void>;
}

const runId = `${process.pid}_${Date.now().toString(36)}`;
// Short table names: sessionkit derives prepared-statement names from them, and PostgreSQL keeps 63 characters of a name.
const configOf = (subject: Subject): StoreConfig => ({ table: `bench_http_${SUBJECTS.indexOf(subject)}_${runId}`, prefix: `bench:http:${subject.id}:${runId}:` });

async function startServer(subject: Subject): Promise<StartedServer> {
  const config = configOf(subject);
  const child = forkRole('server', { BENCH_HTTP_SUBJECT: subject.id, BENCH_HTTP_TABLE: config.table, BENCH_HTTP_PREFIX: config.prefix });
  const { port } = await nextMessage<ServerReady>(child);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send('stop');
      await exited;
    },
  };
}

/** Drops what the run left in PostgreSQL and Redis. */
async function cleanUp(): Promise<void> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  const { rows } = await pool.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1`, [`bench_http_%_${runId}`]);
  for (const { name } of rows) await pool.query(`DROP TABLE IF EXISTS "${name}"`);
  await pool.end();
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `bench:http:*:${runId}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // No Redis: nothing was written there.
  } finally {
    redis.disconnect();
  }
}

const MODES = [
  { operation: 'counter, cookie reused', reuseCookie: true },
  { operation: 'counter, new session per request', reuseCookie: false },
] as const;

interface Cell {
  subject: Subject;
  operation: string;
  rounds: Measurement[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function throughputRounds(subjects: Subject[], options: { seconds: number; warmup: number; rounds: number; connections: number }): Promise<Cell[]> {
  const cells: Cell[] = subjects.flatMap((subject) => MODES.map((mode) => ({ subject, operation: mode.operation, rounds: [] as Measurement[] })));
  const load = forkRole('load');
  try {
    for (let round = 1; round <= options.rounds; round++) {
      // Alternate the order between rounds, so no subject always runs right after the same neighbour.
      const order = round % 2 === 1 ? subjects : [...subjects].reverse();
      for (const subject of order) {
        const server = await startServer(subject);
        try {
          for (const mode of MODES) {
            const request = { url: `${server.url}/`, connections: options.connections, reuseCookie: mode.reuseCookie };
            if (options.warmup > 0) {
              load.send({ ...request, seconds: options.warmup } satisfies LoadRequest);
              await nextMessage<LoadResult>(load);
            }
            load.send({ ...request, seconds: options.seconds } satisfies LoadRequest);
            const result = await nextMessage<LoadResult>(load);
            const cell = cells.find((c) => c.subject === subject && c.operation === mode.operation)!;
            cell.rounds.push({
              library: subject.library,
              operation: mode.operation,
              inFlight: options.connections,
              opsPerSecond: result.requestsPerSecond,
              p50Ms: result.p50Ms,
              p99Ms: result.p99Ms,
              errors: result.errors,
            });
            console.error(`round ${round}: ${subject.framework} ${subject.library}, ${mode.operation}: ${fmt(result.requestsPerSecond)} req/s, p99 ${result.p99Ms} ms, ${result.errors} errors`);
          }
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    load.disconnect();
  }
  return cells;
}

/** 100 concurrent increments with one cookie; the count the session holds afterwards. */
async function lostUpdateRun(subject: Subject, increments: number): Promise<number> {
  const server = await startServer(subject);
  try {
    const first = await fetch(`${server.url}/`);
    if ((await first.text()) !== '1') throw new Error(`${subject.id}: the first visit did not count 1`);
    const cookie = first.headers.getSetCookie()[0]!.split(';', 1)[0]!;
    const replies = await Promise.all(Array.from({ length: increments }, () => fetch(`${server.url}/`, { headers: { cookie } })));
    const failed = replies.filter((r) => r.status !== 200).length;
    await Promise.all(replies.map((r) => r.arrayBuffer()));
    if (failed > 0) throw new Error(`${subject.id}: ${failed} of ${increments} increments failed`);
    const read = await (await fetch(`${server.url}/read`, { headers: { cookie } })).text();
    // Minus the first visit's increment.
    return Number(read) - 1;
  } finally {
    await server.stop();
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      subjects: { type: 'string' },
      'lost-update-runs': { type: 'string', default: '3' },
      'skip-throughput': { type: 'boolean', default: false },
      'skip-lost-updates': { type: 'boolean', default: false },
    },
  });
  const options = { seconds: Number(values.seconds), warmup: Number(values.warmup), rounds: Number(values.rounds), connections: Number(values.connections) };
  const subjects = (values.subjects === 'all' ? SUBJECTS.map((s) => s.id) : (values.subjects?.split(',') ?? DEFAULT_THROUGHPUT)).map(subjectById);
  const saved: Record<string, unknown> = { options: { ...options, poolMax: POOL_MAX } };

  try {
    if (!values['skip-throughput']) {
      console.log(`## HTTP counter app: ${options.connections} connections (autocannon in its own process), ${options.seconds} s per cell after ${options.warmup} s of warm-up, median of ${options.rounds} rounds\n`);
      const cells = await throughputRounds(subjects, options);
      const medianRound = (cell: Cell) => {
        const mid = median(cell.rounds.map((m) => m.opsPerSecond));
        return cell.rounds.find((m) => m.opsPerSecond === mid)!;
      };
      for (const framework of ['Express', 'Fastify'] as const) {
        const mine = cells.filter((c) => c.subject.framework === framework);
        if (mine.length === 0) continue;
        printTable(`${framework} 5 (req/s = ops/s; median round)`, mine.map(medianRound), 'sessionkit (PostgreSQL)');
      }

      console.log('### Range over rounds (req/s)\n');
      console.log('| framework | library | operation | min | median | max |');
      console.log('|---|---|---|---:|---:|---:|');
      for (const cell of cells) {
        const ops = cell.rounds.map((m) => m.opsPerSecond);
        console.log(`| ${cell.subject.framework} | ${cell.subject.library} | ${cell.operation} | ${fmt(Math.min(...ops))} | ${fmt(median(ops))} | ${fmt(Math.max(...ops))} |`);
      }
      console.log('');

      // The targets, with cookie reuse, per round (same round, same machine state).
      const ratioRange = (mine: Cell | undefined, other: Cell | undefined) => {
        if (mine === undefined || other === undefined) return undefined;
        const ratios = mine.rounds.map((m, i) => m.opsPerSecond / other.rounds[i]!.opsPerSecond);
        return { min: Math.min(...ratios), median: median(ratios), max: Math.max(...ratios) };
      };
      const find = (id: string, operation = MODES[0].operation) => cells.find((c) => c.subject.id === id && c.operation === operation);
      const targets = [
        { name: 'Express: sessionkit ÷ express-session + connect-pg-simple, cookie reused', ratio: ratioRange(find('express-sessionkit-pg'), find('express-session-pg')), target: 3 },
        { name: 'Express: sessionkit ÷ Express with no sessions, cookie reused', ratio: ratioRange(find('express-sessionkit-pg'), find('express-none')), target: 0.5 },
        { name: 'Fastify: sessionkit ÷ @fastify/session + connect-pg-simple, cookie reused', ratio: ratioRange(find('fastify-sessionkit-pg'), find('fastify-session-pg')), target: undefined },
        { name: 'Fastify: sessionkit ÷ Fastify with no sessions, cookie reused', ratio: ratioRange(find('fastify-sessionkit-pg'), find('fastify-none')), target: undefined },
      ];
      console.log('### Targets (ratio per round: min / median / max)\n');
      console.log('| comparison | min | median | max | target | met |');
      console.log('|---|---:|---:|---:|---:|---|');
      for (const { name, ratio, target } of targets) {
        if (ratio === undefined) continue;
        const met = target === undefined ? '' : ratio.median >= target ? 'yes' : 'NO';
        console.log(`| ${name} | ${fmt(ratio.min, 2)}x | ${fmt(ratio.median, 2)}x | ${fmt(ratio.max, 2)}x | ${target === undefined ? '' : `>= ${target}x`} | ${met} |`);
      }
      console.log('');
      saved.throughput = cells.map((c) => ({ id: c.subject.id, framework: c.subject.framework, library: c.subject.library, operation: c.operation, rounds: c.rounds }));
      saved.targets = targets;
    }

    if (!values['skip-lost-updates']) {
      const runs = Number(values['lost-update-runs']);
      const increments = 100;
      console.log(`### Lost updates: ${increments} concurrent increments with one cookie, final count (${runs} runs)\n`);
      console.log('| framework | library | final counts | lost (worst run) |');
      console.log('|---|---|---|---:|');
      const lost: Array<{ id: string; counts: number[] }> = [];
      for (const id of LOST_UPDATE) {
        const subject = subjectById(id);
        const counts: number[] = [];
        for (let i = 0; i < runs; i++) counts.push(await lostUpdateRun(subject, increments));
        lost.push({ id, counts });
        console.log(`| ${subject.framework} | ${subject.library} | ${counts.join(', ')} | ${fmt(increments - Math.min(...counts))} |`);
      }
      console.log('');
      saved.lostUpdates = { increments, results: lost };
    }
  } finally {
    await cleanUp();
  }
  saveResults('http', saved);
}

const role = process.env.BENCH_HTTP_ROLE;
if (role !== undefined && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (role === 'server') await serverRole();
  else if (role === 'load') loadRole();
  else throw new Error(`unknown BENCH_HTTP_ROLE ${role}`);
}
