/**
 * `sessionkit/express`: sessions for Express 4 and 5, typed or express-session style.
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
import { crossOriginGuard, CSRF_REFUSAL_CONTENT_TYPE } from '../../csrf/cross-origin-guard.js';
import { SessionEngine } from '../../http/engine.js';
import type { Session } from '../../http/typed-session.js';
import { commitBeforeHead } from '../node-response/commit-before-head.js';
import { resolveLegacySessionMigration } from './legacy-session.js';
import { resolveExpressOptions, type ExpressSessionOptions } from './options.js';
import { createSessionView, flushViews, RESERVED_SESSION_NAMES, type ExpressSessionView } from './session-view.js';

export type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionOptions, SessionStatus } from '../../http/index.js';
export { SessionConflictError, SessionDataTooLargeError, SessionRegeneratedError } from '../../http/index.js';
export type { ExpressSessionMigrationOptions } from './legacy-session.js';
export type { ExpressCookieOptions, ExpressSessionOptions } from './options.js';
export { RESERVED_SESSION_NAMES, type ExpressSessionView, type SessionCallback, type SessionCookieView } from './session-view.js';

const sessions = new WeakMap<Request, Session<object>>();

/**
 * Express (4.17+ or 5) middleware that gives each request one session with two views:
 * typed, with {@link getSession}, and express-session style at
 * `req.session` (see {@link ExpressSessionView}; `req.sessionID` is
 * `req.session.id`, the key digest, never the cookie).
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
 * with `owners: true`, without sessions by owner), an invalid option, or an
 * express-session option that has no meaning here (the message names what
 * to use instead).
 */
export function sessionMiddleware<Data extends object = Record<string, unknown>>(backend: Backend, options: ExpressSessionOptions = {}): RequestHandler {
  const resolved = resolveExpressOptions(options);
  const engine = new SessionEngine<Data>(backend, resolved.session);
  const secureEngine = resolved.secureSession === undefined ? undefined : new SessionEngine<Data>(backend, resolved.secureSession);
  const guard = crossOriginGuard(options.csrf);
  const migration = resolveLegacySessionMigration(options.fromExpressSession, backend, engine.options.cookieName, RESERVED_SESSION_NAMES);
  return async function sessionkit(req: Request, res: Response, next: NextFunction): Promise<void> {
    const verdict = guard(req.method, req.headers);
    if (!verdict.allowed) return void res.status(verdict.status).type(CSRF_REFUSAL_CONTENT_TYPE).send(verdict.body);
    // Mounted twice (app and router): the first one owns the session.
    if (sessions.has(req)) return next();
    const chosen = secureEngine !== undefined && req.secure ? secureEngine : engine;
    const { options: engineOptions } = chosen;
    let context;
    let adopted;
    try {
      context = await chosen.load(req.headers.cookie);
      adopted = await migration?.adopt(req.headers.cookie, context.session as unknown as Session<Record<string, unknown>>, engineOptions.idleTimeoutSeconds ?? engineOptions.backend.defaultPeriod());
    } catch (error) {
      return next(error);
    }
    const session = context.session as unknown as Session<Record<string, unknown>>;
    sessions.set(req, session);
    // Made at the first read of req.session: a route that only uses getSession(req) pays nothing for it.
    let view: unknown;
    const createView = () =>
      createSessionView({
        session,
        cookie: engineOptions.cookie,
        periodSeconds: () => engineOptions.idleTimeoutSeconds ?? engineOptions.backend.defaultPeriod(),
        nowMs: engineOptions.nowMs,
        replace: (next) => {
          view = next;
        },
      });
    // Untyped on purpose: @types/express-session declares req.session and req.sessionID globally.
    Object.defineProperties(req, {
      session: {
        get: () => (view ??= createView()),
        // Assigning req.session (express-session's `unset`) replaces what later reads see; the session itself stays.
        set: (value: unknown) => {
          view = value;
        },
        configurable: true,
        enumerable: true,
      },
      sessionID: { get: () => session.keyDigest, configurable: true, enumerable: false },
    });
    const commit = () => {
      try {
        flushViews(session);
      } catch (error) {
        return Promise.reject(error);
      }
      return adopted === undefined ? context.commit() : context.commit().then((pairs) => adopted.afterCommit(pairs));
    };
    commitBeforeHead(res, commit, (error) => next(error));
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

/** The express-session-style view of `req`'s session (what `req.session` holds), typed. Throws like {@link getSession}. */
export function sessionView(req: Request): ExpressSessionView {
  getSession(req);
  return Reflect.get(req, 'session') as unknown as ExpressSessionView;
}
