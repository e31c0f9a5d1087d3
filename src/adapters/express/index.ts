/**
 * `sessionkit/express`: typed sessions for Express 5.
 *
 * ```ts
 * app.use(sessionMiddleware(backend, { cookieName: '__Host-sid', cookie: { secure: true } }));
 * app.get('/counter', async (req, res) => {
 *   const { count } = await getSession<{ count: number }>(req).update((d) => ({ ...d, count: (d.count ?? 0) + 1 }));
 *   res.send(String(count));
 * });
 * ```
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Backend } from '../../core/contract.js';
import { crossOriginGuard, CSRF_REFUSAL_CONTENT_TYPE, type CsrfProtectionOption } from '../../csrf/cross-origin-guard.js';
import { SessionEngine } from '../../http/engine.js';
import type { SessionOptions } from '../../http/session-options.js';
import type { Session } from '../../http/typed-session.js';
import { commitBeforeHead } from '../node-response/commit-before-head.js';

export type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionOptions, SessionStatus } from '../../http/index.js';
export { SessionConflictError, SessionDataTooLargeError } from '../../http/index.js';

/** Options of {@link sessionMiddleware}: the typed-session options and `csrf`, nothing Express-specific. */
export type ExpressSessionOptions = SessionOptions & CsrfProtectionOption;

const sessions = new WeakMap<Request, Session<object>>();

/**
 * Express 5 middleware that gives each request a typed session, read with
 * {@link getSession} (and also at `req.session` at run time, untyped).
 *
 * The session is read before the next handler runs and saved before the
 * response head is written: the middleware holds the first `res.writeHead`,
 * `res.write`, `res.end` or `res.flushHeaders` until the save settles. If the
 * save fails, the held response is dropped and the error goes to `next(err)`,
 * so the application's error handlers (or Express's default 500) answer with
 * the head still unwritten and no `Set-Cookie`. A store failure while reading
 * goes to `next(err)` too. A cross-origin browser request with an unsafe
 * method is answered 403 before any session is loaded, unless the `csrf`
 * option says otherwise.
 *
 * Throws a `TypeError` at once for a backend without `compareAndSet` (or,
 * with `owners: true`, without sessions by owner) or an invalid option.
 */
export function sessionMiddleware<Data extends object = Record<string, unknown>>(backend: Backend, options: ExpressSessionOptions = {}): RequestHandler {
  const engine = new SessionEngine<Data>(backend, options);
  const guard = crossOriginGuard(options.csrf);
  return async function sessionkit(req: Request, res: Response, next: NextFunction): Promise<void> {
    const verdict = guard(req.method, req.headers);
    if (!verdict.allowed) return void res.status(verdict.status).type(CSRF_REFUSAL_CONTENT_TYPE).send(verdict.body);
    // Mounted twice (app and router): the first one owns the session.
    if (sessions.has(req)) return next();
    let context;
    try {
      context = await engine.load(req.headers.cookie);
    } catch (error) {
      return next(error);
    }
    sessions.set(req, context.session as Session<object>);
    // Untyped on purpose: a global `Request.session` type would clash with @types/express-session.
    Reflect.set(req, 'session', context.session);
    commitBeforeHead(res, context.commit, (error) => next(error));
    next();
  };
}

/**
 * The typed session of `req`. Throws when {@link sessionMiddleware} did not
 * run for this request (it is not mounted, or mounted after this route).
 */
export function getSession<Data extends object = Record<string, unknown>>(req: Request): Session<Data> {
  const session = sessions.get(req);
  if (session === undefined) throw new Error('no session on this request: app.use(sessionMiddleware(backend)) before the routes');
  return session as Session<Data>;
}
