// The header transport (`transport.header`) on every adapter, over real HTTP with a plain client (undici's
// fetch, node:http for what fetch cannot send, curl): the key in `Authorization: Bearer` or a named header,
// new keys and ended sessions in the response header, precedence over the cookie, the cross-origin check,
// hostile headers and cache headers.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { getRequestListener } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSession as expressSession, sessionMiddleware as expressMiddleware } from '../../src/adapters/express/index.js';
import { getSession as fastifySession, sessionPlugin } from '../../src/adapters/fastify/index.js';
import { withSession as fetchWithSession } from '../../src/adapters/fetch/index.js';
import { getSession as koaSession, sessionMiddleware as koaMiddleware } from '../../src/adapters/koa/index.js';
import { sessionMiddleware as honoMiddleware, type SessionEnv } from '../../src/adapters/hono/index.js';
import { withSession } from '../../src/adapters/node/index.js';
import { SessionEngine, type Session, type SessionOptions } from '../../src/http/index.js';
import { generateKey, MemoryBackend } from '../../src/index.js';
import { InstrumentedBackend } from '../http/support/instrumented-backend.js';

type Data = { user?: string };

/** The application, the same on every framework: POST /login?user=…, GET /me, POST /logout. */
function handle(session: Session<Data>, method: string, url: string): string {
  const { pathname, searchParams } = new URL(url, 'http://x');
  if (method === 'POST' && pathname === '/login') {
    session.regenerate();
    session.set('user', searchParams.get('user') ?? 'ann');
    return 'ok';
  }
  if (method === 'POST' && pathname === '/logout') {
    session.destroy();
    return 'ok';
  }
  return session.get('user') ?? '(none)';
}

type Build = (backend: InstrumentedBackend, options: SessionOptions) => Promise<{ listener: http.RequestListener; close?: () => Promise<void> }>;

const frameworks: Record<string, Build> = {
  'node:http': async (backend, options) => ({
    listener: withSession<Data>(backend, options, (req, res, session) => void res.end(handle(session, req.method!, req.url!))),
  }),
  'Express 5': async (backend, options) => {
    const app = express();
    app.use(expressMiddleware<Data>(backend, options));
    app.all(/.*/, (req, res) => void res.type('text/plain').send(handle(expressSession<Data>(req), req.method, req.originalUrl)));
    return { listener: app };
  },
  'Fastify 5': async (backend, options) => {
    const app = Fastify();
    await app.register(sessionPlugin, { backend, ...options });
    app.all('/*', async (request) => handle(fastifySession<Data>(request), request.method, request.url));
    await app.ready();
    return { listener: (req, res) => app.routing(req, res), close: () => app.close() };
  },
  'Hono 4': async (backend, options) => {
    const app = new Hono<SessionEnv<Data>>();
    app.use(honoMiddleware<Data>(backend, options));
    app.all('/*', (c) => c.text(handle(c.var.session, c.req.method, c.req.url)));
    return { listener: getRequestListener(app.fetch) };
  },
  'fetch (@hono/node-server)': async (backend, options) => ({
    listener: getRequestListener(fetchWithSession<Data>(backend, options, (request, session) => new Response(handle(session, request.method, request.url)))),
  }),
  'Koa 3': async (backend, options) => {
    const app = new Koa();
    app.use(koaMiddleware<Data>(backend, options));
    app.use((ctx) => {
      ctx.type = 'text/plain';
      ctx.body = handle(koaSession<Data>(ctx), ctx.method, ctx.url);
    });
    return { listener: app.callback() };
  },
};

const BEARER_ONLY: SessionOptions = { transport: { cookie: false, header: true } };
const BOTH: SessionOptions = { transport: { header: true } };
const NAMED_AND_COOKIE: SessionOptions = { transport: { header: { requestHeader: 'X-Session-Token' } } };
const CROSS_SITE = { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' };

describe.each(Object.entries(frameworks))('the session key in a header, on %s', (_name, build) => {
  const backend = new InstrumentedBackend(new MemoryBackend());
  const servers: Array<{ server: http.Server; close?: () => Promise<void> }> = [];
  const bases = new Map<SessionOptions, string>();

  beforeAll(async () => {
    for (const options of [BEARER_ONLY, BOTH, NAMED_AND_COOKIE]) {
      const built = await build(backend, options);
      const server = http.createServer(built.listener);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push({ server, close: built.close });
      bases.set(options, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
  });
  afterAll(async () => {
    for (const { server, close } of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await close?.();
    }
    await (backend.inner as MemoryBackend).close();
  });

  const send = (options: SessionOptions, method: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${bases.get(options)}${path}`, { method, headers, redirect: 'manual' });
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  /** Logs in on the bearer-only app and answers the key it handed back. */
  const logIn = async (options: SessionOptions, user: string, headers: Record<string, string> = {}) => {
    const reply = await send(options, 'POST', `/login?user=${user}`, headers);
    expect(reply.status).toBe(200);
    return reply;
  };

  it('Bearer only: log in (the key in Set-Auth-Token), use the session, log out (an empty Set-Auth-Token), the key dead after', async () => {
    const login = await logIn(BEARER_ONLY, 'ann');
    const key = login.headers.get('set-auth-token')!;
    expect(key).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(login.headers.get('vary')).toMatch(/Authorization/);
    expect(login.headers.getSetCookie()).toEqual([]);

    const me = await send(BEARER_ONLY, 'GET', '/me', bearer(key));
    expect(await me.text()).toBe('ann');
    expect(me.headers.has('set-auth-token')).toBe(false);
    expect(me.headers.get('vary')).toMatch(/Authorization/);
    expect(me.headers.get('vary')).not.toMatch(/Cookie/);

    // A login on a session: a new key, the old one gone.
    const again = await logIn(BEARER_ONLY, 'bob', bearer(key));
    const next = again.headers.get('set-auth-token')!;
    expect(next).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(next).not.toBe(key);
    expect(await (await send(BEARER_ONLY, 'GET', '/me', bearer(key))).text()).toBe('(none)');

    const logout = await send(BEARER_ONLY, 'POST', '/logout', bearer(next));
    expect(logout.headers.get('set-auth-token')).toBe('');
    expect(logout.headers.get('cache-control')).toBe('no-store');
    expect(logout.headers.getSetCookie()).toEqual([]);
    expect(await (await send(BEARER_ONLY, 'GET', '/me', bearer(next))).text()).toBe('(none)');
  });

  it('Bearer only: a cookie is neither read nor set', async () => {
    const cookieKey = (await logIn(BEARER_ONLY, 'ann')).headers.get('set-auth-token')!;
    const me = await send(BEARER_ONLY, 'GET', '/me', { cookie: `sid=${cookieKey}` });
    expect(await me.text()).toBe('(none)');
  });

  it('a named header both ways (X-Session-Token): a client announces itself with the header empty, then sends its key', async () => {
    const login = await logIn(NAMED_AND_COOKIE, 'ann', { 'x-session-token': '' });
    const key = login.headers.get('x-session-token')!;
    expect(key).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(login.headers.getSetCookie()).toEqual([]);
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(login.headers.get('vary')).toMatch(/Cookie/);
    expect(login.headers.get('vary')).toMatch(/X-Session-Token/);
    expect(await (await send(NAMED_AND_COOKIE, 'GET', '/me', { 'x-session-token': key })).text()).toBe('ann');
    // Authorization means nothing to this application.
    expect(await (await send(NAMED_AND_COOKIE, 'GET', '/me', bearer(key))).text()).toBe('(none)');
    const logout = await send(NAMED_AND_COOKIE, 'POST', '/logout', { 'x-session-token': key });
    expect(logout.headers.get('x-session-token')).toBe('');
    expect(await (await send(NAMED_AND_COOKIE, 'GET', '/me', { 'x-session-token': key })).text()).toBe('(none)');
  });

  it('cookie and header together: a request with neither gets the cookie; the header wins when present; a key returns on the transport its request used', async () => {
    const browser = await logIn(BOTH, 'ann');
    expect(browser.headers.has('set-auth-token')).toBe(false);
    const cookie = browser.headers.getSetCookie()[0]!.split(';')[0]!;
    expect(cookie).toMatch(/^sid=[A-Za-z0-9_-]{40}$/);
    expect(browser.headers.get('vary')).toMatch(/Cookie/);
    expect(browser.headers.get('vary')).toMatch(/Authorization/);

    // `Authorization: Bearer` alone: a header client with no session yet.
    const app = await logIn(BOTH, 'bob', { authorization: 'Bearer' });
    const key = app.headers.get('set-auth-token')!;
    expect(key).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(app.headers.getSetCookie()).toEqual([]);

    expect(await (await send(BOTH, 'GET', '/me', { cookie })).text()).toBe('ann');
    expect(await (await send(BOTH, 'GET', '/me', bearer(key))).text()).toBe('bob');
    expect(await (await send(BOTH, 'GET', '/me', { cookie, ...bearer(key) })).text()).toBe('bob');
    // A header that names nothing still wins: the cookie beside it is not used.
    expect(await (await send(BOTH, 'GET', '/me', { cookie, ...bearer(generateKey()) })).text()).toBe('(none)');
    // `Basic` is not the session header (a browser may attach it by itself): the cookie is read.
    expect(await (await send(BOTH, 'GET', '/me', { cookie, authorization: 'Basic YW5uOnB3' })).text()).toBe('ann');

    // A login by a request carrying both: the new key in the header, no Set-Cookie.
    const both = await logIn(BOTH, 'cy', { cookie, ...bearer(key) });
    expect(both.headers.getSetCookie()).toEqual([]);
    expect(both.headers.get('set-auth-token')).toMatch(/^[A-Za-z0-9_-]{40}$/);
    // The cookie's session was not touched.
    expect(await (await send(BOTH, 'GET', '/me', { cookie })).text()).toBe('ann');
    const logout = await send(BOTH, 'POST', '/logout', { cookie });
    expect(logout.headers.getSetCookie()).toEqual(['sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax']);
    expect(logout.headers.has('set-auth-token')).toBe(false);
  });

  it('the cross-origin check: a header request passes; a cookie request is refused as before; a cookie beside a header is never used', async () => {
    const cookie = (await logIn(BOTH, 'victim')).headers.getSetCookie()[0]!.split(';')[0]!;
    const key = (await logIn(BOTH, 'api', { authorization: 'Bearer' })).headers.get('set-auth-token')!;

    const refused = await send(BOTH, 'POST', '/login?user=forged', { cookie, ...CROSS_SITE });
    expect(refused.status).toBe(403);
    const basic = await send(BOTH, 'POST', '/login?user=forged', { cookie, authorization: 'Basic YW5uOnB3', ...CROSS_SITE });
    expect(basic.status).toBe(403);

    const api = await send(BOTH, 'POST', '/logout', { ...bearer(key), ...CROSS_SITE });
    expect(api.status).toBe(200);
    expect(api.headers.get('set-auth-token')).toBe('');

    // The cookie rides along with a header that names nothing: the request passes, the cookie's session is untouched.
    backend.resetCounts();
    const riding = await send(BOTH, 'POST', '/logout', { cookie, authorization: 'Bearer not-a-session', ...CROSS_SITE });
    expect(riding.status).toBe(200);
    expect(riding.headers.getSetCookie()).toEqual([]);
    expect(backend.writes).toBe(0);
    expect(await (await send(BOTH, 'GET', '/me', { cookie })).text()).toBe('victim');
  });

  it.each([
    ['Bearer with no key', 'Bearer'],
    ['Bearer and a space', 'Bearer '],
    ['two words', 'Bearer abc def'],
    ['not base64url', 'Bearer %%%%'],
    ['over-long', `Bearer ${'A'.repeat(8000)}`],
    ['41 characters', `Bearer ${'A'.repeat(41)}`],
    ['a well-formed key that names nothing', `Bearer ${'A'.repeat(40)}`],
    ['a comma-joined pair', `Bearer ${'A'.repeat(40)}, Bearer ${'B'.repeat(40)}`],
  ])('a hostile Authorization (%s) is no session, and no store read unless the key is well-formed', async (_case, authorization) => {
    backend.resetCounts();
    const reply = await send(BEARER_ONLY, 'GET', '/me', { authorization });
    expect([reply.status, await reply.text()]).toEqual([200, '(none)']);
    expect(reply.headers.has('set-auth-token')).toBe(false);
    expect(backend.calls.get).toBe(_case.startsWith('a well-formed') ? 1 : 0);
    // Such a request is still a header request: a login there answers in the header.
    const login = await send(BOTH, 'POST', '/login', { authorization });
    expect(login.headers.get('set-auth-token')).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(login.headers.getSetCookie()).toEqual([]);
  });

  it('bearer is case-insensitive, as HTTP schemes are', async () => {
    const key = (await logIn(BEARER_ONLY, 'ann')).headers.get('set-auth-token')!;
    expect(await (await send(BEARER_ONLY, 'GET', '/me', { authorization: `bEaReR ${key}` })).text()).toBe('ann');
  });

  it('two Authorization lines are no session, even when one of them holds a live key', async () => {
    const key = (await logIn(BEARER_ONLY, 'ann')).headers.get('set-auth-token')!;
    const url = new URL(bases.get(BEARER_ONLY)!);
    const body = await new Promise<string>((resolve, reject) => {
      // A raw header list: node sends each line as given.
      const req = http.request({ host: url.hostname, port: url.port, path: '/me', headers: ['Host', url.host, 'Authorization', `Bearer ${key}`, 'Authorization', `Bearer ${key}`] }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(`${res.statusCode} ${text}`));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('200 (none)');
  });
});

describe('the transport option', () => {
  const memory = new MemoryBackend();
  afterAll(() => memory.close());

  it.each([
    ['not an object', 'header'],
    ['an unknown field', { headers: true }],
    ['cookie not a boolean', { cookie: 'no' }],
    ['no way for the key to travel', { cookie: false }],
    ['header not an object', { header: 'X-Token' }],
    ['an unknown header field', { header: { name: 'X-Token' } }],
    ['a request header that is no header name', { header: { requestHeader: 'X Token' } }],
    ['a response header that is no header name', { header: { responseHeader: 'a:b' } }],
    ['the Cookie header', { header: { requestHeader: 'Cookie' } }],
    ['Set-Cookie as the response header', { header: { responseHeader: 'Set-Cookie' } }],
    ['Authorization as the response header', { header: { requestHeader: 'X-Token', responseHeader: 'Authorization' } }],
  ])('%s is a TypeError at setup', (_case, transport) => {
    expect(() => new SessionEngine(memory, { transport: transport as never })).toThrow(TypeError);
  });

  it('cookie options without the cookie are a TypeError; on every adapter the option has the same shape', async () => {
    expect(() => new SessionEngine(memory, { transport: { cookie: false, header: true }, cookieName: '__Host-sid' })).toThrow(/no meaning/);
    expect(() => new SessionEngine(memory, { transport: { cookie: false, header: true }, cookie: { secure: true } })).toThrow(/no meaning/);
    expect(() => expressMiddleware(memory, { transport: { cookie: false, header: true } })).not.toThrow();
  });

  it('resolves once: names, defaults and what responses vary on', () => {
    expect(new SessionEngine(memory).options.sessionHeader).toBeUndefined();
    expect(new SessionEngine(memory).carriesSessionHeader).toBeUndefined();
    const bearer = new SessionEngine(memory, { transport: { header: true } }).options;
    expect(bearer.sessionHeader).toEqual({
      requestHeader: 'authorization',
      responseHeader: 'Set-Auth-Token',
      bearer: true,
      varyOnHeader: ['Vary', 'Authorization'],
      vary: [
        ['Vary', 'Cookie'],
        ['Vary', 'Authorization'],
      ],
    });
    const named = new SessionEngine(memory, { transport: { cookie: false, header: { requestHeader: 'X-Auth-Token' } } }).options;
    expect([named.cookieTransport, named.sessionHeader?.requestHeader, named.sessionHeader?.responseHeader, named.sessionHeader?.vary]).toEqual([
      false,
      'x-auth-token',
      'X-Auth-Token',
      [['Vary', 'X-Auth-Token']],
    ]);
  });
});

const hasCurl = await promisify(execFile)('curl', ['--version']).then(
  () => true,
  () => false,
);

describe.skipIf(!hasCurl)(`curl -H 'Authorization: Bearer …'${hasCurl ? '' : ' (skipped: no curl on this machine)'}`, () => {
  it('logs in, reads and logs out as docs/http.md shows', async () => {
    const memory = new MemoryBackend();
    const server = http.createServer(withSession<Data>(memory, BEARER_ONLY, (req, res, session) => void res.end(handle(session, req.method!, req.url!))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const curl = async (...args: string[]) => (await promisify(execFile)('curl', ['-s', '-i', ...args])).stdout;
    try {
      const login = await curl('-X', 'POST', `${base}/login?user=ann`);
      const key = /^set-auth-token: (\S+)\r$/im.exec(login)?.[1];
      expect(key).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(await curl('-H', `Authorization: Bearer ${key}`, `${base}/me`)).toMatch(/\r\n\r\nann$/);
      expect(await curl('-X', 'POST', '-H', `Authorization: Bearer ${key}`, `${base}/logout`)).toMatch(/^set-auth-token: \r$/im);
      expect(await curl('-H', `Authorization: Bearer ${key}`, `${base}/me`)).toMatch(/\r\n\r\n\(none\)$/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await memory.close();
    }
  });
});
