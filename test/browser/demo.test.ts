// The demo (`npm start`) in a real browser: Debian's headless Chromium driven
// by playwright-core. Runs when /usr/bin/chromium exists; required with CI=true.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExample, type RunningExample } from '../../examples/support/start-example.js';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium)`;
if (missing !== undefined && process.env.CI === 'true') throw new Error(`${missing}; CI=true requires the browser test`);

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(missing !== undefined)(`the demo in headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sessionkit-browser-data-'));
  const profileDir = mkdtempSync(join(tmpdir(), 'sessionkit-browser-profile-'));
  // STEP_UP_SECONDS=0: every login is already too old for "log out everywhere", so the step-up shows without waiting 5 minutes.
  const env = { PORT: '0', DATA_DIR: dataDir, DATABASE_URL: undefined, REDIS_URL: undefined, HOST: undefined, STEP_UP_SECONDS: '0' };
  /** SESSIONKIT_SCREENSHOTS=<dir> saves the devices, step-up and flash screens there as PNG (examples/demo/screenshots holds the committed ones). */
  const screenshots = process.env.SESSIONKIT_SCREENSHOTS;
  const snap = async (name: string) => {
    if (screenshots !== undefined) await page.screenshot({ path: join(screenshots, `${name}.png`) });
  };
  let demo: RunningExample;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    [demo, context] = await Promise.all([
      startExample('examples/demo/main.ts', env, 120_000),
      chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: ARGS }),
    ]);
    page = context.pages()[0] ?? (await context.newPage());
  }, 150_000);

  afterAll(async () => {
    await context?.close();
    await demo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  /** The browser's session cookie for the demo's host (cookies ignore the port). */
  const sid = async () => (await context.cookies(demo.url)).find((c) => c.name === 'sid');
  const bodyText = async () => (await page.textContent('body'))?.trim();
  /** A request from Node (not the browser) carrying `sid=<key>`: what a replayed, stolen cookie gets. */
  const replay = (path: string, key: string) => fetch(`${demo.url}${path}`, { headers: { cookie: `sid=${key}` } });

  /** Clicks "Count +1" on the page (a POST with the CSRF token) and waits for the redirect back. */
  const increment = async () => {
    await page.goto(`${demo.url}/`);
    await Promise.all([page.waitForURL(`${demo.url}/`), page.click('#increment')]);
  };

  it('reading the page stores no session: only the form token nonce cookie is set', async () => {
    await page.goto(`${demo.url}/`);
    expect(await page.textContent('#count')).toBe('0');
    await page.reload();
    expect(await sid()).toBeUndefined();
    const nonce = (await context.cookies(demo.url)).find((c) => c.name === 'sessionkit.csrf');
    expect(nonce).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', value: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) });
  });

  it("the counter increments with the page's form; reloading GET /counter changes nothing", async () => {
    for (let i = 0; i < 3; i++) await increment();
    expect(await page.textContent('#count')).toBe('3');
    expect((await page.goto(`${demo.url}/counter`))?.status()).toBe(200);
    expect(await bodyText()).toBe('3');
    await page.reload();
    expect(await bodyText()).toBe('3');
  });

  it('the cookie is HttpOnly (invisible to document.cookie) and SameSite=Lax', async () => {
    await page.goto(`${demo.url}/`);
    expect(await page.textContent('#count')).toBe('3');
    // A string: this project's type-check has no DOM types.
    expect(await page.evaluate<string>('document.cookie')).not.toContain('sid=');
    expect(await sid()).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', secure: false });
  });

  it('after login the pre-login cookie no longer authenticates', async () => {
    const before = (await sid())!.value;
    await page.goto(`${demo.url}/`);
    await page.fill('#login-user', 'ada');
    await Promise.all([page.waitForURL(`${demo.url}/`), page.click('#login')]);
    expect(await page.textContent('#user')).toBe('ada');
    const after = (await sid())!.value;
    expect(after).not.toBe(before);

    expect((await replay('/whoami', before)).status).toBe(401);
    const fresh = await replay('/whoami', after);
    expect([fresh.status, await fresh.text()]).toEqual([200, 'ada']);

    await page.goto(`${demo.url}/whoami`);
    expect(await bodyText()).toBe('ada');
    await increment();
    expect(await page.textContent('#count')).toBe('4'); // the data moved to the new key
  });

  it("lists this browser among the user's sessions, and ends another one with its End button", async () => {
    // A second device of ada: a script that logs in with its own token.
    const tokenReply = await fetch(`${demo.url}/csrf-token`);
    const other = tokenReply.headers.getSetCookie()[0]!.split(';')[0]!;
    const login = await fetch(`${demo.url}/login`, { method: 'POST', headers: { cookie: other, 'x-csrf-token': await tokenReply.text(), 'content-type': 'application/json' }, body: '{"user":"ada"}' });
    const otherKey = login.headers.getSetCookie()[0]!.split(';')[0]!.split('=')[1]!;
    expect((await replay('/whoami', otherKey)).status).toBe(200);

    await page.goto(`${demo.url}/`);
    expect(await page.locator('#devices tbody tr').count()).toBe(2);
    expect(await page.textContent('#devices tr.current')).toContain('this browser');
    await Promise.all([page.waitForURL(`${demo.url}/`), page.click('#devices .end-session')]);
    expect(await page.locator('#devices tbody tr').count()).toBe(1);
    expect((await replay('/whoami', otherKey)).status).toBe(401);
    expect(await page.textContent('#user')).toBe('ada');
  });

  it('a cross-site form POST from another origin (localhost vs 127.0.0.1) to /counter or /login changes nothing', async () => {
    const key = (await sid())!.value;
    const attacker = http.createServer((req, res) => {
      const target = req.url === '/login' ? 'login' : 'counter';
      res.setHeader('content-type', 'text/html');
      res.end(`<form id="f" method="post" action="${demo.url}/${target}"><input name="user" value="mallory"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, 'localhost', resolve));
    const attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}`;
    try {
      for (const path of ['/counter', '/login']) {
        const refused = page.waitForResponse((response) => response.url() === `${demo.url}${path}`);
        await page.goto(`${attackerUrl}${path}`);
        expect((await refused).status(), path).toBe(403);
      }
    } finally {
      attacker.closeAllConnections();
      await new Promise<void>((resolve) => attacker.close(() => resolve()));
    }
    expect((await sid())!.value).toBe(key);
    await page.goto(`${demo.url}/`);
    expect(await page.textContent('#count')).toBe('4');
    expect(await page.textContent('#user')).toBe('ada');
  });

  it('a server restart keeps the session', { timeout: 150_000 }, async () => {
    const key = (await sid())!.value;
    expect(await demo.stop()).toBe(0);
    demo = await startExample('examples/demo/main.ts', env, 120_000);
    const response = await page.goto(`${demo.url}/whoami`);
    expect([response?.status(), await bodyText()]).toEqual([200, 'ada']);
    await increment();
    expect(await page.textContent('#count')).toBe('5');
    expect((await sid())!.value).toBe(key);
  });

  it('after logout the old cookie no longer authenticates', async () => {
    const before = (await sid())!.value;
    expect((await replay('/whoami', before)).status).toBe(200);
    await page.goto(`${demo.url}/`);
    await Promise.all([page.waitForURL(`${demo.url}/`), page.click('#logout')]);
    expect(await page.textContent('body')).toContain('not logged in');
    // The page after logout renders forms whose token is bound to the nonce cookie: no new session is stored.
    expect(await sid()).toBeUndefined();

    expect((await replay('/whoami', before)).status).toBe(401);
    for (const line of (await replay('/csrf-token', before)).headers.getSetCookie()) expect(line).not.toContain(before); // never the old key back
    expect((await page.goto(`${demo.url}/whoami`))?.status()).toBe(401);
  });

  it('devices with their browser, address and last use, this one marked; a stale login asks for the password before logging out everywhere; flash messages show once', async () => {
    await page.setViewportSize({ width: 800, height: 600 });
    // A second device of grace: a script with a user agent of its own.
    const tokenReply = await fetch(`${demo.url}/csrf-token`);
    const nonce = tokenReply.headers.getSetCookie()[0]!.split(';')[0]!;
    const phoneAgent = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36';
    const phoneLogin = await fetch(`${demo.url}/login`, {
      method: 'POST',
      headers: { cookie: nonce, 'x-csrf-token': await tokenReply.text(), 'content-type': 'application/json', 'user-agent': phoneAgent },
      body: '{"user":"grace"}',
    });
    const phoneKey = phoneLogin.headers.getSetCookie()[0]!.split(';')[0]!.split('=')[1]!;

    await page.goto(`${demo.url}/`);
    await page.fill('#login-user', 'grace');
    await Promise.all([page.waitForURL(`${demo.url}/`), page.click('#login')]);
    expect(await page.textContent('.flash')).toBe('Logged in as grace.');
    await snap('flash');
    await page.reload();
    expect(await page.locator('.flash').count()).toBe(0);

    const rows = page.locator('#devices tbody tr');
    expect(await rows.count()).toBe(2);
    const ownAgent = (await page.evaluate('navigator.userAgent')) as string;
    const current = page.locator('#devices tr.current');
    expect(await current.locator('td.browser').textContent()).toBe(ownAgent.slice(0, 256));
    expect(await current.textContent()).toContain('this browser');
    expect(await page.locator('#devices tr:not(.current) td.browser').textContent()).toBe(phoneAgent);
    for (const address of await page.locator('#devices td.address').allTextContents()) expect(address).toBe('127.0.0.1');
    for (const seen of await page.locator('#devices td.last-seen').allTextContents()) expect(seen).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await snap('devices');

    await Promise.all([page.waitForURL(`${demo.url}/logout-everywhere`), page.click('#logout-everywhere')]);
    expect(await page.textContent('h1')).toBe('Confirm it is you');
    expect((await replay('/whoami', phoneKey)).status).toBe(200);
    await page.fill('#step-up-password', 'not it');
    await Promise.all([page.waitForURL(`${demo.url}/logout-everywhere`), page.click('#step-up-confirm')]);
    expect(await page.textContent('#step-up-error')).toBe('That is not the password.');
    await snap('step-up');
    await page.fill('#step-up-password', 'demo');
    await Promise.all([page.waitForURL(`${demo.url}/`), page.click('#step-up-confirm')]);
    expect(await page.textContent('.flash')).toBe('Signed out everywhere: 2 sessions ended, this one included.');
    expect(await page.textContent('body')).toContain('not logged in');
    expect((await replay('/whoami', phoneKey)).status).toBe(401);
    await page.reload();
    expect(await page.locator('.flash').count()).toBe(0);
  });
});
