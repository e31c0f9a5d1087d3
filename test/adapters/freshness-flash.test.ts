import express, { type Request } from 'express';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { getSession, sessionMiddleware } from '../../src/adapters/express/index.js';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { encodeEnvelope } from '../../src/http/envelope.js';
import { MemoryBackend, type OwnerIndexBackend } from '../../src/index.js';
import { TestClock } from '../http/support/instrumented-backend.js';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { redisSkipReason, useTestRedis } from '../support/redis-env.js';
import { sidOf, withKey } from './support/adapter-suite.js';
import type { TestClient } from './support/app-spec.js';
import { EXPRESS_VERSIONS } from './support/express-app.js';
import { serve } from './support/real-server.js';

/** connect-flash's `req.flash`, which the middleware installs (untyped on `Request`, as `req.session` is). */
const reqFlash = (req: Request, ...args: unknown[]): unknown => (req as unknown as { flash: (...a: unknown[]) => unknown }).flash(...args);

const q = (req: Request, name: string) => (typeof req.query[name] === 'string' ? req.query[name] : undefined);

/** An Express app on `backend` with routes for freshness and flash, over real HTTP; the session's clock is `clock`. */
async function flashApp(expressModule: typeof express, backend: OwnerIndexBackend & Parameters<typeof sessionMiddleware>[0], clock: TestClock): Promise<TestClient> {
  const app = expressModule();
  app.use(sessionMiddleware(backend, { owners: true, nowMs: clock.nowMs }));
  const json = (res: express.Response, value: unknown) => res.type('application/json').send(JSON.stringify(value === undefined ? null : value));
  app.get('/login', (req, res) => {
    getSession(req).regenerate({ owner: q(req, 'owner')! });
    res.send('ok');
  });
  app.get('/regenerate', (req, res) => {
    getSession(req).regenerate();
    res.send('ok');
  });
  app.get('/set', (req, res) => {
    getSession(req).set('note', q(req, 'note'));
    res.send('ok');
  });
  app.get('/fresh', (req, res) => {
    const session = getSession(req);
    json(res, { fresh: session.isFresh(Number(q(req, 'max'))), authenticatedAtMs: session.authenticatedAt?.getTime() ?? null, owner: session.owner ?? null });
  });
  app.get('/flash', (req, res) => json(res, getSession(req).flash(q(req, 'type')!, q(req, 'msg'))));
  app.get('/take', (req, res) => {
    const type = q(req, 'type');
    json(res, type === undefined ? getSession(req).takeFlash() : getSession(req).takeFlash(type));
  });
  app.get('/req-flash', (req, res) => {
    const args = ([] as unknown[]).concat(req.query.arg ?? []);
    const list = q(req, 'list');
    json(res, reqFlash(req, ...(list === undefined ? args : [args[0], list.split(',')])));
  });
  app.get('/session-field', (req, res) => {
    reqFlash(req, 'info', 'seen by req.session');
    json(res, (req.session as unknown as Record<string, unknown>).flash);
  });
  app.get('/data', (req, res) => json(res, getSession(req).data));
  return serve(app);
}

interface Started {
  readonly client: TestClient;
  readonly clock: TestClock;
  readonly backend: OwnerIndexBackend & Parameters<typeof sessionMiddleware>[0];
}

/** Freshness and flash over real HTTP, through the Express adapter, on the store `makeBackend` gives. */
function describeFreshnessAndFlash(name: string, makeBackend: (clock: TestClock) => Promise<Started['backend']>, expressModule: typeof express = express): void {
  describe(name, () => {
    const open: Started[] = [];
    afterEach(async () => {
      for (const { client, backend } of open.splice(0)) {
        await client.close();
        await backend.close();
      }
    });
    const start = async (): Promise<Started> => {
      const clock = new TestClock();
      const backend = await makeBackend(clock);
      const started = { client: await flashApp(expressModule, backend, clock), clock, backend };
      open.push(started);
      return started;
    };
    const fresh = async (client: TestClient, key: string, maxSeconds: number) =>
      JSON.parse((await client.get(`/fresh?max=${maxSeconds}`, withKey(key))).body) as { fresh: boolean; authenticatedAtMs: number | null; owner: string | null };
    const user = () => `user-${Math.random().toString(36).slice(2, 10)}`;

    describe('freshness', () => {
      it('is true right after the login, false once the clock is past maxAge; a step-up login refreshes it, a regenerate() without owner keeps it', async () => {
        const { client, clock } = await start();
        const owner = user();
        const loginAtMs = clock.wallMs;
        const key = sidOf(await client.get(`/login?owner=${owner}`))!;
        expect(await fresh(client, key, 300)).toEqual({ fresh: true, authenticatedAtMs: loginAtMs, owner });

        clock.advance(300);
        expect((await fresh(client, key, 300)).fresh).toBe(true);
        clock.advance(1);
        expect(await fresh(client, key, 300)).toEqual({ fresh: false, authenticatedAtMs: loginAtMs, owner });
        expect((await fresh(client, key, 3600)).fresh).toBe(true);

        // Writes and a regeneration without owner keep the time of login.
        await client.get('/set?note=a', withKey(key));
        const moved = sidOf(await client.get('/regenerate', withKey(key)))!;
        expect(moved).not.toBe(key);
        expect(await fresh(client, moved, 300)).toEqual({ fresh: false, authenticatedAtMs: loginAtMs, owner });

        // Step-up: the same user logs in again.
        const stepUpAtMs = clock.wallMs;
        const again = sidOf(await client.get(`/login?owner=${owner}`, withKey(moved)))!;
        expect(await fresh(client, again, 300)).toEqual({ fresh: true, authenticatedAtMs: stepUpAtMs, owner });
        expect(JSON.parse((await client.get('/data', withKey(again))).body)).toEqual({ note: 'a' });
      });

      it('is unknown (never fresh) for an anonymous session and for one stored without a time of login', async () => {
        const { client, clock, backend } = await start();
        const anonymous = sidOf(await client.get('/set?note=a'))!;
        expect(await fresh(client, anonymous, 3600)).toEqual({ fresh: false, authenticatedAtMs: null, owner: null });

        // A session stored by a version that kept no time of login: same owner, no `authenticatedAtMs`.
        const owner = user();
        const value = encodeEnvelope({ createdAtMs: clock.wallMs, owner, data: { note: 'old' } });
        expect(value).not.toContain('authenticatedAtMs');
        const stored = await backend.generate({ value, expiry: 3600, owner });
        expect(await fresh(client, stored, 0)).toEqual({ fresh: false, authenticatedAtMs: null, owner });
        await client.get('/set?note=new', withKey(stored));
        expect((await fresh(client, stored, 3600)).authenticatedAtMs).toBeNull();

        const loggedIn = sidOf(await client.get(`/login?owner=${owner}`, withKey(stored)))!;
        expect(await fresh(client, loggedIn, 0)).toEqual({ fresh: true, authenticatedAtMs: clock.wallMs, owner });
      });
    });

    describe('flash', () => {
      it('typed: set on one request, read and gone on the next', async () => {
        const { client } = await start();
        const first = await client.get('/flash?type=info&msg=saved');
        expect(first.body).toBe('1');
        const key = sidOf(first)!;
        expect((await client.get('/flash?type=info&msg=again', withKey(key))).body).toBe('2');
        expect((await client.get('/flash?type=error&msg=oops', withKey(key))).body).toBe('1');

        expect(JSON.parse((await client.get('/take?type=info', withKey(key))).body)).toEqual(['saved', 'again']);
        expect(JSON.parse((await client.get('/take?type=info', withKey(key))).body)).toEqual([]);
        expect(JSON.parse((await client.get('/take', withKey(key))).body)).toEqual({ error: ['oops'] });
        expect(JSON.parse((await client.get('/take', withKey(key))).body)).toEqual({});
        expect(JSON.parse((await client.get('/data', withKey(key))).body)).toEqual({});
      });

      it('reading an empty flash without a session creates none', async () => {
        const { client } = await start();
        for (const path of ['/take?type=info', '/take', '/req-flash?arg=info', '/req-flash']) {
          const reply = await client.get(path);
          expect(reply.setCookies).toEqual([]);
        }
      });

      it("req.flash: connect-flash's return values, and gone once read", async () => {
        const { client } = await start();
        const first = await client.get('/req-flash?arg=info&arg=Flash%20is%20back!');
        expect(first.body).toBe('1');
        const key = sidOf(first)!;
        expect((await client.get('/req-flash?arg=info&arg=hello%20%25s&arg=world', withKey(key))).body).toBe('2');
        expect((await client.get('/req-flash?arg=info&list=a,b', withKey(key))).body).toBe('4');
        expect((await client.get('/req-flash?arg=error&arg=bad', withKey(key))).body).toBe('1');

        expect(JSON.parse((await client.get('/req-flash?arg=info', withKey(key))).body)).toEqual(['Flash is back!', 'hello world', 'a', 'b']);
        expect(JSON.parse((await client.get('/req-flash?arg=info', withKey(key))).body)).toEqual([]);
        expect((await client.get('/req-flash?arg=warn&arg=w', withKey(key))).body).toBe('1');
        expect(JSON.parse((await client.get('/req-flash', withKey(key))).body)).toEqual({ error: ['bad'], warn: ['w'] });
        expect(JSON.parse((await client.get('/req-flash', withKey(key))).body)).toEqual({});
        expect(JSON.parse((await client.get('/data', withKey(key))).body)).toEqual({});
      });

      it("req.flash keeps connect-flash's reading forms: a falsy message reads the type, an empty type reads all", async () => {
        const { client } = await start();
        const key = sidOf(await client.get('/req-flash?arg=info&arg=one'))!;
        await client.get('/req-flash?arg=error&arg=two', withKey(key));
        expect(JSON.parse((await client.get('/req-flash?arg=info&arg=', withKey(key))).body)).toEqual(['one']);
        expect(JSON.parse((await client.get('/req-flash?arg=', withKey(key))).body)).toEqual({ error: ['two'] });
        expect(JSON.parse((await client.get('/data', withKey(key))).body)).toEqual({});
      });

      it('req.flash and the typed API share the messages; req.session.flash shows them', async () => {
        const { client } = await start();
        const key = sidOf(await client.get('/flash?type=info&msg=typed'))!;
        expect(JSON.parse((await client.get('/session-field', withKey(key))).body)).toEqual({ info: ['typed', 'seen by req.session'] });
        expect(JSON.parse((await client.get('/take?type=info', withKey(key))).body)).toEqual(['typed', 'seen by req.session']);
      });
    });
  });
}

for (const { name, express: expressModule } of EXPRESS_VERSIONS) {
  describeFreshnessAndFlash(`${name} on memory`, async (clock) => new MemoryBackend({ nowMs: clock.monotonicMs }), expressModule);
}

const prefix = `sk_fresh_${process.pid}_`;
describe.skipIf(postgresSkipReason !== undefined)(`on PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const pool = testPool(4);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });
  // The store keeps its own (real) time for expiry; the session's clock only decides freshness here.
  describeFreshnessAndFlash('Express 5 on PostgreSQL', async () => {
    const backend = new PostgresBackend(pool, { table: uniqueTable('fresh') });
    await backend.ensureSchema();
    return backend;
  });
});

describe.skipIf(redisSkipReason !== undefined)(`on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  describeFreshnessAndFlash('Express 5 on Redis', async () => new RedisBackend(redis.client, { prefix: redis.prefix('fresh') }));
});
