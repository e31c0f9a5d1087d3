// The `csrf` option on every adapter, over real HTTP (a real Host header), with
// each real framework: cross-origin unsafe requests get a 403 before any
// session is loaded; everything a same-origin browser or a script sends passes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getSession as expressSession, sessionMiddleware as expressMiddleware } from '../../src/adapters/express/index.js';
import { getSession as fastifySession, sessionPlugin } from '../../src/adapters/fastify/index.js';
import { withSession as fetchWithSession } from '../../src/adapters/fetch/index.js';
import { getSession as koaSession, sessionMiddleware as koaMiddleware } from '../../src/adapters/koa/index.js';
import { sessionMiddleware as honoMiddleware, type SessionEnv } from '../../src/adapters/hono/index.js';
import { withSession } from '../../src/adapters/node/index.js';
import type { CsrfOptions } from '../../src/csrf/index.js';
import type { Session } from '../../src/http/index.js';
import { MemoryBackend } from '../../src/index.js';
import { InstrumentedBackend } from '../http/support/instrumented-backend.js';

type Data = { value?: string };
/** What every test app does: POST /write?value=… stores it, GET /read answers it. Counts handler runs. */
const handle = (session: Session<Data>, method: string, url: string, runs: { count: number }): string => {
  runs.count++;
  const { pathname, searchParams } = new URL(url, 'http://x');
  if (method !== 'GET' && pathname === '/write') session.set('value', searchParams.get('value') ?? '');
  return session.get('value') ?? '(none)';
};

type CsrfSetting = CsrfOptions | false | undefined;
type Listener = (backend: InstrumentedBackend, csrf: CsrfSetting, runs: { count: number }) => Promise<{ listener: http.RequestListener; close?: () => Promise<void> }>;

const frameworks: Record<string, Listener> = {
  'node:http': async (backend, csrf, runs) => ({
    listener: withSession<Data>(backend, csrf === undefined ? {} : { csrf }, (req, res, session) => void res.end(handle(session, req.method!, req.url!, runs))),
  }),
  'Express 5': async (backend, csrf, runs) => {
    const app = express();
    app.use(expressMiddleware<Data>(backend, csrf === undefined ? {} : { csrf }));
    app.all(/.*/, (req, res) => void res.type('text/plain').send(handle(expressSession<Data>(req), req.method, req.originalUrl, runs)));
    return { listener: app };
  },
  'Fastify 5': async (backend, csrf, runs) => {
    const app = Fastify();
    await app.register(sessionPlugin, { backend, ...(csrf === undefined ? {} : { csrf }) });
    app.all('/*', async (request) => handle(fastifySession<Data>(request), request.method, request.url, runs));
    await app.ready();
    return { listener: (req, res) => app.routing(req, res), close: () => app.close() };
  },
  'Hono 4': async (backend, csrf, runs) => {
    const app = new Hono<SessionEnv<Data>>();
    app.use(honoMiddleware<Data>(backend, csrf === undefined ? {} : { csrf }));
    app.all('/*', (c) => c.text(handle(c.var.session, c.req.method, c.req.url, runs)));
    return { listener: getRequestListener(app.fetch) };
  },
  'fetch (@hono/node-server)': async (backend, csrf, runs) => ({
    listener: getRequestListener(
      fetchWithSession<Data>(backend, csrf === undefined ? {} : { csrf }, (request, session) => new Response(handle(session, request.method, request.url, runs))),
    ),
  }),
  'Koa 3': async (backend, csrf, runs) => {
    const app = new Koa();
    app.use(koaMiddleware<Data>(backend, csrf === undefined ? {} : { csrf }));
    app.use((ctx) => {
      ctx.type = 'text/plain';
      ctx.body = handle(koaSession<Data>(ctx), ctx.method, ctx.url, runs);
    });
    return { listener: app.callback() };
  },
};

interface Reply {
  status: number;
  body: string;
  setCookie: string[];
  contentType: string | undefined;
}

describe.each(Object.entries(frameworks))('csrf option on %s', (_name, build) => {
  let backend: InstrumentedBackend;
  let server: http.Server;
  let close: (() => Promise<void>) | undefined;
  let port = 0;
  const runs = { count: 0 };

  async function start(csrf: CsrfSetting): Promise<void> {
    const built = await build(backend, csrf, runs);
    close = built.close;
    server = http.createServer(built.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }
  async function stop(): Promise<void> {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await close?.();
  }

  const send = (method: string, path: string, headers: Record<string, string> = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), setCookie: res.headers['set-cookie'] ?? [], contentType: res.headers['content-type'] }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  const self = () => `http://127.0.0.1:${port}`;

  /** A session holding value=kept, and its cookie. */
  async function victim(): Promise<string> {
    const reply = await send('POST', '/write?value=kept');
    expect(reply.status).toBe(200);
    return reply.setCookie[0]!.split(';')[0]!;
  }

  describe('default (on)', () => {
    beforeAll(async () => {
      backend = new InstrumentedBackend(new MemoryBackend());
      await start(undefined);
    });
    afterAll(async () => {
      await stop();
      await (backend.inner as MemoryBackend).close();
    });
    beforeEach(() => void (runs.count = 0));

    it.each([
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' }],
      ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site', origin: 'http://sub.127.0.0.1.nip.io' }],
      ['no Sec-Fetch-Site, a foreign Origin', { origin: 'http://evil.example' }],
      ['no Sec-Fetch-Site, Origin: null', { origin: 'null' }],
    ])('%s: 403 with a clear body, no handler, no store read, no Set-Cookie, the session unchanged', async (_case, headers) => {
      const cookie = await victim();
      backend.resetCounts();
      runs.count = 0;
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const reply = await send(method, '/write?value=forged', { cookie, ...headers });
        expect(reply.status, method).toBe(403);
        expect(reply.body).toMatch(/^Forbidden: cross-origin request refused \(CSRF protection\)/);
        expect(reply.contentType).toMatch(/^text\/plain/);
        expect(reply.setCookie).toEqual([]);
      }
      expect(runs.count).toBe(0);
      expect(backend.calls.get + backend.writes).toBe(0);
      expect((await send('GET', '/read', { cookie })).body).toBe('kept');
    });

    it.each([
      ['Sec-Fetch-Site: same-origin', () => ({ 'sec-fetch-site': 'same-origin', origin: self() })],
      ['Sec-Fetch-Site: none (typed by the user)', () => ({ 'sec-fetch-site': 'none' })],
      ['no Sec-Fetch-Site, Origin = Host', () => ({ origin: self() })],
      ['no Sec-Fetch-Site, Origin = Host but https', () => ({ origin: self().replace('http:', 'https:') })],
      ['neither header (a script, curl)', () => ({})],
    ])('%s: passes', async (_case, headers) => {
      const cookie = await victim();
      const reply = await send('POST', '/write?value=changed', { cookie, ...headers() });
      expect([reply.status, reply.body]).toEqual([200, 'changed']);
      expect((await send('GET', '/read', { cookie })).body).toBe('changed');
    });

    it('GET, HEAD and OPTIONS from another site pass (the application must not change state on them)', async () => {
      const cookie = await victim();
      for (const method of ['GET', 'HEAD', 'OPTIONS']) {
        const reply = await send(method, '/read', { cookie, 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' });
        expect(reply.status, method).not.toBe(403);
      }
    });
  });

  describe('trustedOrigins and false', () => {
    afterEach(async () => {
      await stop();
      await (backend.inner as MemoryBackend).close();
    });

    it('a trusted origin passes cross-site; others are still refused', async () => {
      backend = new InstrumentedBackend(new MemoryBackend());
      await start({ trustedOrigins: ['https://admin.example'] });
      const cookie = await victim();
      const trusted = await send('POST', '/write?value=admin', { cookie, 'sec-fetch-site': 'cross-site', origin: 'https://admin.example' });
      expect([trusted.status, trusted.body]).toEqual([200, 'admin']);
      const other = await send('POST', '/write?value=evil', { cookie, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
      expect(other.status).toBe(403);
      expect((await send('GET', '/read', { cookie })).body).toBe('admin');
    });

    it('csrf: false lets a cross-site POST through', async () => {
      backend = new InstrumentedBackend(new MemoryBackend());
      await start(false);
      const cookie = await victim();
      const reply = await send('POST', '/write?value=cross', { cookie, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
      expect([reply.status, reply.body]).toEqual([200, 'cross']);
    });
  });

  it('a bad csrf option fails at setup with a TypeError', async () => {
    const memory = new MemoryBackend();
    try {
      await expect(build(new InstrumentedBackend(memory), { trustedOrigins: ['https://a.example/path'] }, runs)).rejects.toThrow(TypeError);
      await expect(build(new InstrumentedBackend(memory), 'on' as never, runs)).rejects.toThrow(TypeError);
    } finally {
      await memory.close();
    }
  });
});
