import connectPgSimple from 'connect-pg-simple';
import { RedisStore } from 'connect-redis';
import type express from 'express';
import session from 'express-session';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { createClient } from 'redis';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionkitStore } from '../../src/adapters/express-session/index.js';
import { sessionMiddleware, type ExpressSessionOptions } from '../../src/adapters/express/index.js';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import type { CliIo } from '../../src/cli/command.js';
import { run } from '../../src/cli/run.js';
import type { Backend } from '../../src/core/contract.js';
import { EXPRESS_VERSIONS } from '../adapters/support/express-app.js';
import { InstrumentedBackend } from '../http/support/instrumented-backend.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { REDIS_URL, redisSkipReason, testClient, useTestRedis } from '../support/redis-env.js';

const SECRET = 'keyboard cat';
const OLD_SECRET = 'the secret before the rotation';
interface User {
  id: string;
  username: string;
}

/** Runs `sessionkit ...argv` in this process. */
async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, stdin: (async function* () {})(), env: {} };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/**
 * The same shop at each step of the migration, as the app's author writes
 * it: Passport 0.7 login, a cart mutated in place, remember-me; only the
 * session middleware changes.
 */
function shop(expressModule: typeof express, sessions: express.RequestHandler) {
  const auth = new passport.Passport();
  auth.use(new LocalStrategy((username, password, done) => (username === 'ada' && password === 'lovelace' ? done(null, { id: '1', username: 'ada' }) : done(null, false))));
  auth.serializeUser((user, done) => process.nextTick(() => done(null, user)));
  auth.deserializeUser((user: User, done) => process.nextTick(() => done(null, user)));
  const app = expressModule();
  app.use(expressModule.urlencoded({ extended: false }));
  app.use(sessions);
  app.use(auth.authenticate('session'));
  app.post('/login', auth.authenticate('local', { failureRedirect: '/login' }), (_req, res) => res.send('welcome'));
  // express-session saves a cookie change only with a data change (else connect-pg-simple's touch keeps the old cookie JSON).
  app.post('/remember', (req, res) => {
    req.session.cookie.maxAge = 30 * 24 * 3600 * 1000;
    (req.session as unknown as { remembered?: boolean }).remembered = true;
    res.send('remembered');
  });
  const requireLogin: express.RequestHandler = (req, res, next) => (req.isAuthenticated() ? next() : res.redirect('/login'));
  app.post('/cart', requireLogin, (req, res) => {
    const data = req.session as unknown as { cart?: string[] };
    data.cart ??= [];
    data.cart.push(String(req.query.item));
    res.json(data.cart);
  });
  app.get('/account', requireLogin, (req, res) => {
    res.json({ user: req.user, cart: (req.session as unknown as { cart?: string[] }).cart ?? [] });
  });
  return app;
}

const setCookies = (reply: request.Response) => ([] as string[]).concat(reply.headers['set-cookie'] ?? []);
const cookieNamed = (reply: request.Response, name: string) => setCookies(reply).find((c) => c.startsWith(`${name}=`))?.split(';')[0];

/**
 * The four steps on one store: logged in under express-session over `source`,
 * `importArgs` run, road 1 (express-session over SessionkitStore(backend)),
 * road 2 (sessionkit/express with fromExpressSession). At every step the same
 * user is logged in with the same cart, without logging in again.
 */
async function fourSteps(expressModule: typeof express, source: session.Store, importArgs: string[], backend: Backend): Promise<void> {
  // Step 1: the app as it is, express-session over the old store, secret rotated once.
  const legacy = shop(expressModule, session({ store: source, secret: [SECRET, OLD_SECRET], resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }));
  const login = await request(legacy).post('/login').type('form').send({ username: 'ada', password: 'lovelace' });
  expect(login.text).toBe('welcome');
  const cookie = cookieNamed(login, 'connect.sid')!;
  expect(cookie).toMatch(/^connect\.sid=s%3A/);
  await request(legacy).post('/cart?item=apple').set('Cookie', cookie).expect(200, ['apple']);
  await request(legacy).post('/remember').set('Cookie', cookie).expect(200);
  expect((await request(legacy).get('/account').set('Cookie', cookie)).body).toEqual({ user: { id: '1', username: 'ada' }, cart: ['apple'] });

  // Step 2: sessionkit import into the sessionkit store.
  const imported = await cli([...importArgs, '--json']);
  expect(imported.stderr).toBe('');
  expect(imported.code).toBe(0);
  expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 1 });

  // Step 3: road 1, express-session over SessionkitStore: the same cookie, no login.
  const road1 = shop(expressModule, session({ store: new SessionkitStore(backend), secret: [SECRET, OLD_SECRET], resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }));
  expect((await request(road1).get('/account').set('Cookie', cookie)).body).toEqual({ user: { id: '1', username: 'ada' }, cart: ['apple'] });
  await request(road1).post('/cart?item=pear').set('Cookie', cookie).expect(200, ['apple', 'pear']);

  // Step 4: road 2, sessionkit/express with express-session's secrets given for the move.
  const road2 = shop(expressModule, sessionMiddleware(backend, { fromExpressSession: { secret: [SECRET, OLD_SECRET] } }));
  const moved = await request(road2).get('/account').set('Cookie', cookie);
  expect(moved.status).toBe(200);
  expect(moved.body).toEqual({ user: { id: '1', username: 'ada' }, cart: ['apple', 'pear'] });
  const sid = cookieNamed(moved, 'sid')!;
  expect(sid).toMatch(/^sid=[A-Za-z0-9_-]{40}$/);
  // Remember-me was a 30-day cookie: the moved session keeps it as its own period.
  expect(setCookies(moved).find((c) => c.startsWith('sid='))).toContain('Max-Age=2592000');
  expect(setCookies(moved).find((c) => c.startsWith('connect.sid='))).toMatch(/^connect\.sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly$/);
  // Old key removed: the old cookie alone no longer opens anything, on either road.
  expect((await request(road1).get('/account').set('Cookie', cookie)).status).toBe(302);
  const alone = await request(road2).get('/account').set('Cookie', cookie);
  expect(alone.status).toBe(302);
  expect(cookieNamed(alone, 'sid')).toBeUndefined();
  // The browser now sends the new cookie (and possibly still the old one): logged in, cart kept and growing.
  await request(road2).post('/cart?item=plum').set('Cookie', `${sid}; ${cookie}`).expect(200, ['apple', 'pear', 'plum']);
  expect((await request(road2).get('/account').set('Cookie', sid)).body).toEqual({ user: { id: '1', username: 'ada' }, cart: ['apple', 'pear', 'plum'] });
}

describe.skipIf(postgresSkipReason !== undefined)(`express-session + connect-pg-simple → sessionkit import → road 1 → road 2, on PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const pool = testPool(4);
  const prefix = `sk_roads_${process.pid}_`;
  const table = () => uniqueTable('roads').replace(/^sk_roads_/, prefix);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  for (const { name, express: expressModule } of EXPRESS_VERSIONS) {
    it(`${name}: still logged in, cart kept, remember-me kept, no re-login at any step; the old key is gone after the move`, async () => {
      const sourceTable = table();
      // connect-pg-simple's own table, made here: its createTableIfMissing names the primary key "session_pkey" for every table, and index names are per schema.
      await pool.query(`CREATE TABLE "${sourceTable}" (sid varchar NOT NULL COLLATE "default", sess json NOT NULL, expire timestamp(6) NOT NULL, CONSTRAINT "${sourceTable}_pkey" PRIMARY KEY (sid))`);
      const PgStore = connectPgSimple(session);
      const destTable = table();
      const backend = new PostgresBackend(pool, { table: destTable });
      await backend.ensureSchema();
      await fourSteps(expressModule, new PgStore({ pool, tableName: sourceTable }), ['import', '--from', 'connect-pg-simple', '--from-table', sourceTable, '--database-url', DATABASE_URL, '--table', destTable], backend);
    });
  }
});

describe.skipIf(redisSkipReason !== undefined)(`express-session + connect-redis → sessionkit import → road 1 → road 2, on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  const prefix = (name: string) => redis.prefix(name);

  it('Express 5: still logged in, cart kept, remember-me kept, no re-login at any step; the old key is gone after the move', async () => {
    const sourcePrefix = prefix('roads-connect-redis');
    const nodeRedis = createClient({ url: REDIS_URL });
    await nodeRedis.connect();
    const client = testClient();
    try {
      const backend = new RedisBackend(client, { prefix: prefix('roads-dest') });
      await fourSteps(EXPRESS_VERSIONS[0].express, new RedisStore({ client: nodeRedis, prefix: sourcePrefix }), ['import', '--from', 'connect-redis', '--from-prefix', sourcePrefix, '--redis-url', REDIS_URL, '--prefix', backend.prefix], backend);
    } finally {
      await nodeRedis.quit();
      await client.quit();
    }
  });
});

describe('fromExpressSession: which cookies are taken over', () => {
  /** A session as road 1 stores it, under `sid`, in a memory backend; and its signed cookie under `secret`. */
  async function road1Session(secret: string, data: Record<string, unknown>, cookieOptions: session.CookieOptions = { maxAge: 3_600_000 }) {
    const { MemoryBackend } = await import('../../src/backends/memory/index.js');
    const backend = new MemoryBackend();
    const app = EXPRESS_VERSIONS[0].express();
    app.use(session({ store: new SessionkitStore(backend), secret, resave: false, saveUninitialized: false, cookie: cookieOptions }));
    app.get('/start', (req, res) => {
      Object.assign(req.session, data);
      res.send('ok');
    });
    const reply = await request(app).get('/start');
    return { backend, cookie: cookieNamed(reply, 'connect.sid')! };
  }
  function road2(backend: Backend, options: ExpressSessionOptions) {
    const app = EXPRESS_VERSIONS[0].express();
    app.use(sessionMiddleware(backend, options));
    app.get('/read', (req, res) => res.json({ user: (req.session as unknown as { user?: string }).user ?? null }));
    return app;
  }

  it('a cookie signed with another secret, a tampered signature or an unsigned id is ignored: no session, the old key kept', async () => {
    const { backend, cookie } = await road1Session(SECRET, { user: 'ada' });
    const value = decodeURIComponent(cookie.slice('connect.sid='.length));
    const sidValue = value.slice(2, value.lastIndexOf('.'));
    const tampered = `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
    for (const sent of [`connect.sid=${encodeURIComponent(tampered)}`, `connect.sid=${encodeURIComponent(sidValue)}`, `connect.sid=${encodeURIComponent(`s:${sidValue}`)}`, 'connect.sid=%E0%A4%A']) {
      const reply = await request(road2(backend, { fromExpressSession: { secret: SECRET } })).get('/read').set('Cookie', sent);
      expect(reply.body).toEqual({ user: null });
      expect(setCookies(reply).filter((c) => c.startsWith('sid='))).toEqual([]);
    }
    const wrongSecret = await request(road2(backend, { fromExpressSession: { secret: 'not it' } })).get('/read').set('Cookie', cookie);
    expect(wrongSecret.body).toEqual({ user: null });
    expect((await backend.get(sidValue)).ok).toBe(true);
  });

  it('without the option the old cookie is no session; with the same cookie name the new key replaces it', async () => {
    const { backend, cookie } = await road1Session(SECRET, { user: 'ada' });
    expect((await request(road2(backend, {})).get('/read').set('Cookie', cookie)).body).toEqual({ user: null });
    // A rotated secret: any of the listed secrets verifies, as in express-session.
    const { backend: other, cookie: otherCookie } = await road1Session(SECRET, { user: 'grace' });
    expect((await request(road2(other, { fromExpressSession: { secret: ['the new secret', SECRET] } })).get('/read').set('Cookie', otherCookie)).body).toEqual({ user: 'grace' });
    const sameName = await request(road2(backend, { name: 'connect.sid', fromExpressSession: { secret: SECRET } })).get('/read').set('Cookie', cookie);
    expect(sameName.body).toEqual({ user: 'ada' });
    const lines = setCookies(sameName);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^connect\.sid=[A-Za-z0-9_-]{40}; /);
  });

  it('with the header transport on, a header request is read by its header alone: the old cookie beside it is not taken over', async () => {
    const { backend, cookie } = await road1Session(SECRET, { user: 'ada' });
    const app = road2(backend, { transport: { header: true }, fromExpressSession: { secret: SECRET } });
    const header = await request(app).get('/read').set('Cookie', cookie).set('Authorization', 'Bearer');
    expect(header.body).toEqual({ user: null });
    expect(setCookies(header)).toEqual([]);
    expect(header.headers['set-auth-token']).toBeUndefined();
    // The same cookie alone is a cookie request, and moves as before.
    const moved = await request(app).get('/read').set('Cookie', cookie);
    expect(moved.body).toEqual({ user: 'ada' });
    expect(cookieNamed(moved, 'sid')).toMatch(/^sid=[A-Za-z0-9_-]{40}$/);
  });

  it('a save that fails (a store outage) moves nothing: a 503 without Set-Cookie, the old key kept, and the next request moves the session', async () => {
    const { backend, cookie } = await road1Session(SECRET, { user: 'ada' });
    const sidValue = decodeURIComponent(cookie.slice('connect.sid='.length)).slice(2).split('.')[0]!;
    const outage = new InstrumentedBackend(backend);
    const app = road2(outage, { fromExpressSession: { secret: SECRET } });
    outage.failing.add('generate');
    const failed = await request(app).get('/read').set('Cookie', cookie);
    expect(failed.status).toBe(503);
    expect(setCookies(failed)).toEqual([]);
    expect((await backend.get(sidValue)).ok).toBe(true);
    outage.failing.clear();
    const moved = await request(app).get('/read').set('Cookie', cookie);
    expect(moved.body).toEqual({ user: 'ada' });
    expect(cookieNamed(moved, 'sid')).toMatch(/^sid=[A-Za-z0-9_-]{40}$/);
    expect((await backend.get(sidValue)).ok).toBe(false);
  });

  it('an expired express-session session (cookie.expires passed) is not taken over', async () => {
    const { backend, cookie } = await road1Session(SECRET, { user: 'ada' }, { maxAge: 30 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await request(road2(backend, { fromExpressSession: { secret: SECRET } })).get('/read').set('Cookie', cookie)).body).toEqual({ user: null });
  });

  it('a bad fromExpressSession option is a TypeError at setup; secret alone still names the option', async () => {
    const { MemoryBackend } = await import('../../src/backends/memory/index.js');
    const backend = new MemoryBackend();
    expect(() => sessionMiddleware(backend, { fromExpressSession: { secret: '' } })).toThrow(TypeError);
    expect(() => sessionMiddleware(backend, { transport: { cookie: false, header: true }, fromExpressSession: { secret: SECRET } })).toThrow(/transport\.cookie false/);
    expect(() => sessionMiddleware(backend, { fromExpressSession: { secret: [] } })).toThrow(TypeError);
    expect(() => sessionMiddleware(backend, { fromExpressSession: { secret: 'x', nmae: 'a' } as never })).toThrow(/unknown fromExpressSession option "nmae"/);
    expect(() => sessionMiddleware(backend, { secret: 'x' } as never)).toThrow(/fromExpressSession/);
  });
});
