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
