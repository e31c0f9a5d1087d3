// The React Router recipe through react-router's own session functions and plain Requests.
import { createCookie, type ActionFunctionArgs, type LoaderFunctionArgs } from 'react-router';
import { describe, expect, it } from 'vitest';
import { backend, incrementAction, loader, loginAction, logoutAction, storage } from './routes.js';
import { updateSessionData } from './session-storage.js';

const args = (path: string, cookie?: string, form?: Record<string, string>) =>
  ({
    request: new Request(`http://localhost${path}`, {
      method: form ? 'POST' : 'GET',
      headers: cookie ? { cookie } : {},
      ...(form ? { body: new URLSearchParams(form) } : {}),
    }),
    params: {},
    context: {},
  }) as unknown as LoaderFunctionArgs & ActionFunctionArgs;

const cookieOf = (response: Response) => response.headers.get('set-cookie')!.split(';')[0]!;
const idOf = async (cookie: string) => (await storage.getSession(cookie)).id;

describe('React Router recipe', () => {
  it('the first increment creates the session; 50 parallel increments with its cookie all count', async () => {
    const first = await incrementAction(args('/increment', undefined, {}));
    expect(await first.json()).toEqual({ count: 1 });
    expect(first.headers.get('set-cookie')).toMatch(/^__session=[^;]+; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
    const cookie = cookieOf(first);
    const counts = await Promise.all(
      Array.from({ length: 50 }, async () => ((await (await incrementAction(args('/increment', cookie, {}))).json()) as { count: number }).count),
    );
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    expect(await loader(args('/', cookie))).toEqual({ user: null, count: 51 });
  });

  it('login moves the data to a new key and deletes the old one; logout deletes it and expires the cookie', async () => {
    const before = cookieOf(await incrementAction(args('/increment', undefined, {})));
    const oldId = await idOf(before);
    const login = await loginAction(args('/login', before, { user: 'bob' }));
    expect(login.status).toBe(302);
    const after = cookieOf(login);
    const newId = await idOf(after);
    expect(newId).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(newId).not.toBe(oldId);
    expect(await backend.get(oldId)).toEqual({ ok: false, error: 'NotFound' });
    expect(await loader(args('/', after))).toEqual({ user: 'bob', count: 1 });
    expect(await loader(args('/', before))).toEqual({ user: null, count: 0 });

    const logout = await logoutAction(args('/logout', after, {}));
    expect(logout.headers.get('set-cookie')).toMatch(/^__session=; Max-Age=0;|Expires=Thu, 01 Jan 1970/);
    expect(await backend.get(newId)).toEqual({ ok: false, error: 'NotFound' });
    expect(await loader(args('/', after))).toEqual({ user: null, count: 0 });
  });

  it('a garbage or forged cookie is a new session, and the update road answers undefined for a gone session', async () => {
    expect(await loader(args('/', '__session=%%%garbage'))).toEqual({ user: null, count: 0 });
    expect(await updateSessionData(backend, 'not a key', (data) => data)).toBeUndefined();
    const key = await backend.generate({ value: '{}' });
    await backend.clear(key);
    expect(await updateSessionData(backend, key, (data) => data)).toBeUndefined();
    const foreign = await backend.generate({ value: 'not json' });
    // Signed as React Router signs it, so the id reaches readData, which finds no JSON object there.
    const signed = (await createCookie('__session', { secrets: ['dev-only-secret'] }).serialize(foreign)).split(';')[0]!;
    expect((await storage.getSession(signed)).id).toBe(foreign);
    expect((await storage.getSession(signed)).data).toEqual({});
    expect(await loader(args('/', signed))).toEqual({ user: null, count: 0 });
  });
});
