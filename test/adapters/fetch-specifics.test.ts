import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { commitSession, loadSession, SessionEngine, withSession, withSessionHeaders } from '../../src/adapters/fetch/index.js';
import { isBackendError, MemoryBackend } from '../../src/index.js';
import { InstrumentedBackend } from '../http/support/instrumented-backend.js';

interface Data {
  user?: string;
  count?: number;
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function store() {
  const memory = new MemoryBackend();
  cleanup.push(() => memory.close());
  return new InstrumentedBackend(memory);
}

const request = (path: string, cookie?: string) => new Request(`http://localhost${path}`, { headers: cookie ? { cookie } : {} });
const cookieOf = (response: Response) => response.headers.getSetCookie()[0]!.split(';')[0]!;

describe('withSession (fetch)', () => {
  it('adds the cookie to an immutable Response (Response.redirect) by copying it, status and Location kept', async () => {
    const handler = withSession<Data>(store(), {}, (_request, session) => {
      session.set('user', 'ann');
      return Response.redirect('http://localhost/home', 303);
    });
    const response = await handler(request('/login'));
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('http://localhost/home');
    expect(response.headers.getSetCookie()[0]).toMatch(/^sid=[A-Za-z0-9_-]{40}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('adds the cookie to a Response from fetch(), body streamed through unchanged', async () => {
    const upstream = createServer((_req, res) => res.end('from upstream'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => upstream.close(resolve)));
    const { port } = upstream.address() as AddressInfo;
    const handler = withSession<Data>(store(), {}, async (_request, session) => {
      session.set('user', 'ann');
      return fetch(`http://127.0.0.1:${port}/`);
    });
    const response = await handler(request('/proxy'));
    expect(await response.text()).toBe('from upstream');
    expect(response.headers.getSetCookie()).toHaveLength(1);
    expect(response.headers.get('vary')).toBe('Cookie');
  });

  it('keeps the same Response object when its headers are mutable', async () => {
    const own = new Response('ok');
    const handler = withSession<Data>(store(), {}, (_request, session) => {
      session.set('user', 'ann');
      return own;
    });
    expect(await handler(request('/'))).toBe(own);
    expect(own.headers.getSetCookie()).toHaveLength(1);
  });

  it('a handler that throws rejects with its error and saves nothing (no orphan session, the old one intact)', async () => {
    const backend = store();
    const handler = withSession<Data>(backend, {}, (req, session) => {
      session.set('user', 'mallory');
      if (new URL(req.url).pathname === '/fail') throw new Error('handler failed');
      return new Response('ok');
    });
    await expect(handler(request('/fail'))).rejects.toThrow('handler failed');
    expect(backend.writes).toBe(0);
  });

  it('a save that meets a store outage is answered 503 with Retry-After and no Set-Cookie; a query failure rejects with the BackendError; the stored session is unchanged', async () => {
    const backend = store();
    const handler = withSession<Data>(backend, {}, async (req, session) => {
      const user = new URL(req.url).searchParams.get('user');
      if (user) session.set('user', user);
      return new Response(session.get('user') ?? '');
    });
    const cookie = cookieOf(await handler(request('/?user=ann')));
    backend.failing.add('compareAndSet');
    const outage = await handler(request('/?user=bob', cookie));
    expect(outage.status).toBe(503);
    expect(outage.headers.get('retry-after')).toBe('1');
    expect(outage.headers.getSetCookie()).toEqual([]);
    backend.failWith = 'query_failed';
    const failure = await handler(request('/?user=bob', cookie)).catch((error: unknown) => error);
    expect(isBackendError(failure) && failure.code).toBe('query_failed');
    backend.failing.clear();
    expect(await (await handler(request('/', cookie))).text()).toBe('ann');
  });

  it('refuses a handler that does not return a Response, before saving', async () => {
    const backend = store();
    const handler = withSession<Data>(backend, {}, ((_request: Request, session: { set(name: 'user', value: string): void }) => {
      session.set('user', 'ann');
      return 'ok';
    }) as never);
    await expect(handler(request('/'))).rejects.toThrow(TypeError);
    expect(backend.writes).toBe(0);
  });

  it('bad setup is a TypeError at once', () => {
    expect(() => withSession(store(), { touchAfterSeconds: -1 }, () => new Response())).toThrow(TypeError);
    expect(() => withSession(store(), {}, undefined as never)).toThrow(TypeError);
  });
});

describe('loadSession / commitSession (frameworks that own the response)', () => {
  it('loads from a Request, Headers or the header value, and commits onto Headers', async () => {
    const engine = new SessionEngine<Data>(store());
    const first = await loadSession(engine, request('/'));
    first.session.set('user', 'ann');
    const headers = new Headers({ 'Cache-Control': 'private', Vary: 'Accept' });
    await commitSession(first, headers);
    expect(headers.getSetCookie()).toHaveLength(1);
    expect(headers.get('cache-control')).toBe('private');
    expect(headers.get('vary')).toBe('Accept, Cookie');
    const cookie = headers.getSetCookie()[0]!.split(';')[0]!;

    for (const source of [request('/', cookie), new Headers({ cookie }), cookie]) {
      const { session } = await loadSession(engine, source);
      expect(session.get('user')).toBe('ann');
    }
    expect((await loadSession(engine, null)).session.isNew).toBe(true);
  });

  it('a failed commit leaves the Headers untouched', async () => {
    const backend = store();
    const engine = new SessionEngine<Data>(backend);
    const context = await loadSession(engine, request('/'));
    context.session.set('user', 'ann');
    backend.failing.add('generate');
    const headers = new Headers();
    await expect(commitSession(context, headers)).rejects.toSatisfy(isBackendError);
    expect([...headers]).toEqual([]);
  });

  it('withSessionHeaders copies only when it must', () => {
    const pairs: Array<[string, string]> = [['Vary', 'Cookie']];
    const mutable = new Response('x');
    expect(withSessionHeaders(mutable, pairs)).toBe(mutable);
    const redirect = Response.redirect('http://localhost/', 302);
    const copy = withSessionHeaders(redirect, pairs);
    expect(copy).not.toBe(redirect);
    expect([copy.status, copy.headers.get('location'), copy.headers.get('vary')]).toEqual([302, 'http://localhost/', 'Cookie']);
  });
});
