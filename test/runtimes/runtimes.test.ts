import { parseSetCookie } from 'cookie';
import { afterAll, describe, expect, it } from 'vitest';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { deleteKeysWithPrefix, redisSkipReason, testClient, uniquePrefix } from '../support/redis-env.js';
import type { SmokeBackend } from './smoke-app.js';
import { missingBinary, runtimes, startServer, type RunningServer } from './spawn-runtime.js';

const tablePrefix = `sk_runtime_${process.pid}_`;
const backends: Array<[SmokeBackend, string | undefined]> = [
  ['memory', undefined],
  ['postgres-js', postgresSkipReason],
  ['pg', postgresSkipReason],
  ['ioredis', redisSkipReason],
];
const redisPrefixes: string[] = [];

afterAll(async () => {
  if (postgresSkipReason === undefined) {
    const pool = testPool(1);
    await dropTablesLike(pool, tablePrefix);
    await pool.end();
  }
  if (redisSkipReason === undefined) {
    const client = testClient();
    for (const prefix of redisPrefixes) await deleteKeysWithPrefix(client, prefix);
    await client.quit();
  }
});

/** `sid=<key>` of a response, or undefined when it sets none; '' when it expires the cookie. */
function sidOf(response: Response): string | undefined {
  const line = response.headers.getSetCookie().find((c) => c.startsWith('sid='));
  return line === undefined ? undefined : (parseSetCookie(line).value ?? '');
}

/** The smoke scenario on one adapter's routes (`base` = server URL + /fetch or /hono). */
async function scenario(base: string): Promise<void> {
  const get = (path: string, key?: string) => fetch(`${base}${path}`, { headers: key ? { cookie: `sid=${key}` } : {} });

  const created = await get('/count');
  expect(await created.text()).toBe('1');
  expect(created.headers.getSetCookie()[0]).toMatch(/^sid=[A-Za-z0-9_-]{40}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
  expect(created.headers.get('cache-control')).toBe('no-store');
  expect(created.headers.get('vary')).toMatch(/\bCookie\b/);
  const key = sidOf(created)!;

  const read = await get('/read', key);
  expect(await read.text()).toBe('{"count":1}');
  expect(sidOf(read)).toBeUndefined();

  const counts = await Promise.all(Array.from({ length: 50 }, async () => (await get('/count', key)).text()));
  expect(counts.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));

  const login = await get('/login?user=bob', key);
  expect(await login.text()).toBe('ok');
  const renewed = sidOf(login)!;
  expect(renewed).toMatch(/^[A-Za-z0-9_-]{40}$/);
  expect(renewed).not.toBe(key);
  expect(await (await get('/read', renewed)).text()).toBe('{"count":51,"user":"bob"}');
  expect(await (await get('/read', key)).text()).toBe('{}');

  const logout = await get('/logout', renewed);
  expect(logout.headers.getSetCookie()).toEqual(['sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax']);
  expect(await (await get('/read', renewed)).text()).toBe('{}');
}

for (const runtime of runtimes) {
  const missing = missingBinary(runtime);
  describe.skipIf(missing !== undefined)(`${runtime.name} smoke${missing ? ` (skipped: ${missing})` : ''}`, () => {
    for (const [backend, skipReason] of backends) {
      it.skipIf(skipReason !== undefined)(`${backend}: sessionkit/fetch and the Hono adapter on a real port${skipReason ? ` (skipped: ${skipReason})` : ''}`, async () => {
        const prefix = uniquePrefix(`runtime-${runtime.name}`);
        redisPrefixes.push(prefix);
        let server: RunningServer | undefined;
        try {
          server = await startServer(runtime, {
            SMOKE_BACKEND: backend,
            SMOKE_TABLE: uniqueTable('runtime').replace(/^sk_runtime_/, tablePrefix),
            SMOKE_PREFIX: prefix,
          });
          await scenario(`${server.url}/fetch`);
          await scenario(`${server.url}/hono`);
        } catch (error) {
          throw new Error(`${(error as Error).message}\n--- ${runtime.name} output ---\n${server?.output() ?? ''}`, { cause: error });
        } finally {
          await server?.stop();
        }
      }, 120_000);
    }
  });
}
