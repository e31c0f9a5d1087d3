import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { getSession, RESERVED_SESSION_NAMES, sessionMiddleware, sessionView, type ExpressSessionOptions } from '../../src/adapters/express/index.js';
import { MemoryBackend } from '../../src/backends/memory/index.js';
import { digestKey } from '../../src/core/keys.js';
import { sidOf } from './support/passport-suite.js';

type Handler = (req: express.Request, res: express.Response) => unknown;

/** An app whose one route runs `handler`, then answers with JSON of req.session. */
function app(backend: MemoryBackend, handler: Handler, options: ExpressSessionOptions = {}) {
  const created = express();
  created.set('trust proxy', true);
  created.use(sessionMiddleware(backend, options));
  created.all('/', async (req, res, next) => {
    try {
      const answer = await handler(req, res);
      if (!res.headersSent) res.json(answer ?? JSON.parse(JSON.stringify(req.session)));
    } catch (error) {
      next(error);
    }
  });
  return created;
}
const view = (req: express.Request) => sessionView(req) as Record<string, any>;
const withKey = (key: string) => ({ Cookie: `sid=${key}` });

describe('req.session: express-session style over the typed session', () => {
  it('property set, get, delete, in, Object.keys and JSON.stringify, seen by getSession on the same session', async () => {
    const backend = new MemoryBackend();
    const first = app(backend, (req) => {
      const session = view(req);
      session.user = 'ada';
      session.cart = { items: [1] };
      session.views = 1;
      return { user: session.user, typed: getSession(req).get('user'), has: 'user' in session, missing: 'nope' in session };
    });
    const reply = await request(first).get('/');
    expect(reply.body).toEqual({ user: 'ada', typed: 'ada', has: true, missing: false });
    const key = sidOf(reply)!;
    const second = app(backend, (req) => {
      const session = view(req);
      delete session.views;
      return { keys: Object.keys(session), json: JSON.parse(JSON.stringify(session)), views: session.views, typedViews: getSession(req).has('views') };
    });
    const answer = (await request(second).get('/').set(withKey(key))).body;
    expect(answer.keys).toEqual(['cookie', 'user', 'cart']);
    expect(answer.json).toMatchObject({ user: 'ada', cart: { items: [1] }, cookie: { path: '/', httpOnly: true } });
    expect(answer.views).toBeUndefined();
    expect(answer.typedViews).toBe(false);
    const stored = await backend.get(key);
    expect(stored.ok && JSON.parse(stored.value).data).toEqual({ user: 'ada', cart: { items: [1] } });
  });

  it('in-place mutations of objects read or assigned are saved; the typed API writing the field later wins', async () => {
    const backend = new MemoryBackend();
    const key = sidOf(await request(app(backend, (req) => void (view(req).cart = { items: [] }))).get('/'))!;
    await request(
      app(backend, (req) => {
        const session = view(req);
        session.cart.items.push('tea');
        const assigned = { n: 1 };
        session.box = assigned;
        assigned.n = 2;
        session.typed = { a: 1 };
        getSession(req).set('typed', { a: 'typed' });
        session.typed; // a fresh read after the typed write
      }),
    )
      .get('/')
      .set(withKey(key));
    const stored = await backend.get(key);
    expect(stored.ok && JSON.parse(stored.value).data).toEqual({ cart: { items: ['tea'] }, box: { n: 2 }, typed: { a: 'typed' } });
  });

  it('parallel requests writing different properties keep both', async () => {
    const backend = new MemoryBackend();
    const key = sidOf(await request(app(backend, (req) => void (view(req).start = 0))).get('/'))!;
    const writer = app(backend, async (req) => {
      const field = String(req.query.f);
      await new Promise((resolve) => setTimeout(resolve, 20));
      view(req)[field] = true;
    });
    await Promise.all(['a', 'b', 'c', 'd'].map((f) => request(writer).get(`/?f=${f}`).set(withKey(key))));
    const stored = await backend.get(key);
    expect(stored.ok && JSON.parse(stored.value).data).toEqual({ start: 0, a: true, b: true, c: true, d: true });
  });

  it('reserved names are members, not fields: assigning or deleting one is a TypeError; the typed API still reaches such a field', async () => {
    expect([...RESERVED_SESSION_NAMES].sort()).toEqual(['cookie', 'destroy', 'id', 'regenerate', 'reload', 'resetMaxAge', 'save', 'toJSON', 'touch']);
    const backend = new MemoryBackend();
    const reply = await request(
      app(backend, (req) => {
        const session = view(req);
        const errors: string[] = [];
        for (const name of ['save', 'id', 'regenerate']) {
          try {
            session[name] = 1;
          } catch (error) {
            errors.push((error as Error).constructor.name);
          }
        }
        try {
          delete session.destroy;
        } catch (error) {
          errors.push((error as Error).constructor.name);
        }
        getSession(req).set('save', 'field');
        return { errors, save: typeof session.save, field: getSession(req).get('save') };
      }),
    ).get('/');
    expect(reply.body).toEqual({ errors: ['TypeError', 'TypeError', 'TypeError', 'TypeError'], save: 'function', field: 'field' });
  });

  it('req.sessionID and req.session.id are the key digest, never the cookie; undefined before the first save', async () => {
    const backend = new MemoryBackend();
    const first = await request(app(backend, (req) => ({ before: req.sessionID ?? null, set: (view(req).x = 1) }))).get('/');
    expect(first.body.before).toBeNull();
    const key = sidOf(first)!;
    const second = await request(app(backend, (req) => ({ sessionID: req.sessionID, id: view(req).id }))).get('/').set(withKey(key));
    expect(second.body).toEqual({ sessionID: digestKey(key), id: digestKey(key) });
    expect(second.body.id).not.toBe(key);
  });

  it('save(cb) writes now (a parallel request sees it before this response ends); without a callback it is a promise', async () => {
    const backend = new MemoryBackend();
    const key = sidOf(await request(app(backend, (req) => void (view(req).n = 0))).get('/'))!;
    let seenDuring: unknown;
    await request(
      app(backend, async (req) => {
        const session = view(req);
        session.n = 1;
        await new Promise<void>((resolve, reject) => session.save((error?: unknown) => (error ? reject(error) : resolve())));
        const stored = await backend.get(key);
        seenDuring = stored.ok && JSON.parse(stored.value).data.n;
        session.n = 2;
        await session.save();
      }),
    )
      .get('/')
      .set(withKey(key));
    expect(seenDuring).toBe(1);
    const stored = await backend.get(key);
    expect(stored.ok && JSON.parse(stored.value).data.n).toBe(2);
  });

  it('destroy(cb) removes the session and expires the cookie; reload(cb) drops unsaved changes', async () => {
    const backend = new MemoryBackend();
    const key = sidOf(await request(app(backend, (req) => void (view(req).n = 1))).get('/'))!;
    const reloaded = await request(
      app(backend, async (req) => {
        const session = view(req);
        session.n = 5;
        await new Promise<void>((resolve) => session.reload(() => resolve()));
        return { n: session.n };
      }),
    )
      .get('/')
      .set(withKey(key));
    expect(reloaded.body).toEqual({ n: 1 });
    const destroyed = await request(app(backend, (req) => new Promise((resolve) => view(req).destroy(() => resolve({ done: true })))))
      .get('/')
      .set(withKey(key));
    expect(destroyed.body).toEqual({ done: true });
    expect(sidOf(destroyed)).toBe('');
    expect((await backend.get(key)).ok).toBe(false);
  });

  it('cookie: maxAge, expires and originalMaxAge follow the period; setting maxAge gives this session its own period', async () => {
    const backend = new MemoryBackend();
    const reply = await request(
      app(
        backend,
        (req) => {
          const { cookie } = view(req);
          const before = { maxAge: cookie.maxAge, originalMaxAge: cookie.originalMaxAge };
          cookie.maxAge = 7200 * 1000;
          return { before, after: { originalMaxAge: cookie.originalMaxAge }, expires: cookie.expires instanceof Date };
        },
        { cookie: { maxAge: 3600 * 1000 } },
      ),
    ).get('/');
    expect(reply.body).toEqual({ before: { maxAge: 3600_000, originalMaxAge: 3600_000 }, after: { originalMaxAge: 7200_000 }, expires: true });
    expect(String(reply.headers['set-cookie'])).toContain('Max-Age=7200');
    const stored = await backend.get(sidOf(reply)!);
    expect(stored.ok && stored.period).toBeGreaterThan(7100);
    const bad = await request(app(backend, (req) => void (view(req).cookie.maxAge = -1))).get('/');
    expect(bad.status).toBe(500);
  });

  it("cookie.secure: 'auto' sets Secure only on HTTPS requests as Express sees them (trust proxy)", async () => {
    const backend = new MemoryBackend();
    const auto = app(backend, (req) => void (view(req).x = 1), { cookie: { secure: 'auto' } });
    const plain = await request(auto).get('/');
    expect(String(plain.headers['set-cookie'])).not.toMatch(/Secure/);
    const proxied = await request(auto).get('/').set('X-Forwarded-Proto', 'https');
    expect(String(proxied.headers['set-cookie'])).toMatch(/; Secure/);
  });

  it('name and rolling mean what they mean in express-session', async () => {
    const backend = new MemoryBackend();
    const named = await request(app(backend, (req) => void (view(req).x = 1), { name: 'app.sid', rolling: true })).get('/');
    const cookie = String(named.headers['set-cookie']);
    expect(cookie).toMatch(/^app\.sid=/);
    const key = cookie.slice('app.sid='.length, cookie.indexOf(';'));
    const touched = await request(app(backend, () => ({}), { name: 'app.sid', rolling: true })).get('/').set('Cookie', `app.sid=${key}`);
    expect(String(touched.headers['set-cookie'])).toMatch(/^app\.sid=/);
  });
});

describe('express-session options at setup', () => {
  const backend = new MemoryBackend();
  const setup = (options: Record<string, unknown>) => () => sessionMiddleware(backend, options as ExpressSessionOptions);

  it('unsupported ones are a TypeError naming what to use instead', () => {
    expect(setup({ secret: 'keyboard cat' })).toThrow(/240-bit random key.*fromExpressSession: \{ secret \}/);
    expect(setup({ genid: () => 'x' })).toThrow(TypeError);
    expect(setup({ store: {} })).toThrow(/first argument/);
    expect(setup({ proxy: true })).toThrow(/trust proxy/);
    expect(setup({ saveUninitialized: true })).toThrow(/first write/);
    expect(setup({ resave: true })).toThrow(/compare-and-set/);
    expect(setup({ unset: 'destroy' })).toThrow(/destroy\(\)/);
    expect(setup({ cookie: { expires: new Date() } })).toThrow(/maxAge/);
    expect(setup({ cookie: { maxAge: 1000 }, idleTimeoutSeconds: 5 })).toThrow(/not both/);
    expect(setup({ rolling: true, touchAfterSeconds: 5 })).toThrow(TypeError);
    expect(setup({ name: '__Host-sid', cookie: { secure: 'auto' } })).toThrow(/auto/);
  });

  it('an unknown option is a TypeError, never ignored', () => {
    expect(setup({ cookeiName: 'x' })).toThrow(/unknown session option "cookeiName"/);
  });

  it('the supported ones are accepted', () => {
    expect(setup({ name: 'x', rolling: false, saveUninitialized: false, resave: false, unset: 'keep', cookie: { maxAge: 60_000, secure: 'auto', sameSite: true } })).not.toThrow();
  });
});

describe('req.session as a plain object, synced at save(), getSession(req) and the commit', () => {
  it('sessionView<Data> types the fields: a misspelt one does not compile', async () => {
    const backend = new MemoryBackend();
    const reply = await request(
      app(backend, (req) => {
        const typed = sessionView<{ count: number }>(req);
        typed.count = 1;
        // @ts-expect-error `cuont` is not a field of { count: number }
        typed.cuont = 2;
        return { count: typed.count };
      }),
    ).get('/');
    expect(reply.body).toEqual({ count: 1 });
  });

  it('it is a plain object: spread, Object.entries and structuredClone see the fields, and a late write in a timer is dropped without a throw', async () => {
    const backend = new MemoryBackend();
    let late!: Promise<unknown>;
    const reply = await request(
      app(backend, (req, res) => {
        const session = view(req);
        session.cart = { items: ['tea'] };
        const seen = { spread: { ...session, cookie: undefined }, entries: Object.entries(session).map(([name]) => name) };
        res.json(seen);
        late = new Promise((resolve) =>
          setTimeout(() => {
            session.late = 1;
            resolve(undefined);
          }, 20),
        );
      }),
    ).get('/');
    await late;
    expect(reply.body).toEqual({ spread: { cart: { items: ['tea'] } }, entries: ['cookie', 'cart'] });
    const stored = await backend.get(sidOf(reply)!);
    expect(stored.ok && JSON.parse(stored.value).data).toEqual({ cart: { items: ['tea'] } });
  });

  it('getSession(req) sees what req.session changed so far; a field req.session left alone keeps a later typed write', async () => {
    const backend = new MemoryBackend();
    const reply = await request(
      app(backend, (req) => {
        const session = view(req);
        session.a = { n: 1 };
        (session.a as { n: number }).n = 2;
        const typed = getSession(req);
        const seen = typed.get('a');
        typed.set('a', { n: 'typed' });
        return { seen };
      }),
    ).get('/');
    expect(reply.body).toEqual({ seen: { n: 2 } });
    const stored = await backend.get(sidOf(reply)!);
    expect(stored.ok && JSON.parse(stored.value).data).toEqual({ a: { n: 'typed' } });
  });
});

describe('req.session after the save', () => {
  it('an assignment or delete through req.session read in a timer after the response is dropped with a write-dropped event, never thrown', async () => {
    const backend = new MemoryBackend();
    const events: Array<{ type: string; operation?: string }> = [];
    let late!: Promise<void>;
    const reply = await request(
      app(
        backend,
        (req, res) => {
          view(req).cart = ['tea'];
          res.json({ ok: true });
          late = new Promise((resolve) =>
            setTimeout(() => {
              const session = view(req);
              session.late = 1;
              delete session.cart;
              resolve();
            }, 20),
          );
        },
        { onEvent: (event) => events.push(event) },
      ),
    ).get('/');
    await late;
    expect(events.filter((event) => event.type === 'write-dropped').map((event) => event.operation)).toEqual(['set', 'unset']);
    const stored = await backend.get(sidOf(reply)!);
    expect(stored.ok && JSON.parse(stored.value).data).toEqual({ cart: ['tea'] });
  });
});
