import express, { type NextFunction, type Request, type Response } from 'express';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { sessionMiddleware } from '../../../src/adapters/express/index.js';
import type { Backend } from '../../../src/core/contract.js';
import { EXPRESS_VERSIONS } from './express-app.js';

interface User {
  id: string;
  username: string;
}
const USERS: Record<string, { password: string; user: User }> = { ada: { password: 'lovelace', user: { id: '1', username: 'ada' } } };

/**
 * A login/logout app written as Passport 0.7's documentation shows it, with
 * sessionMiddleware(backend) where express-session would be.
 */
export function passportApp(backend: Backend, expressModule: typeof express = express) {
  const auth = new passport.Passport();
  auth.use(
    new LocalStrategy((username, password, done) => {
      const entry = USERS[username];
      if (entry === undefined || entry.password !== password) return done(null, false, { message: 'Incorrect username or password.' });
      return done(null, entry.user);
    }),
  );
  auth.serializeUser((user, done) => process.nextTick(() => done(null, { id: (user as User).id, username: (user as User).username })));
  auth.deserializeUser((user: User, done) => process.nextTick(() => done(null, user)));

  const app = expressModule();
  app.use(expressModule.urlencoded({ extended: false }));
  app.use(sessionMiddleware(backend));
  app.use(auth.authenticate('session'));
  app.get('/visit', (req, res) => {
    const session = req.session as unknown as { visits?: number };
    session.visits = (session.visits ?? 0) + 1;
    res.json({ visits: session.visits });
  });
  app.post('/login', auth.authenticate('local', { failureMessage: false }), (_req, res) => res.send('welcome'));
  app.post('/login-keep', auth.authenticate('local', { keepSessionInfo: true }), (_req, res) => res.send('welcome'));
  app.post('/remember', (req, res) => {
    req.session.cookie.maxAge = 30 * 24 * 3600 * 1000;
    res.send('remembered');
  });
  app.get('/me', (req, res) => {
    const session = req.session as unknown as { visits?: number };
    res.json({ authenticated: req.isAuthenticated(), user: req.user ?? null, visits: session.visits ?? null });
  });
  app.post('/logout', (req: Request, res: Response, next: NextFunction) => {
    req.logout((error) => (error ? next(error) : res.redirect('/me')));
  });
  return app;
}

/** The `sid` cookie of a reply (`undefined` when none was set; `''` when it was cleared). */
export function sidOf(reply: request.Response): string | undefined {
  const cookies = ([] as string[]).concat(reply.headers['set-cookie'] ?? []);
  const sid = cookies.find((cookie) => cookie.startsWith('sid='));
  return sid === undefined ? undefined : decodeURIComponent(sid.slice(4, sid.indexOf(';') < 0 ? undefined : sid.indexOf(';')));
}

/** Passport 0.7 login, later requests, logout and remember-me on `backend()`, on Express 5 and Express 4. */
export function describePassport(name: string, makeBackend: () => Promise<Backend>): void {
  for (const { name: expressName, express: expressModule } of EXPRESS_VERSIONS) describePassportOn(`${name}, ${expressName}`, makeBackend, expressModule);
}

function describePassportOn(name: string, makeBackend: () => Promise<Backend>, expressModule: typeof express): void {
  const makeApp = (backend: Backend) => passportApp(backend, expressModule);
  describe(`Passport 0.7 on ${name}`, () => {
    const login = (app: express.Express, cookie?: string, path = '/login') => {
      const call = request(app).post(path).type('form').send({ username: 'ada', password: 'lovelace' });
      return cookie === undefined ? call : call.set('Cookie', `sid=${cookie}`);
    };
    const me = async (app: express.Express, cookie: string) => (await request(app).get('/me').set('Cookie', `sid=${cookie}`)).body as { authenticated: boolean; user: User | null; visits: number | null };

    it('a wrong password is a 401 that stores nothing and sets no cookie', async () => {
      const app = makeApp(await makeBackend());
      const reply = await request(app).post('/login').type('form').send({ username: 'ada', password: 'nope' });
      expect(reply.status).toBe(401);
      expect(sidOf(reply)).toBeUndefined();
    });

    it('login gives a new key that carries req.user; the key before login stops working and its data is gone', async () => {
      const backend = await makeBackend();
      const app = makeApp(backend);
      const before = sidOf(await request(app).get('/visit'))!;
      expect(before).toMatch(/^[A-Za-z0-9_-]{40}$/);
      const reply = await login(app, before);
      expect(reply.status).toBe(200);
      const after = sidOf(reply)!;
      expect(after).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(after).not.toBe(before);
      expect(await me(app, after)).toEqual({ authenticated: true, user: { id: '1', username: 'ada' }, visits: null });
      expect(await me(app, after)).toMatchObject({ authenticated: true });
      expect(await me(app, before)).toEqual({ authenticated: false, user: null, visits: null });
      expect((await backend.get(before)).ok).toBe(false);
    });

    it('login without a session first works too', async () => {
      const app = makeApp(await makeBackend());
      const key = sidOf(await login(app))!;
      expect(await me(app, key)).toMatchObject({ authenticated: true, user: { username: 'ada' } });
    });

    it('keepSessionInfo: true carries the data of the session before login to the new key', async () => {
      const app = makeApp(await makeBackend());
      const before = sidOf(await request(app).get('/visit'))!;
      const after = sidOf(await login(app, before, '/login-keep'))!;
      expect(after).not.toBe(before);
      expect(await me(app, after)).toEqual({ authenticated: true, user: { id: '1', username: 'ada' }, visits: 1 });
      expect(await me(app, before)).toMatchObject({ authenticated: false, visits: null });
    });

    it('logout: the key before logout stops working, and nothing of the session survives under the new one', async () => {
      const backend = await makeBackend();
      const app = makeApp(backend);
      const loggedIn = sidOf(await login(app))!;
      const reply = await request(app).post('/logout').set('Cookie', `sid=${loggedIn}`);
      expect(reply.status).toBe(302);
      expect(await me(app, loggedIn)).toEqual({ authenticated: false, user: null, visits: null });
      expect((await backend.get(loggedIn)).ok).toBe(false);
      const next = sidOf(reply);
      expect(next).not.toBe(loggedIn);
      if (next !== undefined && next !== '') expect(await me(app, next)).toEqual({ authenticated: false, user: null, visits: null });
    });

    it('remember me: req.session.cookie.maxAge sets the cookie Max-Age and the stored expiry, kept on later writes', async () => {
      const backend = await makeBackend();
      const app = makeApp(backend);
      const key = sidOf(await login(app))!;
      const reply = await request(app).post('/remember').set('Cookie', `sid=${key}`);
      expect(([] as string[]).concat(reply.headers['set-cookie'] ?? []).join()).toContain('Max-Age=2592000');
      const stored = await backend.get(key);
      expect(stored.ok && stored.period).toBeGreaterThan(2592000 - 60);
      await request(app).get('/visit').set('Cookie', `sid=${key}`);
      const later = await backend.get(key);
      expect(later.ok && later.period).toBeGreaterThan(2592000 - 60);
      expect(await me(app, key)).toMatchObject({ authenticated: true, visits: 1 });
    });
  });
}
