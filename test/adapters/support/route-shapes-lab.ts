// The route-shapes lab: a child process serving the same routes on every framework twice, through sessionkit
// ('sk') and through the reference ('ref': express-session on Express, the framework alone elsewhere), on one
// backend. It counts what would have ended the process (uncaught exceptions, unhandled rejections) instead of
// dying, so the test can tell which route would have. Started by test/adapters/route-shapes.test.ts:
//   node --import tsx route-shapes-lab.ts '{"backend":"memory"|"postgres"|"redis","slowMs":0,...}'
// and prints one JSON line with the ports.
import { getRequestListener } from '@hono/node-server';
import express, { type NextFunction, type Request as ExpressRequest, type Response as ExpressResponse } from 'express';
import expressSession from 'express-session';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import Koa from 'koa';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import pg from 'pg';
import { getSession as expressGetSession, sessionMiddleware as expressSessionkit } from '../../../src/adapters/express/index.js';
import { SessionkitStore } from '../../../src/adapters/express-session/index.js';
import { getSession as fastifyGetSession, sessionPlugin } from '../../../src/adapters/fastify/index.js';
import { withSession as fetchWithSession } from '../../../src/adapters/fetch/index.js';
import { sessionMiddleware as honoSessionkit, type SessionEnv } from '../../../src/adapters/hono/index.js';
import { sessionMiddleware as koaSessionkit, type KoaSessionContext } from '../../../src/adapters/koa/index.js';
import { getSession as nodeGetSession, withSession as nodeWithSession } from '../../../src/adapters/node/index.js';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { MemoryBackend, type Backend } from '../../../src/index.js';
import { SlowBackend } from './slow-backend.js';

interface LabConfig {
  backend: 'memory' | 'postgres' | 'redis';
  slowMs: number;
  databaseUrl?: string;
  table?: string;
  redisUrl?: string;
  prefix?: string;
}

/** The fields a route writes: one of a session, whichever API writes it. */
interface Writer {
  set(name: string, value: unknown): void;
  data(): Record<string, unknown>;
}

const config = JSON.parse(process.argv[2] ?? '{}') as LabConfig;
const crashes: string[] = [];
process.on('uncaughtException', (error: Error & { code?: string }) => void crashes.push(`uncaughtException ${error.code ?? ''} ${error.message}`));
process.on('unhandledRejection', (error: unknown) => void crashes.push(`unhandledRejection ${String(error)}`));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long after the response a late write comes. */
const LATE_MS = 20;
const STREAM_CHUNKS = 64;
const CHUNK = Buffer.alloc(1024, 'x');
const streamBody = () => Readable.from((function* () {
  for (let i = 0; i < STREAM_CHUNKS; i++) yield CHUNK;
})());
/** A body that sends `part`, then fails after 30 ms, as a file read or an upstream fetch that breaks. */
const failingBody = () =>
  new Readable({
    read() {
      if (this.readableLength === 0 && !(this as { sent?: boolean }).sent) {
        (this as { sent?: boolean }).sent = true;
        this.push('part');
        setTimeout(() => this.destroy(new Error('upstream broke')), 30);
      }
    },
  });
const webStream = () => Readable.toWeb(streamBody()) as ReadableStream<Uint8Array>;

async function makeBackend(): Promise<{ backend: Backend; close: () => Promise<void> }> {
  if (config.backend === 'postgres') {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
    pool.on('error', () => undefined);
    const backend = new PostgresBackend(pool, { table: config.table! });
    await backend.ensureSchema();
    return { backend, close: async () => (await backend.close(), await pool.end()) };
  }
  if (config.backend === 'redis') {
    const client = new Redis(config.redisUrl!);
    client.on('error', () => undefined);
    const backend = new RedisBackend(client, { prefix: config.prefix! });
    return { backend, close: async () => (await backend.close(), client.disconnect()) };
  }
  const backend = new MemoryBackend();
  return { backend, close: () => backend.close() };
}

const { backend: real } = await makeBackend();
const backend = new SlowBackend(real, config.slowMs);

const noWriter: Writer = { set: () => undefined, data: () => ({}) };
const typedWriter = (session: { set(name: never, value: never): void; data: unknown }): Writer => ({
  set: (name, value) => session.set(name as never, value as never),
  data: () => ({ ...(session.data as Record<string, unknown>) }),
});

// ---- node:http: withSession against the same listener without it --------------------------------------------
type NodeRoute = (req: http.IncomingMessage, res: http.ServerResponse, session: Writer) => void | Promise<void>;
const nodeRoutes: Record<string, NodeRoute> = {
  '/send-throw': (_req, res, s) => {
    s.set('x', 1);
    res.end('sent');
    throw new Error('after the send');
  },
  '/send-async-throw': async (_req, res, s) => {
    s.set('x', 1);
    res.end('sent');
    await sleep(5);
    throw new Error('after the send');
  },
  '/end-twice': (_req, res, s) => {
    s.set('x', 1);
    res.end('a');
    res.end('b');
  },
  '/error-handler-writes': () => {
    throw Object.assign(new Error('before the send'), { writesSession: true });
  },
  '/late-write': (_req, res, s) => {
    s.set('x', 1);
    res.end('sent');
    setTimeout(() => s.set('late', 1), LATE_MS);
  },
  '/stream': (_req, res, s) => {
    s.set('x', 1);
    streamBody().pipe(res);
  },
  '/stream-error': (_req, res, s) => {
    s.set('x', 1);
    res.writeHead(200, { 'content-type': 'text/plain' });
    const body = failingBody();
    body.on('error', (error) => res.destroy(error));
    body.pipe(res);
  },
  '/head': (_req, res, s) => {
    s.set('x', 1);
    res.setHeader('content-type', 'text/plain');
    res.end('body');
  },
  '/no-content': (_req, res, s) => {
    s.set('x', 1);
    res.statusCode = 204;
    res.end();
  },
  '/abort': async (_req, res, s) => {
    s.set('x', 1);
    res.end('sent');
  },
  '/__saved': (_req, res, s) => {
    res.end(JSON.stringify(s.data()));
  },
};
/** What a plain node application does with a handler error: an error page, or cut a response still being written. */
function nodeOnError(error: unknown, res: http.ServerResponse, session: Writer): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  if ((error as { writesSession?: boolean }).writesSession) session.set('err', 'x');
  res.statusCode = 500;
  res.end('error page');
}
const nodeSk = nodeWithSession(backend, { onError: (error, req, res) => nodeOnError(error, res, typedWriter(nodeGetSession(req))) }, async (req, res, session) => {
  await nodeRoutes[new URL(req.url!, 'http://x').pathname]!(req, res, typedWriter(session));
});
const nodeRef: http.RequestListener = async (req, res) => {
  try {
    await nodeRoutes[new URL(req.url!, 'http://x').pathname]!(req, res, noWriter);
  } catch (error) {
    nodeOnError(error, res, noWriter);
  }
};

// ---- Express 5: sessionMiddleware against express-session (with sessionkit's Store, on the same backend) -------
function expressApp(variant: 'sk' | 'ref'): express.Express {
  const app = express();
  if (variant === 'sk') app.use(expressSessionkit(backend));
  else app.use(expressSession({ secret: 'route-shapes', resave: false, saveUninitialized: false, store: new SessionkitStore(backend) }));
  const w = (req: ExpressRequest): Writer => {
    const session = (req as unknown as { session: Record<string, unknown> }).session;
    return {
      set: (name, value) => void (session[name] = value),
      data: () => Object.fromEntries(Object.entries(session).filter(([name]) => name !== 'cookie')),
    };
  };
  app.get('/send-throw', (req, res) => {
    w(req).set('x', 1);
    res.send('sent');
    throw new Error('after the send');
  });
  app.get('/send-next-error', (req, res, next) => {
    w(req).set('x', 1);
    res.send('sent');
    next(new Error('after the send'));
  });
  app.get('/send-async-throw', async (req, res) => {
    w(req).set('x', 1);
    res.send('sent');
    await sleep(5);
    throw new Error('after the send');
  });
  app.get('/end-twice', (req, res) => {
    w(req).set('x', 1);
    res.end('a');
    res.end('b');
  });
  app.get('/send-twice', (req, res) => {
    w(req).set('x', 1);
    res.send('a');
    res.status(500).send('b');
  });
  app.get('/error-handler-writes', () => {
    throw Object.assign(new Error('before the send'), { writesSession: true });
  });
  app.get('/late-write', (req, res) => {
    const session = w(req);
    session.set('x', 1);
    res.send('sent');
    setTimeout(() => session.set('late', 1), LATE_MS);
  });
  app.get('/stream', (req, res) => {
    w(req).set('x', 1);
    streamBody().pipe(res);
  });
  app.get('/stream-error', (req, res) => {
    w(req).set('x', 1);
    res.writeHead(200, { 'content-type': 'text/plain' });
    const body = failingBody();
    body.on('error', (error) => res.destroy(error));
    body.pipe(res);
  });
  app.get('/head', (req, res) => {
    w(req).set('x', 1);
    res.type('text/plain').send('body');
  });
  app.get('/no-content', (req, res) => {
    w(req).set('x', 1);
    res.status(204).end();
  });
  app.get('/abort', (req, res) => {
    w(req).set('x', 1);
    res.send('sent');
  });
  app.get('/__saved', (req, res) => {
    res.json(variant === 'sk' ? expressGetSession(req).data : w(req).data());
  });
  // Express's documented error handler, and one that writes the session.
  app.use((error: Error & { writesSession?: boolean }, req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (error.writesSession) w(req).set('err', 'x');
    res.status(500).send('error page');
  });
  return app;
}

// ---- Fastify 5: sessionPlugin against Fastify alone -----------------------------------------------------------
async function fastifyApp(variant: 'sk' | 'ref'): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  if (variant === 'sk') await app.register(sessionPlugin, { backend });
  const w = (request: Parameters<typeof fastifyGetSession>[0]): Writer => (variant === 'sk' ? typedWriter(fastifyGetSession(request)) : noWriter);
  app.get('/send-throw', (request, reply) => {
    w(request).set('x', 1);
    reply.send('sent');
    throw new Error('after the send');
  });
  app.get('/send-async-throw', async (request, reply) => {
    w(request).set('x', 1);
    reply.send('sent');
    await sleep(5);
    throw new Error('after the send');
  });
  app.get('/send-twice', async (request, reply) => {
    w(request).set('x', 1);
    reply.send('a');
    reply.send('b');
    return reply;
  });
  app.get('/error-handler-writes', async () => {
    throw Object.assign(new Error('before the send'), { writesSession: true });
  });
  app.get('/late-write', async (request) => {
    const session = w(request);
    session.set('x', 1);
    setTimeout(() => session.set('late', 1), LATE_MS);
    return 'sent';
  });
  app.get('/stream', async (request, reply) => {
    w(request).set('x', 1);
    return reply.type('application/octet-stream').send(streamBody());
  });
  app.get('/head', async (request, reply) => {
    w(request).set('x', 1);
    return reply.type('text/plain').send('body');
  });
  app.get('/no-content', async (request, reply) => {
    w(request).set('x', 1);
    return reply.code(204).send();
  });
  app.get('/abort', async (request) => {
    w(request).set('x', 1);
    return 'sent';
  });
  app.get('/__saved', async (request) => JSON.stringify(w(request).data()));
  app.setErrorHandler((error: Error & { writesSession?: boolean }, request, reply) => {
    if (error.writesSession) w(request).set('err', 'x');
    return reply.code(500).send('error page');
  });
  return app;
}

// ---- Hono 4: sessionMiddleware against Hono alone --------------------------------------------------------------
function honoApp(variant: 'sk' | 'ref'): (request: Request) => Response | Promise<Response> {
  const app = new Hono<SessionEnv>();
  if (variant === 'sk') app.use(honoSessionkit(backend));
  const w = (c: { var: { session?: SessionEnv['Variables']['session'] } }): Writer => (variant === 'sk' ? typedWriter(c.var.session!) : noWriter);
  app.get('/error-handler-writes', () => {
    throw Object.assign(new Error('before the send'), { writesSession: true });
  });
  app.get('/late-write', (c) => {
    const session = w(c);
    session.set('x', 1);
    setTimeout(() => session.set('late', 1), LATE_MS);
    return c.text('sent');
  });
  app.get('/stream', (c) => {
    w(c).set('x', 1);
    return c.body(webStream());
  });
  app.get('/head', (c) => {
    w(c).set('x', 1);
    return c.text('body');
  });
  app.get('/no-content', (c) => {
    w(c).set('x', 1);
    return c.body(null, 204);
  });
  app.get('/abort', (c) => {
    w(c).set('x', 1);
    return c.text('sent');
  });
  app.get('/__saved', (c) => c.text(JSON.stringify(w(c).data())));
  app.onError((error, c) => {
    if ((error as { writesSession?: boolean }).writesSession) w(c).set('err', 'x');
    return c.text('error page', 500);
  });
  return app.fetch;
}

// ---- Koa 3: sessionMiddleware against Koa alone ----------------------------------------------------------------
function koaApp(variant: 'sk' | 'ref'): http.RequestListener {
  const app = new Koa<Koa.DefaultState, Partial<KoaSessionContext>>();
  app.silent = true;
  if (variant === 'sk') app.use(koaSessionkit(backend) as Koa.Middleware<Koa.DefaultState, Partial<KoaSessionContext>>);
  app.use(async (ctx) => {
    const session = variant === 'sk' ? typedWriter(ctx.session!) : noWriter;
    switch (ctx.path) {
      case '/send-throw':
        session.set('x', 1);
        ctx.body = 'sent';
        throw new Error('after the send');
      case '/late-write':
        session.set('x', 1);
        ctx.body = 'sent';
        setTimeout(() => session.set('late', 1), LATE_MS);
        return;
      case '/stream':
        session.set('x', 1);
        ctx.body = streamBody();
        return;
      case '/head':
        session.set('x', 1);
        ctx.body = 'body';
        return;
      case '/no-content':
        session.set('x', 1);
        ctx.status = 204;
        return;
      case '/abort':
        session.set('x', 1);
        ctx.body = 'sent';
        return;
      case '/__saved':
        ctx.body = JSON.stringify(session.data());
        return;
    }
  });
  return app.callback();
}

// ---- fetch: withSession against the handler alone --------------------------------------------------------------
function fetchApp(variant: 'sk' | 'ref'): (request: Request) => Promise<Response> {
  const handler = async (request: Request, session: Writer): Promise<Response> => {
    switch (new URL(request.url).pathname) {
      case '/late-write':
        session.set('x', 1);
        setTimeout(() => session.set('late', 1), LATE_MS);
        return new Response('sent');
      case '/stream':
        session.set('x', 1);
        return new Response(webStream());
      case '/head':
        session.set('x', 1);
        return new Response('body');
      case '/no-content':
        session.set('x', 1);
        return new Response(null, { status: 204 });
      case '/abort':
        session.set('x', 1);
        return new Response('sent');
      case '/__saved':
        return new Response(JSON.stringify(session.data()));
      default:
        return new Response('not found', { status: 404 });
    }
  };
  if (variant === 'sk') return fetchWithSession(backend, {}, (request, session) => handler(request, typedWriter(session)));
  return async (request) => handler(request, noWriter);
}

async function listen(listener: http.RequestListener): Promise<number> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const ports: Record<string, number> = {};
for (const variant of ['sk', 'ref'] as const) {
  ports[`node:${variant}`] = await listen(variant === 'sk' ? (req, res) => void nodeSk(req, res) : (req, res) => void nodeRef(req, res));
  ports[`express:${variant}`] = await listen(expressApp(variant));
  const fastify = await fastifyApp(variant);
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  ports[`fastify:${variant}`] = (fastify.server.address() as AddressInfo).port;
  ports[`hono:${variant}`] = await listen(getRequestListener(honoApp(variant)));
  ports[`koa:${variant}`] = await listen(koaApp(variant));
  ports[`fetch:${variant}`] = await listen(getRequestListener(fetchApp(variant)));
}
const control = await listen((_req, res) => res.end(JSON.stringify(crashes)));
process.stdout.write(`${JSON.stringify({ ports, control })}\n`);
