// `npm run bench -- http [--seconds 5] [--warmup 1] [--rounds 3] [--connections 50] [--new-sessions]
//                       [--subjects <id,...>|all] [--lost-update-runs 3] [--skip-throughput] [--skip-lost-updates]
//                       [--baseline <another checkout, built>]`
// `npm run bench -- quick`: the same comparison in under 2 minutes (1 round of 2 s per app), ratios printed, nothing saved.
//
// The counter app (read the counter from the session, add one, answer it)
// on Express 5, served by each session layer a user could pick:
//
//   - bare Express (no session: the ceiling);
//   - express-session with MemoryStore, connect-pg-simple, connect-redis 9
//     (node-redis, and ioredis through a three-call shim);
//   - sessionkit/express on memory, PostgreSQL and Redis (ioredis), in both
//     styles: the typed session (`getSession(req).update(fn)`) and the
//     express-session-style view (`req.session.count = …`);
//   - express-session with sessionkit's `SessionkitStore` on PostgreSQL and Redis.
//
// Load: autocannon, 50 connections, each keeping the cookie it was last given
// (as a browser does); `--new-sessions` adds a mode where no cookie is sent.
// Each server runs in a child process of its own, autocannon in another. The
// machine is shared, so what is reported are RATIOS within one round (every
// subject runs once per round, order alternating), and the server process's
// own CPU time per request (process.cpuUsage() around the measured window),
// which a busy neighbour disturbs far less than req/s. "Session work per
// request" is a subject's CPU µs per request minus bare Express's.
//
// `--baseline <checkout>` runs each sessionkit subject a second time on that
// checkout's build (its dist/, loaded by the server child in place of this
// one's), side by side in every round, and prints this build ÷ that one: what
// a change between the two cost or won, measured in one run.
//
// Then the lost-update check: one cookie, 100 concurrent increments, the final
// count read back.
//
// This file is also the server and the load generator: the benchmark forks it
// with BENCH_HTTP_ROLE=server or BENCH_HTTP_ROLE=load. bench/profile.ts and
// bench/roundtrips.ts use its servers too.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import os from 'node:os';
import type { FastifyPluginAsync } from 'fastify';
import pg from 'pg';
import { spreadOf, type Spread } from './lib/markdown.js';
import type { Measurement } from './lib/measure.js';
import { saveResults } from './lib/report.js';
import { ioredisForConnectRedis } from './lib/connect-redis-on-ioredis.js';
import { storeServerCpuMicros, type StoreServer } from './lib/store-server-cpu.js';

const POOL_MAX = 10;
const ONE_WEEK_MS = 7 * 24 * 3600 * 1000;
/** The floors' session cookie, as a session library sets it. */
const FLOOR_COOKIE = { path: '/', httpOnly: true, sameSite: 'lax', maxAge: ONE_WEEK_MS / 1000 } as const;
const SECRET = 'bench-only secret, at least thirty-two characters long';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const here = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------
// Subjects: one counter app each.

type Framework = 'Express' | 'Fastify';
type Store =
  | 'none'
  | 'cookie-floor'
  | 'redis-floor'
  | 'pg-floor'
  | 'sessionkit-pg'
  | 'sessionkit-memory'
  | 'sessionkit-redis'
  | 'sessionkit-redis-node'
  | 'sessionkit-store-pg'
  | 'sessionkit-store-redis'
  | 'sessionkit-store-redis-node'
  | 'anchor-pg'
  | 'anchor-memory'
  | 'anchor-redis'
  | 'anchor-redis-ioredis';

export interface Subject {
  id: string;
  framework: Framework;
  /** The library column of the tables. */
  library: string;
  store: Store;
  /** sessionkit middleware used express-session style (`req.session.count = …`) instead of the typed `update(fn)`. */
  propertyStyle?: boolean;
  /** The subjects this one is compared with ("vs its anchor"); several: the fastest of them in that round. */
  anchors?: readonly string[];
  /** Another build of sessionkit this subject's server loads (`--baseline`): the `dist/` directory of that checkout. */
  baselineDist?: string;
}

export const SUBJECTS: readonly Subject[] = [
  { id: 'express-none', framework: 'Express', library: 'bare Express 5, no session', store: 'none' },
  { id: 'express-cookie-floor', framework: 'Express', library: 'bare Express 5 + a cookie round trip (the floor of any cookie session)', store: 'cookie-floor' },
  { id: 'express-redis-floor', framework: 'Express', library: 'the cookie floor + a Redis GET and SET by its key (ioredis; the floor of a Redis session)', store: 'redis-floor' },
  { id: 'express-pg-floor', framework: 'Express', library: 'the cookie floor + a SELECT and an upsert by its key (pg Pool; the floor of a PostgreSQL session)', store: 'pg-floor' },
  { id: 'express-session-memory', framework: 'Express', library: 'express-session + MemoryStore', store: 'anchor-memory' },
  { id: 'express-sessionkit-memory', framework: 'Express', library: 'sessionkit, memory (typed session)', store: 'sessionkit-memory', anchors: ['express-session-memory'] },
  { id: 'express-sessionkit-memory-view', framework: 'Express', library: 'sessionkit, memory (req.session view)', store: 'sessionkit-memory', propertyStyle: true, anchors: ['express-session-memory'] },
  { id: 'express-session-pg', framework: 'Express', library: 'express-session + connect-pg-simple', store: 'anchor-pg' },
  { id: 'express-sessionkit-pg', framework: 'Express', library: 'sessionkit, PostgreSQL (typed session)', store: 'sessionkit-pg', anchors: ['express-session-pg'] },
  { id: 'express-sessionkit-pg-view', framework: 'Express', library: 'sessionkit, PostgreSQL (req.session view)', store: 'sessionkit-pg', propertyStyle: true, anchors: ['express-session-pg'] },
  { id: 'express-session-sessionkitstore-pg', framework: 'Express', library: 'express-session + SessionkitStore, PostgreSQL', store: 'sessionkit-store-pg', anchors: ['express-session-pg'] },
  { id: 'express-session-redis', framework: 'Express', library: 'express-session + connect-redis 9 (node-redis)', store: 'anchor-redis' },
  { id: 'express-session-redis-ioredis', framework: 'Express', library: 'express-session + connect-redis 9 (ioredis)', store: 'anchor-redis-ioredis' },
  { id: 'express-sessionkit-redis', framework: 'Express', library: 'sessionkit, Redis (ioredis, typed session)', store: 'sessionkit-redis', anchors: ['express-session-redis', 'express-session-redis-ioredis'] },
  { id: 'express-sessionkit-redis-view', framework: 'Express', library: 'sessionkit, Redis (ioredis, req.session view)', store: 'sessionkit-redis', propertyStyle: true, anchors: ['express-session-redis', 'express-session-redis-ioredis'] },
  { id: 'express-session-sessionkitstore-redis', framework: 'Express', library: 'express-session + SessionkitStore, Redis (ioredis)', store: 'sessionkit-store-redis', anchors: ['express-session-redis'] },
  // The same two on node-redis, the driver connect-redis 9 is measured on: a comparison with one driver on both sides.
  { id: 'express-sessionkit-redis-node', framework: 'Express', library: 'sessionkit, Redis (node-redis, typed session)', store: 'sessionkit-redis-node', anchors: ['express-session-redis', 'express-session-redis-ioredis'] },
  { id: 'express-session-sessionkitstore-redis-node', framework: 'Express', library: 'express-session + SessionkitStore, Redis (node-redis)', store: 'sessionkit-store-redis-node', anchors: ['express-session-redis'] },
  { id: 'fastify-none', framework: 'Fastify', library: 'Fastify, no sessions', store: 'none' },
  { id: 'fastify-sessionkit-pg', framework: 'Fastify', library: 'sessionkit (PostgreSQL)', store: 'sessionkit-pg', anchors: ['fastify-session-pg'] },
  { id: 'fastify-session-pg', framework: 'Fastify', library: '@fastify/session + connect-pg-simple', store: 'anchor-pg' },
];
/**
 * The floor a subject's session layer is measured against: the store floor of its store (the cookie floor
 * with its counter read and written by key straight through a driver, one round trip each), else the cookie floor.
 */
export const floorOf = (subject: Subject): string => {
  const server = storeServerOf(subject);
  return server === 'redis' ? 'express-redis-floor' : server === 'postgres' ? 'express-pg-floor' : 'express-cookie-floor';
};
/** Subjects that run another build are named `<id>@baseline`. */
const BASELINE_SUFFIX = '@baseline';
/** The twin of a sessionkit subject that loads the build in `dist` (`--baseline`). */
const baselineOf = (subject: Subject, dist: string): Subject => ({ ...subject, id: subject.id + BASELINE_SUFFIX, library: `${subject.library} [baseline build]`, anchors: [], baselineDist: dist });
export const subjectById = (id: string): Subject => {
  if (id.endsWith(BASELINE_SUFFIX)) return baselineOf(subjectById(id.slice(0, -BASELINE_SUFFIX.length)), process.env.SESSIONKIT_BENCH_DIST ?? '');
  const subject = SUBJECTS.find((s) => s.id === id);
  if (subject === undefined) throw new TypeError(`unknown subject ${id}; known: ${SUBJECTS.map((s) => s.id).join(', ')}`);
  return subject;
};

/** The bare-framework subject a subject's "vs bare" ratio divides by. */
const BARE: Record<Framework, string> = { Express: 'express-none', Fastify: 'fastify-none' };

/** The Express comparison (every Express subject); Fastify's are available with --subjects. */
const DEFAULT_THROUGHPUT = SUBJECTS.filter((s) => s.framework === 'Express').map((s) => s.id);
const LOST_UPDATE = [
  'express-session-pg',
  'express-session-redis',
  'express-session-memory',
  'express-sessionkit-memory',
  'express-sessionkit-pg',
  'express-sessionkit-redis',
];

/** Where a server child keeps its sessions: its own table (PostgreSQL) or key prefix (Redis). */
export interface StoreConfig {
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
export async function buildApp(subject: Subject, config: StoreConfig): Promise<RunningApp> {
  const closers: Array<() => Promise<unknown>> = [];
  const pool = () => {
    const created = new pg.Pool({ connectionString: DATABASE_URL, max: POOL_MAX });
    created.on('error', () => undefined);
    closers.push(() => created.end());
    return created;
  };
  // One client per app and driver, closed with the app: node-redis (connect-redis 9's driver) or ioredis.
  const nodeRedis = async () => {
    const { createClient } = await import('redis');
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    closers.push(() => client.close());
    return client;
  };
  const ioredis = async () => {
    const { Redis } = await import('ioredis');
    const client = new Redis(REDIS_URL);
    closers.push(() => client.quit());
    return client;
  };

  let sessionkitBackend: import('../src/index.js').Backend | undefined;
  if (subject.store.startsWith('sessionkit-')) {
    if (subject.store === 'sessionkit-pg' || subject.store === 'sessionkit-store-pg') {
      const { PostgresBackend } = await import('../src/backends/postgres/index.js');
      const backend = new PostgresBackend(pool(), { table: config.table });
      await backend.ensureSchema();
      sessionkitBackend = backend;
    } else if (subject.store.includes('redis')) {
      const { RedisBackend } = await import('../src/backends/redis/index.js');
      const client = subject.store.endsWith('-redis-node') ? await nodeRedis() : await ioredis();
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
      const { RedisStore } = await import('connect-redis');
      return new RedisStore({ client: await nodeRedis(), prefix: config.prefix });
    }
    if (subject.store === 'anchor-redis-ioredis') {
      const { RedisStore } = await import('connect-redis');
      const client = await ioredis();
      return new RedisStore({ client: ioredisForConnectRedis(client), prefix: config.prefix });
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
    } else if (subject.store === 'cookie-floor') {
      // What every cookie session does, and nothing more: one middleware that parses the
      // Cookie header, finds the counter by the cookie's random key in a Map, and a
      // Set-Cookie on the answer (a new key when none). Its cost over bare Express is
      // the part of the session layer's cost no session library can avoid on Express.
      const { parse, serialize } = await import('cookie');
      const { randomBytes } = await import('node:crypto');
      const counters = new Map<string, number>();
      type FloorRequest = { floorKey?: string };
      app.use((req, _res, next) => {
        const key = parse(req.headers.cookie ?? '').sid;
        (req as FloorRequest).floorKey = key !== undefined && counters.has(key) ? key : undefined;
        next();
      });
      const answer = (req: unknown, res: import('express').Response, increment: number) => {
        const key = (req as FloorRequest).floorKey ?? randomBytes(32).toString('base64url');
        const count = (counters.get(key) ?? 0) + increment;
        counters.set(key, count);
        res.setHeader('Set-Cookie', serialize('sid', key, FLOOR_COOKIE));
        res.type('text/plain').send(String(count));
      };
      app.get('/', (req, res) => answer(req, res, 1));
      app.get('/read', (req, res) => answer(req, res, 0));
    } else if (subject.store === 'redis-floor' || subject.store === 'pg-floor') {
      // The cookie floor with its counter in the store: per request one read and one write by the cookie's
      // key, straight through the driver, and nothing else (no batching, no hashed key, no compare-and-set,
      // no bound on the write). What no session on that store can skip with one client at a time: its two
      // round trips and the driver's own work. Under many clients sessionkit's batches share round trips.
      const { parse, serialize } = await import('cookie');
      const { randomBytes } = await import('node:crypto');
      let read: (key: string) => Promise<number | undefined>;
      let write: (key: string, count: number) => Promise<unknown>;
      if (subject.store === 'redis-floor') {
        const client = await ioredis();
        read = async (key) => {
          const value = await client.get(config.prefix + key);
          return value === null ? undefined : Number(value);
        };
        write = (key, count) => client.set(config.prefix + key, String(count), 'EX', ONE_WEEK_MS / 1000);
      } else {
        const db = pool();
        const table = config.table;
        await db.query(`CREATE TABLE IF NOT EXISTS "${table}" (key text PRIMARY KEY, count int NOT NULL)`);
        read = async (key) => (await db.query<{ count: number }>({ name: `${table}_read`, text: `SELECT count FROM "${table}" WHERE key = $1`, values: [key] })).rows[0]?.count;
        write = (key, count) => db.query({ name: `${table}_write`, text: `INSERT INTO "${table}" (key, count) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET count = excluded.count`, values: [key, count] });
      }
      const answer = async (req: import('express').Request, res: import('express').Response, increment: number) => {
        const sent = parse(req.headers.cookie ?? '').sid;
        const stored = sent === undefined ? undefined : await read(sent);
        const key = stored === undefined ? randomBytes(32).toString('base64url') : sent!;
        const count = (stored ?? 0) + increment;
        if (increment !== 0 || stored === undefined) await write(key, count);
        res.setHeader('Set-Cookie', serialize('sid', key, FLOOR_COOKIE));
        res.type('text/plain').send(String(count));
      };
      app.get('/', (req, res, next) => void answer(req, res, 1).catch(next));
      app.get('/read', (req, res, next) => void answer(req, res, 0).catch(next));
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

interface CpuReading {
  cpuMicros: number;
}

/**
 * V8's CPU profiler (what `node --cpu-prof` runs) over a window the parent
 * chooses, through node:inspector, so that start-up and warm-up stay out of
 * the profile. Samples every 100 µs (`--cpu-prof` takes one a millisecond).
 */
const profiler = (() => {
  let session: import('node:inspector').Session | undefined;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
  return {
    async start() {
      const { Session } = await import('node:inspector');
      session = new Session();
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 100 });
      await post('Profiler.start');
    },
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      session!.disconnect();
      return profile;
    },
  };
})();

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

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
  process.on('message', (message) => {
    if (message === 'stop') void stop();
    // The server's own CPU time so far (µs): the parent reads it around a measured window.
    else if (message === 'cpu') process.send!({ cpuMicros: cpuMicros() } satisfies CpuReading);
    else if (message === 'profile-start') void profiler.start().then(() => process.send!({ started: true }));
    else if (message === 'profile-stop') void profiler.stop().then((profile) => process.send!({ profile }));
  });
  process.on('disconnect', () => void stop());
  process.send!({ port: (app.server.address() as AddressInfo).port } satisfies ServerReady);
}

export interface LoadRequest {
  url: string;
  connections: number;
  seconds: number;
  /** Each connection sends back the session cookie it last received, as a browser does. */
  reuseCookie: boolean;
}

export interface LoadResult {
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

function forkRole(role: 'server' | 'load', env: Record<string, string> = {}, extraExecArgv: readonly string[] = []): ChildProcess {
  return fork(here, [], { execArgv: [...process.execArgv, ...extraExecArgv], env: { ...process.env, BENCH_HTTP_ROLE: role, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

/** A server child: its URL, its CPU time so far, and the stop that waits for it to exit. */
export interface StartedServer {
  url: string;
  cpuMicros(): Promise<number>;
  /** Starts V8's CPU profiler in the server. */
  startProfile(): Promise<void>;
  /** Stops it and returns the profile (the `.cpuprofile` JSON). */
  stopProfile(): Promise<unknown>;
  stop(): Promise<void>;
}

const runId = `${process.pid}_${Date.now().toString(36)}`;
// Short table names: sessionkit derives prepared-statement names from them, and PostgreSQL keeps 63 characters of a name.
// Named after this process's run, so cleanUp() of this process drops them (bench/instructions.ts hands them to its children).
export const configOf = (subject: Subject): StoreConfig => {
  const index = SUBJECTS.findIndex((s) => s.id === subject.id.replace(BASELINE_SUFFIX, ''));
  const twin = subject.baselineDist === undefined ? '' : 'b';
  return { table: `bench_http_${index}${twin}_${runId}`, prefix: `bench:http:${subject.id}:${runId}:` };
};

/** Starts `subject`'s counter app in a child process (with `execArgv` added to node's flags, e.g. `--cpu-prof`). */
export async function startServer(subject: Subject, execArgv: readonly string[] = []): Promise<StartedServer> {
  const config = configOf(subject);
  const baseline: Record<string, string> = subject.baselineDist === undefined ? {} : { SESSIONKIT_BENCH_DIST: subject.baselineDist };
  const child = forkRole('server', { BENCH_HTTP_SUBJECT: subject.id, BENCH_HTTP_TABLE: config.table, BENCH_HTTP_PREFIX: config.prefix, ...baseline }, execArgv);
  const { port } = await nextMessage<ServerReady>(child);
  return {
    url: `http://127.0.0.1:${port}`,
    cpuMicros: async () => {
      const reading = nextMessage<CpuReading>(child);
      child.send('cpu');
      return (await reading).cpuMicros;
    },
    startProfile: async () => {
      const started = nextMessage<unknown>(child);
      child.send('profile-start');
      await started;
    },
    stopProfile: async () => {
      const stopped = nextMessage<{ profile: unknown }>(child);
      child.send('profile-stop');
      return (await stopped).profile;
    },
    stop: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send('stop');
      await exited;
    },
  };
}

/** The load generator child: autocannon runs in it, one load per call. */
export interface LoadGenerator {
  run(request: LoadRequest): Promise<LoadResult>;
  close(): void;
}

export function startLoadGenerator(): LoadGenerator {
  const child = forkRole('load');
  return {
    run: (request) => {
      const result = nextMessage<LoadResult>(child);
      child.send(request);
      return result;
    },
    close: () => child.disconnect(),
  };
}

/** Drops what the run left in PostgreSQL and Redis. */
export async function cleanUp(): Promise<void> {
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

/** One round of one subject under one load mode: the load's result and the server's CPU time per request. */
export interface HttpMeasurement extends Measurement {
  /** Server process CPU time (user + system) over the measured window ÷ requests answered, in µs. */
  cpuMicrosPerRequest: number;
  /** The store server's CPU time (PostgreSQL's or Redis's processes) over the same window ÷ requests, in µs; absent for memory. */
  storeCpuMicrosPerRequest?: number;
}

/** The server process a subject's store runs in, if any (memory and the cookie floor keep theirs in the app). */
function storeServerOf(subject: Subject): StoreServer | undefined {
  if (subject.store.includes('redis')) return 'redis';
  if (subject.store.includes('pg')) return 'postgres';
  return undefined;
}

interface Cell {
  subject: Subject;
  operation: string;
  rounds: HttpMeasurement[];
}

const median = (values: number[]) => spreadOf(values).median;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const loadAverage = () => os.loadavg().map((l) => Math.round(l * 100) / 100);

interface ThroughputOptions {
  seconds: number;
  warmup: number;
  rounds: number;
  connections: number;
  modes: readonly (typeof MODES)[number][];
}

async function throughputRounds(subjects: Subject[], options: ThroughputOptions): Promise<Cell[]> {
  const cells: Cell[] = subjects.flatMap((subject) => options.modes.map((mode) => ({ subject, operation: mode.operation, rounds: [] as HttpMeasurement[] })));
  const load = startLoadGenerator();
  try {
    for (let round = 1; round <= options.rounds; round++) {
      // Alternate the order between rounds, so no subject always runs right after the same neighbour.
      const order = round % 2 === 1 ? subjects : [...subjects].reverse();
      for (const subject of order) {
        const server = await startServer(subject);
        try {
          for (const mode of options.modes) {
            const request = { url: `${server.url}/`, connections: options.connections, reuseCookie: mode.reuseCookie };
            if (options.warmup > 0) await load.run({ ...request, seconds: options.warmup });
            const storeServer = storeServerOf(subject);
            const storeCpuBefore = storeServer === undefined ? undefined : storeServerCpuMicros(storeServer);
            const cpuBefore = await server.cpuMicros();
            const result = await load.run({ ...request, seconds: options.seconds });
            const cpuMicrosPerRequest = ((await server.cpuMicros()) - cpuBefore) / Math.max(1, result.total);
            const storeCpuAfter = storeServer === undefined ? undefined : storeServerCpuMicros(storeServer);
            const storeCpuMicrosPerRequest = storeCpuBefore === undefined || storeCpuAfter === undefined ? undefined : (storeCpuAfter - storeCpuBefore) / Math.max(1, result.total);
            const cell = cells.find((c) => c.subject === subject && c.operation === mode.operation)!;
            cell.rounds.push({
              library: subject.library,
              operation: mode.operation,
              inFlight: options.connections,
              opsPerSecond: result.requestsPerSecond,
              p50Ms: result.p50Ms,
              p99Ms: result.p99Ms,
              errors: result.errors,
              cpuMicrosPerRequest,
              ...(storeCpuMicrosPerRequest === undefined ? {} : { storeCpuMicrosPerRequest }),
            });
            console.error(
              `round ${round}: ${subject.library}, ${mode.operation}: ${fmt(result.requestsPerSecond)} req/s, ${fmt(cpuMicrosPerRequest, 1)} µs CPU/req${storeCpuMicrosPerRequest === undefined ? '' : ` (+ ${fmt(storeCpuMicrosPerRequest, 1)} in the store server)`}, p99 ${result.p99Ms} ms, ${result.errors} errors (load ${loadAverage().join(' ')})`,
            );
          }
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    load.close();
  }
  return cells;
}

/** One subject's ratios within each round: vs the bare framework, vs its anchor (the fastest one that round). */
export interface SubjectRatios {
  id: string;
  library: string;
  operation: string;
  reqPerSecond: { median: number; min: number; max: number };
  vsBare: { median: number; min: number; max: number } | undefined;
  anchor: string | undefined;
  vsAnchor: { median: number; min: number; max: number } | undefined;
  /** Server CPU µs per request (median over rounds). */
  cpuMicrosPerRequest: number;
  /** CPU µs per request beyond bare Express's in the same round (median over rounds). */
  sessionCpuMicros: number | undefined;
  /** The store server's CPU µs per request (median over rounds); undefined for memory, or without /proc. */
  storeCpuMicrosPerRequest: number | undefined;
  /** 1/rate − 1/bare rate in µs (the time a request adds, the server being the bottleneck), median over rounds. */
  sessionMicrosByRate: number | undefined;
}

/** `cell`'s rate ÷ the fastest of `others`' in each round, over the rounds where all ran; undefined when none did. */
function rateRatio(cell: Cell, others: readonly Cell[]): Spread | undefined {
  const values = cell.rounds.map((r, i) => r.opsPerSecond / Math.max(...others.map((o) => o.rounds[i]?.opsPerSecond ?? Number.NaN))).filter(Number.isFinite);
  return values.length === 0 ? undefined : spreadOf(values);
}

function ratiosOf(cells: Cell[]): SubjectRatios[] {
  const find = (id: string, operation: string) => cells.find((c) => c.subject.id === id && c.operation === operation);
  return cells.map((cell) => {
    const bare = find(BARE[cell.subject.framework], cell.operation);
    const anchors = (cell.subject.anchors ?? []).map((id) => find(id, cell.operation)).filter((c): c is Cell => c !== undefined);
    const perRound = (f: (i: number) => number | undefined) => {
      const values = cell.rounds.map((_, i) => f(i)).filter((v): v is number => v !== undefined && Number.isFinite(v));
      return values.length === 0 ? undefined : spreadOf(values);
    };
    const bareRate = (i: number) => (bare === undefined || bare === cell ? undefined : bare.rounds[i]?.opsPerSecond);
    const rate = (i: number) => cell.rounds[i]!.opsPerSecond;
    return {
      id: cell.subject.id,
      library: cell.subject.library,
      operation: cell.operation,
      reqPerSecond: spreadOf(cell.rounds.map((r) => r.opsPerSecond)),
      vsBare: bare === undefined || bare === cell ? undefined : rateRatio(cell, [bare]),
      anchor: anchors.length === 0 ? undefined : anchors.map((a) => a.subject.library).join(' or ') + (anchors.length > 1 ? ' (the faster)' : ''),
      vsAnchor: anchors.length === 0 ? undefined : rateRatio(cell, anchors),
      cpuMicrosPerRequest: median(cell.rounds.map((r) => r.cpuMicrosPerRequest)),
      sessionCpuMicros: perRound((i) => (bare === undefined || bare === cell ? undefined : cell.rounds[i]!.cpuMicrosPerRequest - bare.rounds[i]!.cpuMicrosPerRequest))?.median,
      storeCpuMicrosPerRequest: perRound((i) => cell.rounds[i]!.storeCpuMicrosPerRequest)?.median,
      sessionMicrosByRate: perRound((i) => (bareRate(i) === undefined ? undefined : 1e6 / rate(i) - 1e6 / bareRate(i)!))?.median,
    };
  });
}

/**
 * The goals of the comparison, judged on the typed-session rows with the cookie reused. A goal's measure is
 * `subject`'s rate ÷ the fastest of `over`'s in each round (median over rounds), or its session CPU µs per
 * request. Each is also taken for `floor`, the app the subject's session layer cannot beat: the cookie
 * floor, or its store's floor (one read and one write by key straight through the driver), or for
 * SessionkitStore express-session with MemoryStore (express-session's own work, with a store that makes no
 * round trip). Where the floor misses a goal in the same run, no session layer on that store meets it on
 * this machine (for SessionkitStore: no store slower than an in-process Map).
 */
const GOALS: ReadonlyArray<{ name: string; subject: string; over?: readonly string[]; target: number; atMost?: true; floor: string }> = [
  { name: 'sessionkit memory ÷ bare Express', subject: 'express-sessionkit-memory', over: [BARE.Express], target: 0.8, floor: 'express-cookie-floor' },
  { name: 'sessionkit memory: session CPU µs per request (beyond bare Express)', subject: 'express-sessionkit-memory', target: 25, atMost: true, floor: 'express-cookie-floor' },
  { name: 'sessionkit memory ÷ express-session + MemoryStore', subject: 'express-sessionkit-memory', over: ['express-session-memory'], target: 1.6, floor: 'express-cookie-floor' },
  { name: 'sessionkit PostgreSQL ÷ bare Express', subject: 'express-sessionkit-pg', over: [BARE.Express], target: 0.7, floor: 'express-pg-floor' },
  { name: 'sessionkit PostgreSQL ÷ connect-pg-simple', subject: 'express-sessionkit-pg', over: ['express-session-pg'], target: 4, floor: 'express-pg-floor' },
  { name: 'sessionkit Redis ÷ the faster connect-redis', subject: 'express-sessionkit-redis', over: ['express-session-redis', 'express-session-redis-ioredis'], target: 1.6, floor: 'express-redis-floor' },
  { name: 'SessionkitStore Redis ÷ connect-redis 9', subject: 'express-session-sessionkitstore-redis', over: ['express-session-redis'], target: 1.3, floor: 'express-session-memory' },
  { name: 'sessionkit Redis on node-redis ÷ the faster connect-redis', subject: 'express-sessionkit-redis-node', over: ['express-session-redis', 'express-session-redis-ioredis'], target: 1.6, floor: 'express-redis-floor' },
  { name: 'SessionkitStore Redis on node-redis ÷ connect-redis 9', subject: 'express-session-sessionkitstore-redis-node', over: ['express-session-redis'], target: 1.3, floor: 'express-session-memory' },
  { name: 'SessionkitStore PostgreSQL ÷ connect-pg-simple', subject: 'express-session-sessionkitstore-pg', over: ['express-session-pg'], target: 2.5, floor: 'express-session-memory' },
];

export interface GoalResult {
  name: string;
  measured: number;
  goal: string;
  met: boolean;
  /** The floor's library, the same measure taken for it, and whether it meets the goal; undefined when the floor did not run. */
  floor: string;
  floorMeasured: number | undefined;
  floorMeets: boolean | undefined;
}

function goalsOf(cells: Cell[], ratios: SubjectRatios[]): GoalResult[] {
  const operation = MODES[0].operation;
  const cellOf = (id: string) => cells.find((c) => c.subject.id === id && c.operation === operation);
  const measure = (id: string, over: readonly string[] | undefined): number | undefined => {
    if (over === undefined) return ratios.find((r) => r.id === id && r.operation === operation)?.sessionCpuMicros;
    const cell = cellOf(id);
    const others = over.map(cellOf).filter((c): c is Cell => c !== undefined);
    return cell === undefined || others.length === 0 ? undefined : rateRatio(cell, others)?.median;
  };
  const results: GoalResult[] = [];
  for (const g of GOALS) {
    const measured = measure(g.subject, g.over);
    if (measured === undefined) continue;
    const meets = (value: number) => (g.atMost ? value <= g.target : value >= g.target);
    const floorMeasured = measure(g.floor, g.over);
    results.push({ name: g.name, measured, goal: `${g.atMost ? '≤' : '≥'} ${g.target}`, met: meets(measured), floor: subjectById(g.floor).library, floorMeasured, floorMeets: floorMeasured === undefined ? undefined : meets(floorMeasured) });
  }
  return results;
}

function printRatios(ratios: SubjectRatios[]): void {
  const x = (s: { median: number } | undefined) => (s === undefined ? '' : `${fmt(s.median, 2)}`);
  console.log('| app | load | req/s (median) | vs bare | vs its anchor | CPU µs/req | session CPU µs/req | store server CPU µs/req | 1/rate − 1/bare µs |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of ratios) {
    console.log(
      `| ${r.library} | ${r.operation} | ${fmt(r.reqPerSecond.median)} | ${x(r.vsBare)} | ${r.vsAnchor === undefined ? '' : `${x(r.vsAnchor)}x ${r.anchor}`} | ${fmt(r.cpuMicrosPerRequest, 1)} | ${r.sessionCpuMicros === undefined ? '' : fmt(r.sessionCpuMicros, 1)} | ${r.storeCpuMicrosPerRequest === undefined ? '' : fmt(r.storeCpuMicrosPerRequest, 1)} | ${r.sessionMicrosByRate === undefined ? '' : fmt(r.sessionMicrosByRate, 1)} |`,
    );
  }
  console.log('');
}

/** This build ÷ the baseline build, per sessionkit subject: the ratio of their rates in each round (they ran side by side). */
function printBaselineRatios(cells: Cell[], dist: string): void {
  console.log(`### This build ÷ the baseline build (${dist})\n`);
  console.log('| app | load | this ÷ baseline (median) | range | this vs bare | baseline vs bare |');
  console.log('|---|---|---:|---|---:|---:|');
  for (const cell of cells) {
    const twin = cells.find((c) => c.subject.id === cell.subject.id + BASELINE_SUFFIX && c.operation === cell.operation);
    const bare = cells.find((c) => c.subject.id === BARE[cell.subject.framework] && c.operation === cell.operation);
    if (twin === undefined || bare === undefined) continue;
    const ratio = spreadOf(cell.rounds.map((r, i) => r.opsPerSecond / twin.rounds[i]!.opsPerSecond));
    const vsBare = (c: Cell) => median(c.rounds.map((r, i) => r.opsPerSecond / bare.rounds[i]!.opsPerSecond));
    console.log(`| ${cell.subject.library} | ${cell.operation} | ${fmt(ratio.median, 3)} | ${fmt(ratio.min, 3)}–${fmt(ratio.max, 3)} | ${fmt(vsBare(cell), 2)} | ${fmt(vsBare(twin), 2)} |`);
  }
  console.log('');
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
      quick: { type: 'boolean', default: false },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string', default: '50' },
      'new-sessions': { type: 'boolean', default: false },
      subjects: { type: 'string' },
      'lost-update-runs': { type: 'string', default: '3' },
      'skip-throughput': { type: 'boolean', default: false },
      'skip-lost-updates': { type: 'boolean', default: false },
      baseline: { type: 'string' },
    },
  });
  const quick = values.quick;
  const options: ThroughputOptions = {
    seconds: Number(values.seconds ?? (quick ? 2 : 5)),
    warmup: Number(values.warmup ?? (quick ? 0.5 : 1)),
    rounds: Number(values.rounds ?? (quick ? 1 : 3)),
    connections: Number(values.connections),
    modes: values['new-sessions'] ? MODES : [MODES[0]],
  };
  const subjects = (values.subjects === 'all' ? SUBJECTS.map((s) => s.id) : (values.subjects?.split(',') ?? DEFAULT_THROUGHPUT)).map(subjectById);
  // The ratios need the bare framework in the same round.
  for (const framework of new Set(subjects.map((s) => s.framework))) if (!subjects.some((s) => s.id === BARE[framework])) subjects.unshift(subjectById(BARE[framework]));
  const baselineDist = values.baseline === undefined ? undefined : resolvePath(values.baseline, 'dist');
  if (baselineDist !== undefined) {
    if (!existsSync(join(baselineDist, 'index.js'))) throw new Error(`--baseline ${values.baseline}: no built package there (run npm run build in that checkout)`);
    // Each sessionkit subject right after its twin on the other build, in every round.
    for (const subject of [...subjects]) if (subject.store.startsWith('sessionkit-')) subjects.splice(subjects.indexOf(subject) + 1, 0, baselineOf(subject, baselineDist));
  }
  const command = quick ? 'npm run bench -- quick' : `npm run bench -- http${args.length > 0 ? ` ${args.join(' ')}` : ''}`;
  const saved: Record<string, unknown> = { command, options: { ...options, modes: options.modes.map((m) => m.operation), poolMax: POOL_MAX }, loadAverageBefore: loadAverage() };

  try {
    if (!values['skip-throughput']) {
      console.log(`## HTTP counter app: ${options.connections} connections (autocannon in its own process), ${options.seconds} s per cell after ${options.warmup} s of warm-up, ${options.rounds} round(s); load average ${loadAverage().join(' ')}\n`);
      const cells = await throughputRounds(subjects, options);
      const ratios = ratiosOf(cells);
      printRatios(ratios);
      if (baselineDist !== undefined) printBaselineRatios(cells, baselineDist);
      const goals = goalsOf(cells, ratios);
      console.log('| goal (typed session, cookie reused) | measured | goal | met | the same for its floor | the floor meets it |');
      console.log('|---|---:|---:|---|---:|---|');
      for (const g of goals) console.log(`| ${g.name} | ${fmt(g.measured, 2)} | ${g.goal} | ${g.met ? 'yes' : 'NO'} | ${g.floorMeasured === undefined ? '' : `${fmt(g.floorMeasured, 2)} (${g.floor})`} | ${g.floorMeets === undefined ? '' : g.floorMeets ? 'yes' : 'NO'} |`);
      console.log(`\nload average after: ${loadAverage().join(' ')}\n`);
      saved.throughput = cells.map((c) => ({ id: c.subject.id, framework: c.subject.framework, library: c.subject.library, operation: c.operation, rounds: c.rounds }));
      saved.ratios = ratios;
      saved.goals = goals;
    }

    if (!quick && !values['skip-lost-updates']) {
      const runs = Number(values['lost-update-runs']);
      const increments = 100;
      console.log(`### Lost updates: ${increments} concurrent increments with one cookie, final count (${runs} runs)\n`);
      console.log('| library | final counts | lost (worst run) |');
      console.log('|---|---|---:|');
      const lost: Array<{ id: string; counts: number[] }> = [];
      for (const id of LOST_UPDATE) {
        const subject = subjectById(id);
        const counts: number[] = [];
        for (let i = 0; i < runs; i++) counts.push(await lostUpdateRun(subject, increments));
        lost.push({ id, counts });
        console.log(`| ${subject.library} | ${counts.join(', ')} | ${fmt(increments - Math.min(...counts))} |`);
      }
      console.log('');
      saved.lostUpdates = { increments, results: lost };
    }
  } finally {
    await cleanUp();
  }
  saved.loadAverageAfter = loadAverage();
  // A quick run is for a developer's terminal: the saved results (and BENCHMARKS.md) come from full runs only.
  if (!quick) saveResults('http', saved);
}

const role = process.env.BENCH_HTTP_ROLE;
if (role !== undefined && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (role === 'server') await serverRole();
  else if (role === 'load') loadRole();
  else throw new Error(`unknown BENCH_HTTP_ROLE ${role}`);
}
