import express from 'express';
import { Hono } from 'hono';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sessionMiddleware as expressSessions, getSession } from '../../src/adapters/express/index.js';
import { withSession as fetchSession } from '../../src/adapters/fetch/index.js';
import { sessionMiddleware as honoSessions, type SessionEnv } from '../../src/adapters/hono/index.js';
import { withSession as nodeSession, type NodeSessionOptions } from '../../src/adapters/node/index.js';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { encodeEnvelope } from '../../src/http/envelope.js';
import type { SessionOptions } from '../../src/http/index.js';
import { digestKey, MemoryBackend, type OwnerIndexBackend } from '../../src/index.js';
import { InstrumentedOwnerBackend, TestClock } from '../http/support/instrumented-backend.js';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { redisSkipReason, useTestRedis } from '../support/redis-env.js';
import { sidOf, withKey } from './support/adapter-suite.js';
import { dispatch, type AppFactory, type TestClient, type TestData } from './support/app-spec.js';
import { expressApp } from './support/express-app.js';
import { fastifyApp } from './support/fastify-app.js';
import { fetchApp } from './support/fetch-app.js';
import { honoApp } from './support/hono-app.js';
import { koaApp } from './support/koa-app.js';
import { nodeApp } from './support/node-app.js';
import { serve } from './support/real-server.js';

/** What `/own-sessions` answers, through JSON (dates as ISO text, undefined fields left out). */
interface Listed {
  keyDigest: string;
  expiresInSeconds: number;
  createdAt: string;
  lastSeenAt?: string;
  userAgent?: string;
  clientAddress?: string;
  current: boolean;
}

/** Every adapter; `address`: whether it sees the client's address (a `Request` carries none). */
const ADAPTERS: Array<{ name: string; app: AppFactory; address: boolean }> = [
  { name: 'node:http', app: nodeApp, address: true },
  { name: 'Express 5', app: expressApp, address: true },
  { name: 'Fastify 5', app: fastifyApp, address: true },
  { name: 'Koa 3', app: koaApp, address: true },
  { name: 'Hono 4', app: honoApp, address: false },
  { name: 'fetch', app: fetchApp, address: false },
];

const user = () => `user-${Math.random().toString(36).slice(2, 10)}`;
const ua = (agent: string) => ({ 'user-agent': agent });
const listOf = async (client: TestClient, key: string, agent: string) => JSON.parse((await client.get('/own-sessions', { ...withKey(key), ...ua(agent) })).body) as Listed[];

/** Metadata over real HTTP on the store `makeBackend` gives, through the adapters in `adapters`. */
function describeMetadata(storeName: string, makeBackend: (clock: TestClock) => Promise<OwnerIndexBackend>, adapters = ADAPTERS): void {
  describe(`session metadata on ${storeName}`, () => {
    const open: Array<{ client: TestClient; backend: OwnerIndexBackend }> = [];
    afterEach(async () => {
      for (const { client, backend } of open.splice(0)) {
        await client.close();
        await backend.close();
      }
    });
    const start = async (app: AppFactory, options: SessionOptions) => {
      const clock = new TestClock();
      const backend = new InstrumentedOwnerBackend(await makeBackend(clock));
      const client = await app(backend, { owners: true, idleTimeoutSeconds: 3600, touchAfterSeconds: 60, nowMs: clock.nowMs, ...options });
      open.push({ client, backend });
      return { client, clock, backend };
    };

    for (const { name, app, address } of adapters) {
      it(`${name}: each device with its last request's time, user agent${address ? ' and address' : ''}, the current one marked`, async () => {
        const { client, clock } = await start(app, { recordUserAgent: true, recordClientAddress: address });
        const owner = user();
        const laptopAtMs = clock.wallMs;
        const laptop = sidOf(await client.get(`/login-as?owner=${owner}`, ua('Laptop/1.0')))!;
        clock.advance(30);
        const phoneAtMs = clock.wallMs;
        const phone = sidOf(await client.get(`/login-as?owner=${owner}`, ua('Phone/2.0')))!;

        const listed = await listOf(client, phone, 'Phone/2.0');
        const where = address ? { clientAddress: '127.0.0.1' } : {};
        expect(listed).toMatchObject([
          { keyDigest: digestKey(laptop), current: false, lastSeenAt: new Date(laptopAtMs).toISOString(), userAgent: 'Laptop/1.0', ...where },
          { keyDigest: digestKey(phone), current: true, lastSeenAt: new Date(phoneAtMs).toISOString(), userAgent: 'Phone/2.0', ...where },
        ]);
        if (!address) for (const session of listed) expect(session).not.toHaveProperty('clientAddress');
        // The laptop's own view marks the laptop.
        expect((await listOf(client, laptop, 'Laptop/1.0')).map((session) => session.current)).toEqual([true, false]);
      });
    }

    const [, { app: expressOnly }] = ADAPTERS as [unknown, { app: AppFactory }];

    it('the time last seen rides on the writes a session makes anyway: none within the touch throttle, the renewal after it', async () => {
      // A throttle of 1 s: real stores keep their own time, so the renewal's turn comes by waiting, not by the test clock.
      const { client, clock, backend } = await start(expressOnly, { recordUserAgent: true, touchAfterSeconds: 1 });
      const owner = user();
      const loginAtMs = clock.wallMs;
      const key = sidOf(await client.get(`/login-as?owner=${owner}`, ua('Browser/1')))!;

      backend.resetCounts();
      const quiet = await client.get('/read', { ...withKey(key), ...ua('Browser/2') });
      expect(quiet.setCookies).toEqual([]);
      expect(backend.writes).toBe(0);
      expect((await listOf(client, key, 'Browser/2'))[0]).toMatchObject({ lastSeenAt: new Date(loginAtMs).toISOString(), userAgent: 'Browser/1' });

      clock.advance(31);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      backend.resetCounts();
      const renewedAtMs = clock.wallMs;
      await client.get('/read', { ...withKey(key), ...ua('Browser/2') });
      // One write, the renewal the throttle allows, carries the time and the new user agent.
      expect(backend.writes).toBe(1);
      expect(backend.calls.compareAndSet).toBe(1);
      expect((await listOf(client, key, 'Browser/2'))[0]).toMatchObject({ lastSeenAt: new Date(renewedAtMs).toISOString(), userAgent: 'Browser/2' });
      expect(JSON.parse((await client.get('/read', withKey(key))).body)).toEqual({ user: owner });
    });

    it('off by default: no user agent or address is stored, the time last seen is; a session stored before it lists without one', async () => {
      const { client, clock, backend } = await start(expressOnly, {});
      const owner = user();
      const loginAtMs = clock.wallMs;
      const key = sidOf(await client.get(`/login-as?owner=${owner}`, ua('Private/1')))!;
      const stored = await backend.get(key);
      expect(stored.ok && stored.value).not.toContain('Private/1');
      expect(stored.ok && stored.value).not.toContain('127.0.0.1');

      const old = await backend.ownerInner.generate({ value: encodeEnvelope({ createdAtMs: clock.wallMs, owner, data: {} }), expiry: 3600, owner });
      const listed = await listOf(client, key, 'Private/1');
      expect(listed).toHaveLength(2);
      const byDigest = new Map(listed.map((session) => [session.keyDigest, session]));
      expect(byDigest.get(digestKey(key))).toMatchObject({ current: true, lastSeenAt: new Date(loginAtMs).toISOString() });
      expect(byDigest.get(digestKey(key))).not.toHaveProperty('userAgent');
      expect(byDigest.get(digestKey(key))).not.toHaveProperty('clientAddress');
      expect(byDigest.get(digestKey(old))).toMatchObject({ current: false });
      expect(byDigest.get(digestKey(old))).not.toHaveProperty('lastSeenAt');
    });

    it('a long user agent is kept to its first 256 characters', async () => {
      const { client } = await start(expressOnly, { recordUserAgent: true });
      const long = 'Agent/' + 'x'.repeat(400);
      const key = sidOf(await client.get(`/login-as?owner=${user()}`, ua(long)))!;
      expect((await listOf(client, key, long))[0]!.userAgent).toBe(long.slice(0, 256));
    });
  });
}

describeMetadata('memory', async (clock) => new MemoryBackend({ nowMs: clock.monotonicMs }));

const prefix = `sk_meta_${process.pid}_`;
describe.skipIf(postgresSkipReason !== undefined)(`on PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const pool = testPool(4);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });
  // The store keeps its own (real) time for expiry; the session's clock decides what is recorded.
  describeMetadata(
    'PostgreSQL',
    async () => {
      const backend = new PostgresBackend(pool, { table: uniqueTable('meta') });
      await backend.ensureSchema();
      return backend;
    },
    ADAPTERS.filter(({ name }) => name === 'Express 5' || name === 'Fastify 5' || name === 'node:http'),
  );
});

describe.skipIf(redisSkipReason !== undefined)(`on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  describeMetadata(
    'Redis',
    async () => new RedisBackend(redis.client, { prefix: redis.prefix('meta') }),
    ADAPTERS.filter(({ name }) => name === 'Express 5' || name === 'Koa 3' || name === 'node:http'),
  );
});

describe('which client address is recorded', () => {
  const open: TestClient[] = [];
  afterEach(async () => {
    for (const client of open.splice(0)) await client.close();
  });
  const forwarded = (forwardedFor: string) => ({ 'x-forwarded-for': forwardedFor, ...ua('Proxied/1') });

  it("Express: req.ip, so the app's trust proxy setting decides", async () => {
    for (const [trust, expected] of [[false, '127.0.0.1'], ['loopback', '203.0.113.9']] as const) {
      const app = express();
      app.set('trust proxy', trust);
      app.use(expressSessions(new MemoryBackend(), { owners: true, recordClientAddress: true }));
      app.get(/.*/, (req, res, next) => void dispatch(getSession(req), req.originalUrl).then(({ body }) => res.type('text/plain').send(body), next));
      const client = await serve(app);
      open.push(client);
      const key = sidOf(await client.get(`/login-as?owner=${user()}`, forwarded('198.51.100.1, 203.0.113.9')))!;
      expect((await listOf(client, key, 'Proxied/1'))[0]!.clientAddress, String(trust)).toBe(expected);
    }
  });

  it('node:http: the socket, unless trustProxy names the hops or the proxies; a forged entry is never believed', async () => {
    const cases: Array<[NodeSessionOptions['trustProxy'], string]> = [
      [undefined, '127.0.0.1'],
      [1, '203.0.113.9'],
      [2, '198.51.100.1'],
      [9, '10.9.9.9'],
      [['127.0.0.1'], '203.0.113.9'],
      [['127.0.0.1', '203.0.113.9'], '198.51.100.1'],
    ];
    for (const [trustProxy, expected] of cases) {
      const backend = new MemoryBackend();
      const client = await serve(
        nodeSession<TestData>(backend, { owners: true, recordClientAddress: true, ...(trustProxy === undefined ? {} : { trustProxy }) }, async (req, res, session) => {
          res.end((await dispatch(session, req.url ?? '/')).body);
        }),
      );
      open.push(client);
      const key = sidOf(await client.get(`/login-as?owner=${user()}`, forwarded('10.9.9.9, 198.51.100.1, 203.0.113.9')))!;
      expect((await listOf(client, key, 'Proxied/1'))[0]!.clientAddress, JSON.stringify(trustProxy)).toBe(expected);
    }
  });

  it("Hono: the application's clientAddress function, called only when the address is recorded", async () => {
    for (const recordClientAddress of [true, false]) {
      const seen: string[] = [];
      const app = new Hono<SessionEnv<TestData>>();
      app.use(honoSessions<TestData>(new MemoryBackend(), { owners: true, recordClientAddress, recordUserAgent: true, clientAddress: (c) => (seen.push(c.req.path), '192.0.2.44') }));
      app.get('/*', async (c) => c.text((await dispatch(c.var.session, c.req.path + new URL(c.req.url).search)).body));
      const login = await app.request(`/login-as?owner=${user()}`, { headers: ua('Hono/1') });
      const key = sidOf({ status: login.status, body: '', setCookies: login.headers.getSetCookie(), header: () => undefined })!;
      const listed = JSON.parse(await (await app.request('/own-sessions', { headers: { ...withKey(key), ...ua('Hono/1') } })).text()) as Listed[];
      expect(listed[0]!.clientAddress, String(recordClientAddress)).toBe(recordClientAddress ? '192.0.2.44' : undefined);
      expect(listed[0]!.userAgent).toBe('Hono/1');
      expect(seen).toEqual(recordClientAddress ? ['/login-as', '/own-sessions'] : []);
    }
  });

  it('bad options are TypeErrors at setup: an address where none is seen, a trustProxy that is no hop count or address list, a non-boolean switch', () => {
    const backend = new MemoryBackend();
    const handler = () => new Response('');
    expect(() => honoSessions(backend, { recordClientAddress: true })).toThrow(/recordClientAddress on Hono needs the clientAddress option/);
    expect(() => honoSessions(backend, { clientAddress: 'x' as never })).toThrow(/clientAddress must be a function/);
    expect(() => fetchSession(backend, { recordClientAddress: true }, handler)).toThrow(/recordClientAddress.*fetch/);
    for (const trustProxy of [-1, 1.5, ['not an address'], 'loopback'] as unknown[]) {
      expect(() => nodeSession<TestData>(backend, { trustProxy: trustProxy as number }, () => undefined), JSON.stringify(trustProxy)).toThrow(/trustProxy/);
    }
    expect(() => expressSessions(backend, { recordUserAgent: 'yes' as unknown as boolean })).toThrow(/recordUserAgent must be a boolean/);
    expect(() => honoSessions(backend, { recordUserAgent: true })).not.toThrow();
  });
});
