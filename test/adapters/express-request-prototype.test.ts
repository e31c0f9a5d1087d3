import express from 'express';
import expressSession from 'express-session';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { getSession, sessionMiddleware } from '../../src/adapters/express/index.js';
import { MemoryBackend } from '../../src/backends/memory/index.js';
import { digestKey } from '../../src/core/keys.js';
import { EXPRESS_VERSIONS } from './support/express-app.js';

/** The counter route: `req.session.count` incremented, its value and `req.sessionID` answered. */
const counter = (req: express.Request, res: express.Response) => {
  const view = req.session as unknown as { count?: number };
  view.count = (view.count ?? 0) + 1;
  res.json({ count: view.count, sessionID: req.sessionID ?? null });
};

const cookieOf = (setCookie: string | string[] | undefined): string => {
  const first = (Array.isArray(setCookie) ? setCookie : [setCookie ?? ''])[0] ?? '';
  return first.split(';')[0] ?? '';
};

// req.session and req.sessionID are accessors on the request prototype Express shares among its apps; these pin that every app sees its own.
describe('req.session on the request prototype', () => {
  for (const { name, express: expressOf } of EXPRESS_VERSIONS) {
    it(`${name}: a mounted sub-app and a router see the session; a second app in the process without sessionkit sees none`, async () => {
      const backend = new MemoryBackend();
      const outer = expressOf();
      const inner = expressOf();
      inner.get('/count', counter);
      const router = expressOf.Router();
      router.get('/count', counter);
      outer.use(sessionMiddleware(backend));
      outer.use('/sub', inner);
      outer.use('/router', router);
      outer.get('/count', counter);
      const plain = expressOf();
      plain.get('/', (req, res) => res.json({ session: (req as { session?: unknown }).session ?? null, has: (req as { sessionID?: unknown }).sessionID ?? null }));

      const first = await request(outer).get('/count');
      expect(first.body.count).toBe(1);
      const cookie = cookieOf(first.headers['set-cookie']);
      const second = await request(outer).get('/sub/count').set('Cookie', cookie);
      expect(second.body).toEqual({ count: 2, sessionID: digestKey(decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))) });
      expect((await request(outer).get('/router/count').set('Cookie', cookie)).body.count).toBe(3);
      expect((await request(outer).get('/count').set('Cookie', cookie)).body.count).toBe(4);
      expect((await request(plain).get('/').set('Cookie', cookie)).body).toEqual({ session: null, has: null });
    });
  }

  it('an app using express-session next to one using sessionkit, on the same Express: each keeps its own req.session', async () => {
    const backend = new MemoryBackend();
    const ours = express();
    ours.use(sessionMiddleware(backend));
    ours.get('/count', counter);
    const theirs = express();
    theirs.use(expressSession({ secret: 'a test secret', resave: false, saveUninitialized: false }));
    theirs.get('/count', counter);

    const ourFirst = await request(ours).get('/count');
    const theirFirst = await request(theirs).get('/count');
    expect(theirFirst.body.count).toBe(1);
    expect(typeof theirFirst.body.sessionID).toBe('string');
    const theirCookie = cookieOf(theirFirst.headers['set-cookie']);
    expect((await request(theirs).get('/count').set('Cookie', theirCookie)).body.count).toBe(2);
    expect((await request(ours).get('/count').set('Cookie', cookieOf(ourFirst.headers['set-cookie']))).body.count).toBe(2);
    expect((await request(theirs).get('/count').set('Cookie', theirCookie)).body.count).toBe(3);
  });

  it('the request gets no property of its own (its state rides with the response); one not linked to its response by req.res still finds its session', async () => {
    const backend = new MemoryBackend();
    const app = express();
    const ownKeys: string[][] = [];
    // Express itself needs req.res again after sessionkit's middleware (res.send reads it).
    app.use((req, _res, next) => {
      if (req.path === '/unlinked') delete (req as { res?: unknown }).res;
      next();
    });
    app.use(sessionMiddleware(backend));
    app.use((req, res, next) => {
      (req as { res?: unknown }).res = res;
      next();
    });
    app.get('/:route', (req, res) => {
      ownKeys.push(Reflect.ownKeys(req).filter((key) => typeof key === 'symbol').map(String));
      getSession<{ count: number }>(req).set('count', (getSession<{ count: number }>(req).get('count') ?? 0) + 1);
      res.json({ count: getSession<{ count: number }>(req).get('count'), viewCount: (req.session as unknown as { count?: number }).count, sessionID: req.sessionID });
    });

    const linked = await request(app).get('/linked');
    const cookie = cookieOf(linked.headers['set-cookie']);
    const unlinked = await request(app).get('/unlinked').set('Cookie', cookie);
    expect([linked.body.count, linked.body.viewCount, unlinked.body.count, unlinked.body.viewCount]).toEqual([1, 1, 2, 2]);
    expect(unlinked.body.sessionID).toBe(digestKey(decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))));
    expect(ownKeys[0]!.filter((key) => key.includes('sessionkit'))).toEqual([]);
    expect(ownKeys[1]!.filter((key) => key.includes('sessionkit'))).toEqual(['Symbol(sessionkit.express.request)']);
  });

  it('mounted twice (app and router), the first middleware owns the session: linked to its response by req.res or not', async () => {
    const backend = new MemoryBackend();
    const app = express();
    const router = express.Router();
    const seen: boolean[] = [];
    let firstSession: unknown;
    app.use((req, _res, next) => {
      if (req.path === '/unlinked') delete (req as { res?: unknown }).res;
      next();
    });
    app.use(sessionMiddleware(backend));
    app.use((req, _res, next) => {
      firstSession = getSession(req);
      next();
    });
    router.use(sessionMiddleware(backend));
    router.get('/:route', (req, res) => {
      seen.push(getSession(req) === firstSession);
      const session = getSession<{ count: number }>(req);
      session.set('count', (session.get('count') ?? 0) + 1);
      (req as { res?: unknown }).res = res;
      res.json({ count: session.get('count') });
    });
    app.use(router);

    const linked = await request(app).get('/linked');
    const cookie = cookieOf(linked.headers['set-cookie']);
    const unlinked = await request(app).get('/unlinked').set('Cookie', cookie);
    const again = await request(app).get('/linked').set('Cookie', cookie);
    expect([linked.body.count, unlinked.body.count, again.body.count]).toEqual([1, 2, 3]);
    expect(seen).toEqual([true, true, true]);
    // One commit per request: one Set-Cookie, for the one session.
    expect([linked, unlinked, again].map((response) => [response.headers['set-cookie']].flat().length)).toEqual([1, 1, 1]);
    expect([unlinked, again].map((response) => cookieOf(response.headers['set-cookie']))).toEqual([cookie, cookie]);
  });

  it('assigning req.session replaces what later reads see; the typed session stays; req.sessionID cannot be assigned', async () => {
    const backend = new MemoryBackend();
    const app = express();
    app.use(sessionMiddleware(backend));
    app.get('/', (req, res) => {
      getSession<{ kept: number }>(req).set('kept', 1);
      (req as { session: unknown }).session = { replaced: true };
      let assignError: unknown;
      try {
        (req as { sessionID: unknown }).sessionID = 'forged';
      } catch (error) {
        assignError = error;
      }
      res.json({ session: req.session, kept: getSession<{ kept: number }>(req).get('kept'), assignRefused: assignError instanceof TypeError });
    });
    const reply = await request(app).get('/');
    expect(reply.body).toEqual({ session: { replaced: true }, kept: 1, assignRefused: true });
  });
});

// The held response's wrappers live on express.response (what every app of that Express shares); a response that
// already carries its own wrapper from an earlier middleware is wrapped on itself, so that wrapper still runs.
describe('the held response on the response prototype', () => {
  for (const { name, express: expressOf } of EXPRESS_VERSIONS) {
    it(`${name}: wrappers of res.end an earlier and a later middleware install both run, after the save, and the session is saved`, async () => {
      const backend = new MemoryBackend();
      const app = expressOf();
      const calls: string[] = [];
      // As compression and on-headers do: a wrapper assigned on the response, calling the end it found.
      const wrapEnd = (label: string) => (_req: express.Request, res: express.Response, next: express.NextFunction) => {
        const end = res.end;
        res.end = function (this: express.Response, ...args: unknown[]) {
          calls.push(`${label}: cookie ${this.getHeader('set-cookie') === undefined ? 'not yet' : 'set'}`);
          return (end as (...a: unknown[]) => express.Response).apply(this, args);
        } as express.Response['end'];
        next();
      };
      app.use(wrapEnd('earlier'));
      app.use(sessionMiddleware(backend));
      app.use(wrapEnd('later'));
      app.get('/count', counter);

      const first = await request(app).get('/count');
      expect(first.body.count).toBe(1);
      // The later wrapper runs when the handler ends the response; the earlier one once the save released it, with its cookie.
      expect(calls).toEqual(['later: cookie not yet', 'earlier: cookie set']);
      const second = await request(app).get('/count').set('Cookie', cookieOf(first.headers['set-cookie']));
      expect(second.body.count).toBe(2);
    });

    it(`${name}: a response of an app without sessionkit, after sessionkit's wrappers were defined, is answered as without them`, async () => {
      const ours = expressOf();
      ours.use(sessionMiddleware(new MemoryBackend()));
      ours.get('/count', counter);
      expect((await request(ours).get('/count')).body.count).toBe(1);
      const plain = expressOf();
      plain.get('/', (_req, res) => {
        res.status(201).set('X-Plain', 'yes');
        const sentBefore = res.headersSent;
        res.write('a');
        res.end('b', () => undefined);
        expect([sentBefore, res.headersSent, res.writableEnded]).toEqual([false, true, true]);
      });
      const reply = await request(plain).get('/');
      expect([reply.status, reply.text, reply.headers['x-plain'], reply.headers['set-cookie']]).toEqual([201, 'ab', 'yes', undefined]);
    });
  }
});
