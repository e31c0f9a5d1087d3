import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSetCookie } from 'cookie';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBackend, type Backend } from 'sessionkit';
import { expectPeriodWithin, stopwatch } from '../../test/support/elapsed.js';
import { dropTablesLike, postgresSkipReason, DATABASE_URL, testPool, uniqueTable } from '../../test/support/postgres.js';
import { deleteKeysWithPrefix, REDIS_URL, redisSkipReason, testClient, uniquePrefix } from '../../test/support/redis-env.js';
import { startExample } from '../support/start-example.js';
import { demoApp, type DemoAppOptions } from './app.js';
import { openStorage, storageConfigFromEnv, type OpenStorage } from './backend.js';

/** Resident memory in MiB of the server: the last descendant of `pid` (tsx runs the script in a child process), from /proc. */
function serverRssMb(pid: number): number {
  try {
    const children = readdirSync(`/proc/${pid}/task`).flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean));
    if (children.length > 0) return serverRssMb(Number(children[0]));
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0; // the process exited between two reads
  }
}

/** POSTs `bytes` of form data (with Content-Length, or chunked) in 1 MiB writes until the server answers; resolves to its status. */
function uploadUntilAnswered(port: number, bytes: number, declared: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (declared) headers['content-length'] = bytes;
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/login', headers });
    const chunk = Buffer.alloc(1024 * 1024, 0x78);
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve(res.statusCode!);
      req.destroy();
    });
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const pump = () => {
      while (!answered && sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

/** A client of the demo app (in-process, `app.request`) that keeps its cookies like a browser, and sends the form token with each POST. */
function browserLike(backend: Backend, options: Omit<DemoAppOptions, 'storage'> = {}, userAgent?: string) {
  const app = demoApp(backend, { storage: 'test', ...options });
  const jar = new Map<string, string>();
  let token: string | undefined;
  const cookies = () => (jar.size === 0 ? undefined : [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
  const request = async (method: string, path: string, init: { body?: string; type?: string; accept?: string; token?: string | false } = {}) => {
    if (method === 'POST' && init.token === undefined && token === undefined) token = (await request('GET', '/csrf-token')).body;
    const headers: Record<string, string> = { accept: init.accept ?? '*/*', ...(userAgent === undefined ? {} : { 'user-agent': userAgent }) };
    const cookie = cookies();
    if (cookie !== undefined) headers.cookie = cookie;
    if (init.type !== undefined) headers['content-type'] = init.type;
    if (method === 'POST' && init.token !== false) headers['x-csrf-token'] = init.token ?? token!;
    const res = await app.request(path, { method, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
    for (const line of res.headers.getSetCookie()) {
      const parsed = parseSetCookie(line);
      if (parsed.value === undefined || parsed.value === '' || parsed.maxAge === 0) jar.delete(parsed.name);
      else jar.set(parsed.name, parsed.value);
    }
    return { status: res.status, body: await res.text(), headers: res.headers };
  };
  return {
    request,
    app,
    /** The session cookie (`sid=…`), or undefined without a session. */
    cookie: () => (jar.has('sid') ? `sid=${jar.get('sid')}` : undefined),
    /** Every cookie held, as a `Cookie` header (the session's and the form token's nonce). */
    cookies,
    /** Replaces the session cookie (undefined: drops it); the form token's nonce cookie stays. */
    setCookie: (value: string | undefined) => void (value === undefined ? jar.delete('sid') : jar.set('sid', value.replace(/^sid=/, ''))),
  };
}

/** The demo's scripted flow, the same on every storage. */
async function scriptedFlow(backend: Backend): Promise<void> {
  const client = browserLike(backend);
  expect((await client.request('POST', '/counter')).body).toBe('1');
  expect((await client.request('POST', '/counter')).body).toBe('2');
  expect((await client.request('GET', '/counter')).body).toBe('2');
  expect((await client.request('GET', '/whoami')).status).toBe(401);
  const before = client.cookie();
  expect(await client.request('POST', '/login', { body: 'user=ada', type: 'application/x-www-form-urlencoded' })).toMatchObject({ status: 200, body: 'ada' });
  const after = client.cookie();
  expect(after).toBeDefined();
  expect(after).not.toBe(before);
  expect(await client.request('GET', '/whoami')).toMatchObject({ status: 200, body: 'ada' });
  expect((await client.request('POST', '/counter')).body).toBe('3');
  client.setCookie(before);
  expect((await client.request('GET', '/whoami')).status).toBe(401);
  client.setCookie(after);
  expect((await client.request('POST', '/logout')).body).toBe('logged out\n');
  expect(client.cookie()).toBeUndefined();
  client.setCookie(after);
  expect((await client.request('GET', '/whoami')).status).toBe(401);

  // Two devices of one user: "log out everywhere" from one ends both.
  const laptop = browserLike(backend);
  const phone = browserLike(backend);
  const stranger = browserLike(backend);
  for (const [device, user] of [[laptop, 'grace'], [phone, 'grace'], [stranger, 'linus']] as const) {
    await device.request('POST', '/login', { body: `user=${user}`, type: 'application/x-www-form-urlencoded' });
  }
  expect((await laptop.request('POST', '/logout-everywhere')).body).toBe('2 sessions ended\n');
  expect((await laptop.request('GET', '/whoami')).status).toBe(401);
  expect((await phone.request('GET', '/whoami')).status).toBe(401);
  expect(await stranger.request('GET', '/whoami')).toMatchObject({ status: 200, body: 'linus' });
  expect((await laptop.request('POST', '/logout-everywhere')).status).toBe(401);
}

describe('demo routes (in-process, MemoryBackend)', () => {
  let backend: MemoryBackend;
  beforeEach(() => void (backend = new MemoryBackend()));
  afterEach(() => backend.close());

  it('counter, login (new key, old one dead), whoami, logout', () => scriptedFlow(backend));

  it('POST /counter is text/plain starting at 1; 100 parallel increments with one cookie lose none; GET /counter only reads', async () => {
    const client = browserLike(backend);
    expect((await client.request('GET', '/counter')).body).toBe('0');
    const first = await client.request('POST', '/counter');
    expect(first.body).toBe('1');
    expect(first.headers.get('content-type')).toMatch(/^text\/plain/);
    const counts = await Promise.all(Array.from({ length: 100 }, async () => Number((await client.request('POST', '/counter')).body)));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    expect((await client.request('GET', '/counter')).body).toBe('101');
    expect((await client.request('GET', '/counter')).body).toBe('101');
  });

  it('POST /login takes JSON too, and refuses a missing, empty or oversized user with 400', async () => {
    const client = browserLike(backend);
    expect(await client.request('POST', '/login', { body: '{"user":"grace"}', type: 'application/json' })).toMatchObject({ status: 200, body: 'grace' });
    expect(await client.request('GET', '/whoami')).toMatchObject({ status: 200, body: 'grace' });
    for (const [body, type] of [
      ['{}', 'application/json'],
      ['{"user":42}', 'application/json'],
      ['not json', 'application/json'],
      ['user=', 'application/x-www-form-urlencoded'],
      ['user=%20%20', 'application/x-www-form-urlencoded'],
      [`user=${'x'.repeat(65)}`, 'application/x-www-form-urlencoded'],
      ['', 'text/plain'],
    ] as const) {
      expect((await client.request('POST', '/login', { body, type })).status, body).toBe(400);
    }
    expect(await client.request('GET', '/whoami')).toMatchObject({ status: 200, body: 'grace' });
  });

  it('the page shows the counter, the user (escaped) and the expiry; forms from a browser redirect back to it', async () => {
    const client = browserLike(backend);
    const empty = await client.request('GET', '/', { accept: 'text/html' });
    expect(empty.headers.get('content-type')).toMatch(/^text\/html/);
    expect(empty.body).toContain('<dd id="count">0</dd>');
    expect(empty.body).toContain('not logged in');
    expect(empty.body).toContain('no session yet');
    // Reading the page stores nothing: its forms carry a signed token bound to a nonce cookie, set once; no session cookie.
    expect(empty.body).toMatch(/<input type="hidden" name="csrf" value="[A-Za-z0-9_-]{43}">/);
    expect(empty.headers.getSetCookie()).toEqual([expect.stringMatching(/^sessionkit\.csrf=[A-Za-z0-9_-]{32}; Path=\/; HttpOnly; SameSite=Lax$/)]);
    expect(client.cookie()).toBeUndefined();
    expect(backend.size).toBe(0);
    expect((await client.request('GET', '/', { accept: 'text/html' })).headers.getSetCookie()).toEqual([]);

    const html = { accept: 'text/html,application/xhtml+xml', type: 'application/x-www-form-urlencoded' };
    const count = await client.request('POST', '/counter', { ...html, body: '' });
    expect([count.status, count.headers.get('location')]).toEqual([303, '/']);
    const sinceLogin = stopwatch();
    const login = await client.request('POST', '/login', { ...html, body: 'user=%3Cscript%3Eada' });
    expect([login.status, login.headers.get('location')]).toEqual([303, '/']);

    const page = (await client.request('GET', '/', { accept: 'text/html' })).body;
    expect(page).toContain('<dd id="count">1</dd>');
    expect(page).toContain('<strong id="user">&lt;script&gt;ada</strong>');
    const expiry = /<dd id="expiry">in (\d+) s /.exec(page);
    expect(expiry, page).not.toBeNull();
    expectPeriodWithin(Number(expiry![1]), 604_800, sinceLogin);
    expect(page).toContain('action="/logout"');

    const logout = await client.request('POST', '/logout', { ...html, body: '' });
    expect([logout.status, logout.headers.get('location')]).toEqual([303, '/']);
    expect(client.cookie()).toBeUndefined();
  });
});

describe('devices, step-up and flash messages (in-process, MemoryBackend)', () => {
  let backend: MemoryBackend;
  beforeEach(() => void (backend = new MemoryBackend()));
  afterEach(() => backend.close());
  const html = { accept: 'text/html,application/xhtml+xml', type: 'application/x-www-form-urlencoded' };
  const page = async (client: ReturnType<typeof browserLike>) => (await client.request('GET', '/', { accept: 'text/html' })).body;

  it("the devices list shows each session's browser and when it was last seen, the current one marked; ending one leaves a flash shown once", async () => {
    const laptop = browserLike(backend, {}, 'Laptop <Browser>/1');
    const phone = browserLike(backend, {}, 'Phone/2');
    await laptop.request('POST', '/login', { ...html, body: 'user=grace' });
    await phone.request('POST', '/login', { ...html, body: 'user=grace' });
    expect(await page(phone)).toContain('<p class="flash" role="status">Logged in as grace.</p>');
    // Shown once: the next page has no message.
    const devices = await page(phone);
    expect(devices).not.toContain('class="flash"');
    const rows = [...devices.matchAll(/<tr data-session="([^"]+)"( class="current")?><td class="browser">([^<]*)<\/td><td class="address">([^<]*)<\/td><td class="last-seen">(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC<\/td>/g)];
    expect(rows.map(([, , current, browser, address]) => [browser, address, current !== undefined])).toEqual([
      ['Laptop &lt;Browser&gt;/1', 'unknown', false],
      ['Phone/2', 'unknown', true],
    ]);
    expect(Math.abs(Date.parse(`${rows[0]![5]!.replace(' ', 'T')}Z`) - Date.now())).toBeLessThan(60_000);

    const ended = await phone.request('POST', '/sessions/end', { ...html, body: `session=${rows[0]![1]}` });
    expect([ended.status, ended.headers.get('location')]).toEqual([303, '/']);
    expect(await page(phone)).toContain('Signed out of 1 other device (Laptop &lt;Browser&gt;/1).');
    expect((await laptop.request('GET', '/whoami')).status).toBe(401);
  });

  it('log out everywhere on a login older than stepUpSeconds asks for the password, refuses a wrong one, and goes ahead with the right one', async () => {
    const laptop = browserLike(backend, { stepUpSeconds: 0, password: 'open sesame' }, 'Laptop/1');
    const phone = browserLike(backend, {}, 'Phone/2');
    await laptop.request('POST', '/login', { ...html, body: 'user=grace' });
    await phone.request('POST', '/login', { ...html, body: 'user=grace' });
    await new Promise((resolve) => setTimeout(resolve, 5));

    const prompt = await laptop.request('POST', '/logout-everywhere', { ...html, body: '' });
    expect(prompt.status).toBe(401);
    expect(prompt.body).toContain('<h1>Confirm it is you</h1>');
    expect(prompt.body).toContain('id="step-up-password"');
    const wrong = await laptop.request('POST', '/logout-everywhere', { ...html, body: 'password=guess' });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toContain('That is not the password.');
    // Scripts get the same answer as text; nothing was ended so far.
    expect(await laptop.request('POST', '/logout-everywhere')).toMatchObject({ status: 401, body: expect.stringContaining('older than 0 s') });
    expect(await phone.request('GET', '/whoami')).toMatchObject({ status: 200, body: 'grace' });

    const confirmed = await laptop.request('POST', '/logout-everywhere', { ...html, body: 'password=open%20sesame' });
    expect([confirmed.status, confirmed.headers.get('location')]).toEqual([303, '/']);
    expect((await phone.request('GET', '/whoami')).status).toBe(401);
    const after = await page(laptop);
    expect(after).toContain('Signed out everywhere: 2 sessions ended, this one included.');
    expect(after).toContain('not logged in');
    expect(await page(laptop)).not.toContain('class="flash"');
  });

  it('a fresh login logs out everywhere without asking (the default 5 minutes)', async () => {
    const laptop = browserLike(backend);
    await laptop.request('POST', '/login', { body: 'user=grace', type: 'application/x-www-form-urlencoded' });
    expect(await laptop.request('POST', '/logout-everywhere')).toMatchObject({ status: 200, body: '1 sessions ended\n' });
  });
});

describe('anonymous visitors store nothing (real HTTP, MemoryBackend)', () => {
  let backend: MemoryBackend;
  let server: ServerType;
  let url: string;
  beforeEach(async () => {
    backend = new MemoryBackend();
    const app = demoApp(backend, { storage: 'test' });
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await backend.close();
  });

  it('10,000 anonymous GET / store 0 sessions; then a login POST with the token of the page stores exactly one', { timeout: 120_000 }, async () => {
    const flood = 10_000;
    const workers = 20;
    let served = 0;
    let sessionCookies = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let i = 0; i < flood / workers; i++) {
          const res = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
          await res.text();
          if (res.status === 200) served++;
          sessionCookies += res.headers.getSetCookie().filter((line) => line.startsWith('sid=')).length;
        }
      }),
    );
    expect(served).toBe(flood);
    expect(sessionCookies).toBe(0);
    expect(backend.size).toBe(0);
    expect(await backend.countLive()).toBe(0);

    // A visitor reads the page, then logs in with the token its form carries.
    const page = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
    const token = /name="csrf" value="([A-Za-z0-9_-]{43})"/.exec(await page.text())![1]!;
    const nonce = page.headers.getSetCookie()[0]!.split(';')[0]!;
    expect(backend.size).toBe(0);
    const refused = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user=ada&csrf=${token}` });
    expect(refused.status).toBe(403); // the token without its cookie
    expect(backend.size).toBe(0);
    const login = await fetch(`${url}/login`, { method: 'POST', headers: { cookie: nonce, 'content-type': 'application/x-www-form-urlencoded' }, body: `user=ada&csrf=${token}` });
    expect([login.status, await login.text()]).toEqual([200, 'ada']);
    const sid = login.headers.getSetCookie().find((line) => line.startsWith('sid='))!.split(';')[0]!;
    expect(backend.size).toBe(1);
    expect(await (await fetch(`${url}/whoami`, { headers: { cookie: `${nonce}; ${sid}` } })).text()).toBe('ada');
    // The same token keeps working after login: it is bound to the nonce cookie, not to the session key.
    const count = await fetch(`${url}/counter`, { method: 'POST', headers: { cookie: `${nonce}; ${sid}`, 'x-csrf-token': token } });
    expect([count.status, await count.text()]).toEqual([200, '1']);
    expect(backend.size).toBe(1);
  });
});

describe('form tokens across secrets (in-process, MemoryBackend)', () => {
  let backend: MemoryBackend;
  beforeEach(() => void (backend = new MemoryBackend()));
  afterEach(() => backend.close());
  const oldSecret = 'o'.repeat(32);
  const newSecret = 'n'.repeat(32);

  it('a token signed with the old secret is accepted after rotation (new first, old kept) and refused once the old one is dropped', async () => {
    const before = browserLike(backend, { csrfSecrets: [oldSecret] });
    const token = (await before.request('GET', '/csrf-token')).body;
    const nonce = before.cookies()!;
    const post = (secrets: string[]) =>
      demoApp(backend, { storage: 'test', csrfSecrets: secrets }).request('/counter', { method: 'POST', headers: { cookie: nonce, 'x-csrf-token': token } });
    expect((await post([newSecret, oldSecret])).status).toBe(200);
    expect((await post([newSecret])).status).toBe(403);
    expect(backend.size).toBe(1); // only the accepted POST stored a session
  });
});

describe('demo abuse (in-process, MemoryBackend)', () => {
  let backend: MemoryBackend;
  beforeEach(() => void (backend = new MemoryBackend({ maxSessions: 100_000 })));
  afterEach(() => backend.close());
  const form = 'application/x-www-form-urlencoded';

  /** A logged-in client with a counter of 1. */
  async function loggedIn(user = 'ada') {
    const client = browserLike(backend);
    await client.request('POST', '/counter');
    await client.request('POST', '/login', { body: `user=${user}`, type: form });
    return client;
  }
  const state = async (client: ReturnType<typeof browserLike>) => [(await client.request('GET', '/counter')).body, (await client.request('GET', '/whoami')).body];

  it('GET and HEAD never change state, on any route', async () => {
    const client = await loggedIn();
    const before = await state(client);
    for (const method of ['GET', 'HEAD']) {
      for (const path of ['/', '/counter', '/whoami', '/csrf-token', '/login?user=eve', '/logout', '/logout-everywhere', '/sessions/end']) {
        expect((await client.request(method, path)).status, `${method} ${path}`).not.toBe(500);
      }
    }
    expect(await state(client)).toEqual(before);
  });

  it('a POST without the token, or with a wrong or another session\'s token, is 403 and changes nothing', async () => {
    const client = await loggedIn();
    const other = browserLike(backend);
    const othersToken = (await other.request('GET', '/csrf-token')).body;
    const before = await state(client);
    for (const token of [false, 'x'.repeat(43), othersToken] as const) {
      for (const path of ['/counter', '/login', '/logout', '/logout-everywhere', '/sessions/end']) {
        const reply = await client.request('POST', path, { body: 'user=eve&session=x', type: form, token });
        expect([reply.status, reply.body], `${path} ${token}`).toEqual([403, expect.stringContaining('CSRF token')]);
      }
    }
    // The token is also accepted as a form field.
    const token = (await client.request('GET', '/csrf-token')).body;
    expect(await state(client)).toEqual(before);
    expect((await client.request('POST', '/counter', { body: `csrf=${token}`, type: form, token: false })).body).toBe('2');
  });

  it('a cross-site POST is refused by the session middleware before any route runs', async () => {
    const client = await loggedIn();
    const before = await state(client);
    const cookie = client.cookies()!;
    const token = (await client.request('GET', '/csrf-token')).body;
    for (const path of ['/counter', '/login', '/logout']) {
      const res = await client.app.request(path, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': token, 'sec-fetch-site': 'cross-site', origin: 'http://evil.example', 'content-type': form },
        body: 'user=eve',
      });
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    expect(await state(client)).toEqual(before);
  });

  it('bodies over 16 KiB are 413 (declared or streamed); deep JSON and names with NUL, a lone surrogate or a control character are 400', async () => {
    const client = await loggedIn();
    const big = 'user=' + 'x'.repeat(17_000);
    expect((await client.request('POST', '/login', { body: big, type: form })).status).toBe(413);
    const token = (await client.request('GET', '/csrf-token')).body;
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(1024).fill(0x78));
        controller.close();
      },
    });
    const chunked = await client.app.request('/login', { method: 'POST', headers: { cookie: client.cookies()!, 'x-csrf-token': token, 'content-type': form }, body: streamed, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);

    const deep = `{"user":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(await client.request('POST', '/login', { body: deep, type: 'application/json' })).toMatchObject({ status: 400, body: expect.stringContaining('nested deeper') });
    for (const user of ['a\ud800b', 'a\u0000b', 'a\u0007b', '\udfff', 'a\u007fb']) {
      const reply = await client.request('POST', '/login', { body: JSON.stringify({ user }), type: 'application/json' });
      expect(reply.status, JSON.stringify(user)).toBe(400);
    }
    expect((await client.request('POST', '/login', { body: 'user=a%00b', type: form })).status).toBe(400);
    // A lone surrogate percent-encoded as its WTF-8 bytes decodes to U+FFFD: a valid name.
    expect(await client.request('POST', '/login', { body: 'user=a%ED%A0%80b', type: form })).toMatchObject({ status: 200, body: 'a\ufffd\ufffd\ufffdb' });
  });

  it('the page lists the user\'s sessions (started, expires, this one) and ends another one by its digest', async () => {
    const laptop = await loggedIn('grace');
    const phone = await loggedIn('grace');
    const stranger = await loggedIn('linus');
    const page = (await laptop.request('GET', '/', { accept: 'text/html' })).body;
    const rows = [...page.matchAll(/<tr data-session="([^"]+)"( class="current")?><td class="browser">[^<]*<\/td><td class="address">[^<]*<\/td><td class="last-seen">[^<]*<\/td><td>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC<\/td><td>in (\d+) s<\/td>/g)];
    expect(rows).toHaveLength(2);
    expect(rows.filter((row) => row[2] !== undefined)).toHaveLength(1);
    for (const row of rows) expect(Number(row[4])).toBeGreaterThan(604_700);
    const phoneDigest = rows.find((row) => row[2] === undefined)![1]!;
    const laptopDigest = rows.find((row) => row[2] !== undefined)![1]!;
    const strangerDigest = [...(await stranger.request('GET', '/', { accept: 'text/html' })).body.matchAll(/data-session="([^"]+)"/g)][0]![1]!;

    expect((await laptop.request('POST', '/sessions/end', { body: `session=${laptopDigest}`, type: form })).status).toBe(400); // this one: log out instead
    expect((await laptop.request('POST', '/sessions/end', { body: `session=${strangerDigest}`, type: form })).status).toBe(404); // not hers
    expect((await laptop.request('POST', '/sessions/end', { body: 'session=nope', type: form })).status).toBe(404);
    expect((await laptop.request('POST', '/sessions/end', { body: '', type: form })).status).toBe(400);
    expect(await stranger.request('GET', '/whoami')).toMatchObject({ status: 200, body: 'linus' });
    expect(await phone.request('GET', '/whoami')).toMatchObject({ status: 200, body: 'grace' });

    expect(await laptop.request('POST', '/sessions/end', { body: `session=${phoneDigest}`, type: form })).toMatchObject({ status: 200, body: 'session ended\n' });
    expect((await phone.request('GET', '/whoami')).status).toBe(401);
    expect(await laptop.request('GET', '/whoami')).toMatchObject({ status: 200, body: 'grace' });
    expect([...(await laptop.request('GET', '/', { accept: 'text/html' })).body.matchAll(/<tr data-session=/g)]).toHaveLength(1);
    expect((await browserLike(backend).request('POST', '/sessions/end', { body: `session=${phoneDigest}`, type: form })).status).toBe(401);
  });
});

describe('demo storage from the environment', () => {
  it('REDIS_URL wins over DATABASE_URL, which wins over PGlite in DATA_DIR (default .data); empty means unset', () => {
    expect(storageConfigFromEnv({})).toEqual({ redisUrl: undefined, databaseUrl: undefined, dataDir: '.data', table: undefined });
    expect(storageConfigFromEnv({ DATA_DIR: '/tmp/x', REDIS_URL: '', DATABASE_URL: '' })).toMatchObject({ dataDir: '/tmp/x', redisUrl: undefined, databaseUrl: undefined });
    expect(storageConfigFromEnv({ DATABASE_URL: 'postgresql://h/db', SESSION_TABLE: 't' })).toMatchObject({ databaseUrl: 'postgresql://h/db', table: 't' });
  });

  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('PGlite under DATA_DIR keeps sessions across a close and reopen', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sessionkit-demo-'));
    dirs.push(dataDir);
    let storage: OpenStorage = await openStorage({ dataDir });
    expect(storage.description).toBe(`PGlite in ${join(dataDir, 'pglite')}`);
    const key = await storage.backend.generate({ value: 'kept' });
    await scriptedFlow(storage.backend);
    await storage.close();
    storage = await openStorage({ dataDir });
    try {
      expect(await storage.backend.get(key)).toMatchObject({ ok: true, value: 'kept' });
    } finally {
      await storage.close();
    }
  });

  it.skipIf(postgresSkipReason !== undefined)('DATABASE_URL: a PostgreSQL server, table created', async () => {
    const table = uniqueTable('demo');
    const storage = await openStorage({ databaseUrl: DATABASE_URL, dataDir: 'unused', table });
    try {
      expect(storage.description).toContain(`table ${table}`);
      await scriptedFlow(storage.backend);
    } finally {
      await storage.close();
      const pool = testPool(1);
      await dropTablesLike(pool, table);
      await pool.end();
    }
  });

  it.skipIf(redisSkipReason !== undefined)('REDIS_URL: Redis', async () => {
    const redisPrefix = uniquePrefix('demo');
    const storage = await openStorage({ redisUrl: REDIS_URL, databaseUrl: 'ignored', dataDir: 'unused', redisPrefix });
    try {
      expect(storage.description).toMatch(/^Redis at /);
      await scriptedFlow(storage.backend);
    } finally {
      await storage.close();
      const client = testClient();
      await deleteKeysWithPrefix(client, redisPrefix);
      client.disconnect();
    }
  });
});

// PGlite alone takes over 600 MB of RSS, so the memory bound is measured with sessions in Redis.
describe.skipIf(redisSkipReason !== undefined)(`npm start with REDIS_URL: body limits under load${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  it('three 300 MB bodies at once (two declared, one chunked) are each answered 413 while RSS stays under 200 MB', { timeout: 120_000 }, async () => {
    const running = await startExample('examples/demo/main.ts', { PORT: '0', REDIS_URL, DATABASE_URL: undefined }, 60_000);
    try {
      const pid = running.child.pid!;
      const baselineMb = serverRssMb(pid);
      let peakMb = baselineMb;
      const sampler = setInterval(() => void (peakMb = Math.max(peakMb, serverRssMb(pid))), 20);
      const statuses = await Promise.all([true, true, false].map((declared) => uploadUntilAnswered(running.port, 300 * 1024 * 1024, declared)));
      clearInterval(sampler);
      peakMb = Math.max(peakMb, serverRssMb(pid));
      expect(statuses).toEqual([413, 413, 413]);
      expect(baselineMb).toBeGreaterThan(10); // the sampler reads the server, not a wrapper
      expect(peakMb, `baseline ${baselineMb.toFixed(0)} MB`).toBeLessThan(200);
      expect((await fetch(`${running.url}/counter`)).status).toBe(200); // still serving
    } finally {
      await running.stop();
    }
  });
});

describe('npm start (examples/demo/main.ts as its own process, PGlite)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sessionkit-demo-main-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { PORT: '0', DATA_DIR: dataDir, DATABASE_URL: undefined, REDIS_URL: undefined, CSRF_SECRETS: `${'a'.repeat(32)},${'b'.repeat(32)}` };

  it('prints its URL, serves, closes on SIGTERM with exit code 0, and keeps the session over a restart', { timeout: 180_000 }, async () => {
    let running = await startExample('examples/demo/main.ts', env, 120_000);
    const tokenReply = await fetch(`${running.url}/csrf-token`);
    const token = await tokenReply.text();
    const nonce = tokenReply.headers.getSetCookie()[0]!.split(';')[0]!;
    expect(nonce).toMatch(/^sessionkit\.csrf=/);
    const first = await fetch(`${running.url}/counter`, { method: 'POST', headers: { cookie: nonce, 'x-csrf-token': token } });
    expect(await first.text()).toBe('1');
    const anonymous = first.headers.getSetCookie()[0]!.split(';')[0]!;
    const login = await fetch(`${running.url}/login`, { method: 'POST', headers: { cookie: `${nonce}; ${anonymous}`, 'x-csrf-token': token, 'content-type': 'application/json' }, body: '{"user":"ada"}' });
    const loggedIn = login.headers.getSetCookie()[0]!.split(';')[0]!;
    expect(await running.stop()).toBe(0);
    expect(running.output()).toMatch(/SIGTERM: closing\nclosed\n$/);

    running = await startExample('examples/demo/main.ts', env, 120_000);
    try {
      expect(await (await fetch(`${running.url}/whoami`, { headers: { cookie: loggedIn } })).text()).toBe('ada');
      // CSRF_SECRETS is the same over the restart, so the form token served before it still works.
      expect(await (await fetch(`${running.url}/counter`, { method: 'POST', headers: { cookie: `${nonce}; ${loggedIn}`, 'x-csrf-token': token } })).text()).toBe('2');
    } finally {
      expect(await running.stop()).toBe(0);
    }
  });

  it('a second instance on a busy port exits before opening its storage', { timeout: 180_000 }, async () => {
    const running = await startExample('examples/demo/main.ts', env, 120_000);
    const otherDir = mkdtempSync(join(tmpdir(), 'sessionkit-demo-busy-'));
    try {
      const second = startExample('examples/demo/main.ts', { ...env, PORT: String(running.port), DATA_DIR: otherDir });
      await expect(second).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
      expect(existsSync(join(otherDir, 'pglite'))).toBe(false);
    } finally {
      await running.stop();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('refuses a CSRF secret shorter than 32 bytes', async () => {
    await expect(startExample('examples/demo/main.ts', { ...env, CSRF_SECRETS: `${'a'.repeat(32)},short` })).rejects.toThrow(/CSRF_SECRETS must be at least 32 bytes; one has 5/);
  });

  it('refuses a PORT that is not a port number', async () => {
    await expect(startExample('examples/demo/main.ts', { ...env, PORT: 'eighty' })).rejects.toThrow(/PORT must be a port number/);
  });
});
