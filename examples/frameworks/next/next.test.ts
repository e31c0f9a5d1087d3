// The Next.js recipe through Next's own request and cookie objects in Node (no `next build`):
// NextRequest into the route handler and proxy, Next's ResponseCookies as the action's cookies() store.
import { ResponseCookies } from 'next/dist/compiled/@edge-runtime/cookies/index.js';
import { NextRequest } from 'next/server.js';
import { describe, expect, it } from 'vitest';
import { withActionSession } from './action-session.js';
import { proxy } from './proxy.js';
import { GET } from './route.js';
import { currentUser } from './server-component.js';

const request = (path: string, cookie?: string) => new NextRequest(`http://localhost${path}`, { headers: cookie ? { cookie } : {} });
const pair = (setCookie: string) => setCookie.split(';')[0]!;

describe('Next.js recipe', () => {
  it('route handler: the cookie of every adapter, and 50 parallel increments with one cookie all count', async () => {
    const first = await GET(request('/api/counter'));
    expect(await first.json()).toEqual({ count: 1 });
    expect(first.headers.getSetCookie()[0]).toMatch(/^sid=[A-Za-z0-9_-]{40}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
    const cookie = pair(first.headers.getSetCookie()[0]!);
    const counts = await Promise.all(Array.from({ length: 50 }, async () => ((await (await GET(request('/api/counter', cookie))).json()) as { count: number }).count));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
  });

  it('server action: the session is saved and its cookie set through the cookies() store; Server Components read it', async () => {
    const headers = new Headers();
    const jar = new ResponseCookies(headers);
    await withActionSession(async (session) => session.set('user', 'ann'), { cookieHeader: null, jar });
    expect(headers.getSetCookie()[0]).toMatch(/^sid=[A-Za-z0-9_-]{40}; Path=\/; Expires=.*; Max-Age=604800; HttpOnly; SameSite=lax$/);
    const cookie = pair(headers.getSetCookie()[0]!);
    expect(await currentUser(cookie)).toBe('ann');

    const later = new Headers();
    const loggedIn = await withActionSession(
      async (session) => {
        session.regenerate();
        return session.get('user');
      },
      { cookieHeader: cookie, jar: new ResponseCookies(later) },
    );
    expect(loggedIn).toBe('ann');
    const renewed = pair(later.getSetCookie()[0]!);
    expect(renewed).not.toBe(cookie);
    expect(await currentUser(renewed)).toBe('ann');
    expect(await currentUser(cookie)).toBeUndefined();
  });

  it('a failed action sets no cookie', async () => {
    const headers = new Headers();
    const action = withActionSession(
      async (session) => {
        session.set('user', 'ann');
        throw new Error('invalid form');
      },
      { cookieHeader: null, jar: new ResponseCookies(headers) },
    );
    await expect(action).rejects.toThrow('invalid form');
    expect(headers.getSetCookie()).toEqual([]);
  });

  it('proxy: redirects without a login, lets a logged-in request through with the session headers', async () => {
    const anonymous = await proxy(request('/account'));
    expect(anonymous.status).toBe(307);
    expect(anonymous.headers.get('location')).toBe('http://localhost/login');

    const jar = new ResponseCookies(new Headers());
    await withActionSession(async (session) => session.set('user', 'ann'), { cookieHeader: null, jar });
    const cookie = `sid=${jar.get('sid')!.value}`;
    const through = await proxy(request('/account', cookie));
    expect(through.headers.get('x-middleware-next')).toBe('1');
    expect(through.headers.get('vary')).toBe('Cookie');
  });
});
