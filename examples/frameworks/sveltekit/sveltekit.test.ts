// The SvelteKit hook called as SvelteKit calls `handle`: a RequestEvent-shaped object and a resolve().
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBackend } from 'sessionkit';
import type { Session } from 'sessionkit/fetch';
import { sessionHandle, type AppSession } from './hooks.server.js';

type Locals = { session?: Session<AppSession> };

describe('SvelteKit recipe (structural types: @sveltejs/kit is not installed)', () => {
  const backend = new MemoryBackend();
  const handle = sessionHandle<AppSession>(backend);
  afterAll(() => backend.close());
  // A page endpoint: counts through event.locals.session; /login answers with a redirect, as a form action does.
  const run = (path: string, cookie?: string) =>
    handle({
      event: { request: new Request(`http://localhost${path}`, { headers: cookie ? { cookie } : {} }), locals: {} as Locals },
      resolve: async (event) => {
        const session = event.locals.session!;
        if (path === '/login') {
          session.regenerate();
          session.set('user', 'ann');
          return Response.redirect('http://localhost/', 303);
        }
        const { count } = await session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
        return new Response(String(count));
      },
    });

  it('sets the cookie of every adapter, and 50 parallel increments with one cookie all count', async () => {
    const first = await run('/');
    expect(await first.text()).toBe('1');
    expect(first.headers.getSetCookie()[0]).toMatch(/^sid=[A-Za-z0-9_-]{40}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
    const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!;
    const counts = await Promise.all(Array.from({ length: 50 }, async () => Number(await (await run('/', cookie)).text())));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
  });

  it('puts the new cookie on an immutable redirect from a form action', async () => {
    const redirect = await run('/login');
    expect(redirect.status).toBe(303);
    expect(redirect.headers.getSetCookie()).toHaveLength(1);
  });
});
