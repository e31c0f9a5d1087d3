import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { getSession as getExpressSession, sessionMiddleware as expressSession } from '../../src/adapters/express/index.js';
import { getSession as getFastifySession, sessionPlugin } from '../../src/adapters/fastify/index.js';
import { sessionMiddleware as honoSession, type SessionEnv } from '../../src/adapters/hono/index.js';
import { getSession as getNodeSession, withSession } from '../../src/adapters/node/index.js';
import { BackendError, isBackendError, MemoryBackend } from '../../src/index.js';
import { InstrumentedBackend } from '../http/support/instrumented-backend.js';
import { sidOf, withKey } from './support/adapter-suite.js';
import type { TestClient } from './support/app-spec.js';
import { serve } from './support/real-server.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function failingStore() {
  const memory = new MemoryBackend();
  const backend = new InstrumentedBackend(memory);
  cleanup.push(() => memory.close());
  return backend;
}

async function served(listener: Parameters<typeof serve>[0]): Promise<TestClient> {
  const client = await serve(listener);
  cleanup.push(() => client.close());
  return client;
}

describe('setup errors are TypeErrors at creation, not at the first request', () => {
  it('every adapter refuses invalid options', async () => {
    const memory = failingStore();
    expect(() => expressSession(memory, { cookie: { sameSite: 'none' } })).toThrow(TypeError);
    expect(() => honoSession(memory, { cookieName: 'a b' })).toThrow(TypeError);
    expect(() => withSession(memory, { touchAfterSeconds: -1 }, () => undefined)).toThrow(TypeError);
  });

  it('owners: true on a backend without sessions by owner is a TypeError at creation; without the option it works', async () => {
    // InstrumentedBackend forwards only the base contract: no listByOwner / clearByOwner / clearOwnedSession.
    const noOwners = failingStore();
    expect(() => withSession(noOwners, { owners: true }, () => undefined)).toThrow(/owners: true.*listByOwner/);
    expect(() => expressSession(noOwners, { owners: true })).toThrow(TypeError);
    expect(() => honoSession(noOwners, { owners: true })).toThrow(TypeError);
    await expect(Fastify().register(sessionPlugin, { backend: noOwners, owners: true }).ready()).rejects.toThrow(TypeError);
    expect(() => expressSession(noOwners)).not.toThrow();
    expect(() => honoSession(noOwners, { owners: false })).not.toThrow();
  });

  it('options objects are not mutated', () => {
    const memory = failingStore();
    const options = Object.freeze({ cookieName: '__Host-sid', cookie: Object.freeze({ path: '/' }) });
    expect(() => expressSession(memory, options)).not.toThrow();
    expect(() => honoSession(memory, options)).not.toThrow();
  });
});

describe('node:http', () => {
  it('getSession(req) returns the handler session; onError receives the store failure', async () => {
    const backend = failingStore();
    const errors: unknown[] = [];
    const client = await served(
      withSession<{ n?: number }>(
        backend,
        {
          onError: (error, _req, res) => {
            errors.push(error);
            res.statusCode = 503;
            res.end('store down');
          },
        },
        (req, res, session) => {
          expect(getNodeSession(req)).toBe(session);
          session.set('n', 1);
          res.end('ok');
        },
      ),
    );
    expect((await client.get('/')).status).toBe(200);
    backend.failing.add('generate');
    const reply = await client.get('/');
    expect(reply).toMatchObject({ status: 503, body: 'store down', setCookies: [] });
    expect(errors).toHaveLength(1);
    expect(isBackendError(errors[0])).toBe(true);
  });

  it('a streamed response is held until the session is saved, then sent whole', async () => {
    const client = await served(
      withSession<{ n?: number }>(failingStore(), {}, (_req, res, session) => {
        session.set('n', 1);
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('a');
        res.write('b');
        res.end('c');
      }),
    );
    const reply = await client.get('/');
    expect(reply.body).toBe('abc');
    expect(sidOf(reply)).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(reply.header('content-type')).toBe('text/plain');
  });
});

describe('Express 5', () => {
  it("a failed save goes to the application's error handler, with the head unwritten", async () => {
    const backend = failingStore();
    const app = express();
    app.use(expressSession<{ n?: number }>(backend));
    app.get('/', (req, res) => {
      getExpressSession<{ n?: number }>(req).set('n', 1);
      // One session, two views: req.session is express-session's view of the typed session.
      expect((Reflect.get(req, 'session') as { n?: number }).n).toBe(1);
      res.set('ETag', '"abc"').send('ok');
    });
    const seen: unknown[] = [];
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      seen.push(error);
      res.status(503).send('store down');
    });
    const client = await served(app);
    backend.failing.add('generate');
    const reply = await client.get('/');
    expect(reply).toMatchObject({ status: 503, body: 'store down', setCookies: [] });
    expect(reply.header('etag')).not.toBe('"abc"');
    expect(seen[0]).toBeInstanceOf(BackendError);
  });

  it('getSession throws when the middleware is not mounted; mounting it twice keeps one session', async () => {
    const backend = failingStore();
    const app = express();
    app.get('/bare', (req, res) => {
      expect(() => getExpressSession(req)).toThrow(/sessionMiddleware/);
      res.send('ok');
    });
    const middleware = expressSession<{ n?: number }>(backend);
    app.use(middleware);
    app.use(middleware);
    app.get('/twice', (req, res) => {
      getExpressSession<{ n?: number }>(req).set('n', 1);
      res.send('ok');
    });
    const client = await served(app);
    expect((await client.get('/bare')).status).toBe(200);
    const reply = await client.get('/twice');
    expect(reply.setCookies).toHaveLength(1);
    expect(backend.calls.generate).toBe(1);
  });
});

describe('Fastify 5', () => {
  it('a failed save goes to setErrorHandler; request.session is decorated; the plugin reaches encapsulated routes', async () => {
    const backend = failingStore();
    const app = Fastify();
    cleanup.push(() => app.close());
    await app.register(sessionPlugin, { backend });
    const seen: unknown[] = [];
    app.setErrorHandler((error, _request, reply) => {
      seen.push(error);
      return reply.code(503).send('store down');
    });
    await app.register(async (child) => {
      child.get('/child', async (request) => {
        expect(Reflect.get(request, 'session')).toBe(getFastifySession(request));
        getFastifySession<{ n?: number }>(request).set('n', 1);
        return 'ok';
      });
    });
    const ok = await app.inject('/child');
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['set-cookie']).toBeDefined();
    backend.failing.add('generate');
    const failed = await app.inject('/child');
    expect(failed.statusCode).toBe(503);
    expect(failed.body).toBe('store down');
    expect(failed.headers['set-cookie']).toBeUndefined();
    expect(seen[0]).toBeInstanceOf(BackendError);
  });

  it('cannot be registered beside another request.session decorator', async () => {
    const app = Fastify();
    // Typed loosely: a program that also loads @fastify/session types request.session as its own object.
    app.decorateRequest('session', null as never);
    await expect(app.register(sessionPlugin, { backend: failingStore() }).ready()).rejects.toThrow();
  });
});

describe('Hono 4', () => {
  it('a failed save goes to app.onError; the context variable is typed', async () => {
    const backend = failingStore();
    const app = new Hono<SessionEnv<{ n?: number }>>();
    const seen: unknown[] = [];
    app.onError((error, c) => {
      seen.push(error);
      return c.text('store down', 503);
    });
    app.use(honoSession<{ n?: number }>(backend));
    app.get('/', (c) => {
      const n: number | undefined = c.var.session.get('n');
      c.get('session').set('n', (n ?? 0) + 1);
      return c.text('ok');
    });
    backend.failing.add('generate');
    const res = await app.request('/');
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('store down');
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(seen[0]).toBeInstanceOf(BackendError);
  });

  it('adds the cookie to a Response the handler built itself (immutable headers)', async () => {
    const backend = failingStore();
    const app = new Hono<SessionEnv<{ n?: number }>>();
    app.use(honoSession<{ n?: number }>(backend));
    app.get('/', (c) => {
      c.var.session.set('n', 1);
      return Response.redirect('http://localhost/next', 302);
    });
    const res = await app.request('/');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://localhost/next');
    const cookie = res.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^sid=[A-Za-z0-9_-]{40};/);
    const again = await app.request('/', { headers: withKey(cookie.slice(4, 44)) });
    expect(again.headers.getSetCookie()).toHaveLength(1);
  });
});
