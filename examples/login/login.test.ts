import type { AddressInfo } from 'node:net';
import { parseSetCookie } from 'cookie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from 'sessionkit';
import { startExample } from '../support/start-example.js';
import { loginServer } from './login.js';

let backend: MemoryBackend;
let base: string;
let close: () => Promise<void>;

beforeEach(async () => {
  backend = new MemoryBackend();
  const server = loginServer(backend);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise<void>((resolve) => server.close(() => resolve()));
});
afterEach(async () => {
  await close();
  await backend.close();
});

const get = (path: string, cookie?: string) => fetch(`${base}${path}`, { headers: cookie ? { cookie } : {} });
const post = (path: string, body: string, cookie?: string) =>
  fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) } });
/** The `__session` cookie a response sets, parsed. */
function sessionCookie(res: Response) {
  const line = res.headers.getSetCookie().find((c) => c.startsWith('__session='));
  return line === undefined ? undefined : parseSetCookie(line);
}

describe("login example (ocaml-session's README: 401 until authenticated, then 200)", () => {
  it('answers 401 on every path without a session, and sets no cookie', async () => {
    for (const path of ['/', '/account', '/logout']) {
      const res = await get(path);
      expect(res.status).toBe(401);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(res.headers.get('vary')).toBe('Cookie');
    }
    expect((await post('/logout', '')).status).toBe(401);
  });

  it('after POST /authenticate every path answers 200 with the user, until logout', async () => {
    const login = await post('/authenticate', 'user=ada');
    expect([login.status, await login.text()]).toEqual([200, 'welcome, ada\n']);
    const cookie = sessionCookie(login)!;
    expect(cookie).toMatchObject({ name: '__session', maxAge: 3600, httpOnly: true, sameSite: 'lax', path: '/' });
    const header = `__session=${cookie.value}`;

    for (const path of ['/', '/account', '/anything/else']) {
      const res = await get(path, header);
      expect([res.status, await res.text()]).toEqual([200, 'hello, ada\n']);
    }

    const logout = await post('/logout', '', header);
    expect(logout.status).toBe(200);
    expect(sessionCookie(logout)).toMatchObject({ value: '', maxAge: 0 });
    expect((await get('/', header)).status).toBe(401);
  });

  it('a second login replaces the key: the first one no longer authenticates', async () => {
    const first = `__session=${sessionCookie(await post('/authenticate', 'user=ada'))!.value}`;
    const again = await post('/authenticate', 'user=grace', first);
    const second = `__session=${sessionCookie(again)!.value}`;
    expect(second).not.toBe(first);
    expect((await get('/', first)).status).toBe(401);
    expect(await (await get('/', second)).text()).toBe('hello, grace\n');
  });

  it('a forged or stale cookie is 401 and told to go away; a login without a user is 400, an oversized one 413', async () => {
    const forged = await get('/', '__session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(forged.status).toBe(401);
    expect(sessionCookie(forged)).toMatchObject({ value: '', maxAge: 0 });
    expect((await get('/', '__session=%%%; __session=x')).status).toBe(401);
    expect((await post('/authenticate', 'user=')).status).toBe(400);
    expect((await post('/authenticate', `user=${'x'.repeat(2000)}`)).status).toBe(413);
  });
});

it('tsx examples/login/login.ts listens on PORT', async () => {
  const running = await startExample('examples/login/login.ts', { PORT: '0' });
  try {
    expect((await fetch(`${running.url}/`)).status).toBe(401);
    const login = await fetch(`${running.url}/authenticate`, { method: 'POST', body: new URLSearchParams({ user: 'ada' }) });
    expect(login.status).toBe(200);
  } finally {
    await running.stop();
  }
});
