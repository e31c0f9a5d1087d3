// Each route shape a real application has (a throw after the send, next(err) after it, a second end(), an error
// handler that writes the session, a late write from a timer, streams, a stream that breaks, HEAD, 204, a client
// that goes away) through sessionkit and through the reference on the same framework: express-session on
// Express, the framework alone elsewhere. Status, body, the saved session and whether the process would have
// ended are compared, on memory, PostgreSQL and Redis, and on a store whose writes take 200 ms.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, uniqueTable } from '../support/postgres.js';
import { deleteKeysWithPrefix, REDIS_URL, redisSkipReason, uniquePrefix } from '../support/redis-env.js';

type Framework = 'node' | 'express' | 'fastify' | 'hono' | 'koa' | 'fetch';

interface Reply {
  status: number;
  body: string;
  /** The connection ended before the response did (a stream that broke). */
  cut: boolean;
  /** `name=value` of each Set-Cookie. */
  cookies: string[];
}

interface Shape {
  path: string;
  method?: 'GET' | 'HEAD';
  /** The client goes away this many ms after sending. */
  abortAfterMs?: number;
  frameworks: Framework[];
  /** What sessionkit must have stored (read back with its cookie), or null when it must send no cookie. */
  saved: Record<string, unknown> | null;
  /** The frameworks whose reference ends the process here (plain node on a write after end): sessionkit must not. */
  referenceCrashes?: Framework[];
  /** What the reference stores where that is not `saved` (express-session saves at end(), which a destroyed response never reaches). */
  referenceSaved?: Partial<Record<Framework, Record<string, unknown> | null>>;
  /**
   * Where the reference's body is cut short of what the framework alone sends: express-session holds the last
   * byte until its save, and Express's final handler destroys the socket first (an error after the send).
   * sessionkit must send the whole body, which the reference's is the start of, with the same status.
   */
  referenceCuts?: Framework[];
}

const ALL: Framework[] = ['node', 'express', 'fastify', 'hono', 'koa', 'fetch'];
const SHAPES: Shape[] = [
  { path: '/send-throw', frameworks: ['node', 'express', 'fastify'], saved: { x: 1 }, referenceCuts: ['express'] },
  // Koa answers a throw after `ctx.body` with its 500, which carries no cookie either way.
  { path: '/send-throw', frameworks: ['koa'], saved: null },
  { path: '/send-async-throw', frameworks: ['node', 'express', 'fastify'], saved: { x: 1 }, referenceCuts: ['express'] },
  { path: '/send-next-error', frameworks: ['express'], saved: { x: 1 }, referenceCuts: ['express'] },
  { path: '/end-twice', frameworks: ['node', 'express'], saved: { x: 1 }, referenceCrashes: ['node'] },
  { path: '/send-twice', frameworks: ['express', 'fastify'], saved: { x: 1 }, referenceCuts: ['express'] },
  { path: '/error-handler-writes', frameworks: ['node', 'express', 'fastify', 'hono'], saved: { err: 'x' } },
  { path: '/late-write', frameworks: ALL, saved: { x: 1 } },
  { path: '/stream', frameworks: ALL, saved: { x: 1 } },
  { path: '/stream-error', frameworks: ['node', 'express'], saved: { x: 1 }, referenceSaved: { express: {} } },
  { path: '/head', method: 'HEAD', frameworks: ALL, saved: { x: 1 } },
  { path: '/no-content', frameworks: ALL, saved: { x: 1 } },
  { path: '/abort', abortAfterMs: 5, frameworks: ALL, saved: null },
];
/** Frameworks whose reference keeps a session (express-session), so its stored data is compared too. */
const REFERENCE_HAS_SESSIONS: ReadonlySet<Framework> = new Set(['express']);
const SLOW_MS = 200;
/** After a response: long enough for a late write (20 ms after it) to have run. */
const SETTLE_MS = 45;

function request(port: number, path: string, options: { method?: string; cookie?: string; abortAfterMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = options.cookie ? { cookie: options.cookie } : {};
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const cookies = (res.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]!);
      const done = (cut: boolean) => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), cut, cookies });
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(false));
      res.on('aborted', () => done(true));
      res.on('error', () => done(true));
    });
    req.on('error', () => resolve({ status: 0, body: '', cut: true, cookies: [] }));
    if (options.abortAfterMs !== undefined) setTimeout(() => req.destroy(), options.abortAfterMs);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Lab {
  ports: Record<string, number>;
  control: number;
  child: ChildProcess;
  /** What would have ended the process so far. */
  crashes: string[];
}

async function startLab(config: Record<string, unknown>): Promise<Lab> {
  const lab = fileURLToPath(new URL('./support/route-shapes-lab.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', lab, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the lab exited (${code}) before it listened: ${stderr}`)));
  });
  return { ...(JSON.parse(line) as { ports: Record<string, number>; control: number }), child, crashes: [] };
}

async function crashesSoFar(lab: Lab): Promise<string[]> {
  return JSON.parse((await request(lab.control, '/')).body) as string[];
}

/** One run of `shape` on one side: the reply, what it stored, and what would have ended the process. */
async function drive(lab: Lab, framework: Framework, variant: 'sk' | 'ref', shape: Shape, slowMs: number) {
  const port = lab.ports[`${framework}:${variant}`]!;
  const before = lab.crashes.length;
  const reply = await request(port, shape.path, { method: shape.method, abortAfterMs: shape.abortAfterMs });
  // A cut response (or a client gone) can come before the save it started ended.
  await sleep(shape.abortAfterMs === undefined && !reply.cut ? SETTLE_MS : slowMs + SETTLE_MS + 40);
  const saved = reply.cookies.length === 0 ? null : (JSON.parse((await request(port, '/__saved', { cookie: reply.cookies.join('; ') })).body) as Record<string, unknown>);
  lab.crashes = await crashesSoFar(lab);
  const crashes = lab.crashes.slice(before);
  return { reply, saved, crashes };
}

interface Run {
  name: string;
  skip: string | undefined;
  config: () => Record<string, unknown>;
  slowMs: number;
  /** The frameworks a slow store changes anything for: those that hold the response while the save runs. */
  frameworks?: ReadonlySet<Framework>;
  cleanup?: () => Promise<void>;
}
const runs: Run[] = [];
runs.push({ name: 'memory', skip: undefined, config: () => ({ backend: 'memory', slowMs: 0 }), slowMs: 0 });
// Hono, Koa and fetch answer only once the save is done, whatever it takes; node:http, Express and Fastify hold a
// response the handler already sent, which is what a slow save puts to the test.
runs.push({
  name: `memory, writes slowed by ${SLOW_MS} ms`,
  skip: undefined,
  config: () => ({ backend: 'memory', slowMs: SLOW_MS }),
  slowMs: SLOW_MS,
  frameworks: new Set(['node', 'express', 'fastify']),
});
const tablePrefix = `sk_shapes_${process.pid}_`;
runs.push({
  name: 'PostgreSQL',
  skip: postgresSkipReason,
  config: () => ({ backend: 'postgres', slowMs: 0, databaseUrl: DATABASE_URL, table: uniqueTable('shapes').replace(/^sk_shapes_/, tablePrefix) }),
  slowMs: 0,
  cleanup: async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    await dropTablesLike(pool, tablePrefix);
    await pool.end();
  },
});
const redisPrefix = uniquePrefix('shapes');
runs.push({
  name: 'Redis',
  skip: redisSkipReason,
  config: () => ({ backend: 'redis', slowMs: 0, redisUrl: REDIS_URL, prefix: redisPrefix }),
  slowMs: 0,
  cleanup: async () => {
    const client = new Redis(REDIS_URL);
    await deleteKeysWithPrefix(client, redisPrefix);
    client.disconnect();
  },
});

describe('route shapes: sessionkit answers as the reference does and never ends the process', () => {
  const labs: Lab[] = [];
  afterAll(async () => {
    for (const lab of labs) lab.child.kill();
    for (const run of runs) if (run.skip === undefined) await run.cleanup?.();
  });

  for (const run of runs) {
    (run.skip === undefined ? it.concurrent : it.skip)(`on ${run.name}${run.skip ? ` (skipped: ${run.skip})` : ''}`, async () => {
      const lab = await startLab(run.config());
      labs.push(lab);
      const mismatches: string[] = [];
      for (const shape of SHAPES) {
        for (const framework of shape.frameworks) {
          if (run.frameworks !== undefined && !run.frameworks.has(framework)) continue;
          const label = `${framework} ${shape.method ?? 'GET'} ${shape.path}`;
          const ref = await drive(lab, framework, 'ref', shape, run.slowMs);
          const sk = await drive(lab, framework, 'sk', shape, run.slowMs);
          const seen = (side: { reply: Reply }) => ({ status: side.reply.status, body: side.reply.body, cut: side.reply.cut });
          const cutReference = (shape.referenceCuts?.includes(framework) ?? false) && ref.reply.cut;
          const sameReply = cutReference
            ? sk.reply.status === ref.reply.status && !sk.reply.cut && sk.reply.body.startsWith(ref.reply.body) && sk.reply.body.length > ref.reply.body.length
            : JSON.stringify(seen(sk)) === JSON.stringify(seen(ref));
          // A client that went away sees whatever arrived first; only the process and the store matter there.
          if (!sameReply && shape.abortAfterMs === undefined) mismatches.push(`${label}: sessionkit ${JSON.stringify(seen(sk))}, reference ${JSON.stringify(seen(ref))}`);
          if (sk.reply.cookies.length > 1) mismatches.push(`${label}: sessionkit sent ${sk.reply.cookies.length} Set-Cookie headers`);
          if (sk.crashes.length > 0) mismatches.push(`${label}: sessionkit would have ended the process: ${sk.crashes.join('; ')}`);
          const refCrashes = shape.referenceCrashes?.includes(framework) ?? false;
          if ((ref.crashes.length > 0) !== refCrashes) mismatches.push(`${label}: the reference ${refCrashes ? 'was expected to end the process' : 'ended the process'}: ${ref.crashes.join('; ')}`);
          if (shape.abortAfterMs === undefined && JSON.stringify(sk.saved) !== JSON.stringify(shape.saved)) mismatches.push(`${label}: sessionkit stored ${JSON.stringify(sk.saved)}, expected ${JSON.stringify(shape.saved)}`);
          if (REFERENCE_HAS_SESSIONS.has(framework) && shape.abortAfterMs === undefined) {
            const expected = shape.referenceSaved?.[framework] === undefined ? shape.saved : shape.referenceSaved[framework];
            if (JSON.stringify(ref.saved) !== JSON.stringify(expected)) mismatches.push(`${label}: the reference stored ${JSON.stringify(ref.saved)}, expected ${JSON.stringify(expected)}`);
          }
        }
      }
      // Still serving after every shape: nothing ended it.
      for (const [name, port] of Object.entries(lab.ports)) expect((await request(port, '/__saved')).status, name).toBeGreaterThan(0);
      expect(lab.child.exitCode).toBeNull();
      expect(mismatches).toEqual([]);
    }, 120_000);
  }
});
