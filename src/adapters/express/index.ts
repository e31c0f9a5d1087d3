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
import { withOutageStatus } from '../store-outage.js';
import { resolveLegacySessionMigration } from './legacy-session.js';
import { resolveExpressOptions, type ExpressSessionOptions } from './options.js';
import { RESERVED_SESSION_NAMES, SessionView, type ExpressSessionView } from './session-view.js';
import { connectFlash } from './flash.js';
import { FLASH_FIELD } from '../../http/flash.js';

export type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionOptions, SessionStatus } from '../../http/index.js';
export { SessionConflictError, SessionDataTooLargeError, SessionRegeneratedError } from '../../http/index.js';
export type { ExpressSessionMigrationOptions } from './legacy-session.js';
export type { ExpressCookieOptions, ExpressSessionOptions } from './options.js';
export { RESERVED_SESSION_NAMES, type ExpressSessionView, type SessionCallback, type SessionCookieView, type SessionViewMembers } from './session-view.js';

/** One request's typed session, and its `req.session` once read. */
interface RequestState {
  readonly session: Session<object>;
  /** The `req.session` object this middleware made (undefined until first read); replaced by its `regenerate()`. */
  view: SessionView | undefined;
}

const states = new WeakMap<Request, RequestState>();

/**
 * Express (4.17+ or 5) middleware that gives each request one session with two views:
 * typed, with {@link getSession}, and express-session style at
 * `req.session` (see {@link ExpressSessionView}; `req.sessionID` is
 * `req.session.id`, the key digest, never the cookie). `req.flash` is
 * connect-flash's, on the session's `flash` field (docs/http.md, "Flash messages").
 *
 * The session is read before the next handler runs and saved before the
 * response head is written: the middleware holds the first `res.writeHead`,
 * `res.write`, `res.end` or `res.flushHeaders` until the save settles. If the
 * save fails, the held response is dropped and the error goes to `next(err)`,
 * so the application's error handlers (or Express's default 500) answer with
 * the head still unwritten and no `Set-Cookie`. A store failure while reading
 * goes to `next(err)` too. When the store is down or timed out (`BackendError`
 * code `unavailable`, `timeout` or `indeterminate`) that error carries
 * `status: 503` and `headers: { 'Retry-After': '1' }`, which Express's default
 * handler answers with (read `err.status` in yours). While the save is
 * pending the response looks sent, as it would without sessions
 * (`res.headersSent` is true; see `commitBeforeHead`). A cross-origin browser request with an unsafe
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
    if (states.has(req)) return next();
    const chosen = secureEngine !== undefined && req.secure ? secureEngine : engine;
    const { options: engineOptions } = chosen;
    let context;
    let adopted;
    try {
      context = await chosen.load(req.headers.cookie);
      adopted = await migration?.adopt(req.headers.cookie, context.session as unknown as Session<Record<string, unknown>>, engineOptions.idleTimeoutSeconds ?? engineOptions.backend.defaultPeriod());
    } catch (error) {
      return next(withOutageStatus(error));
    }
    const session = context.session as unknown as Session<Record<string, unknown>>;
    const state: RequestState = { session, view: undefined };
    states.set(req, state);
    // What req.session reads: our view, or whatever the application assigned (express-session's `unset: 'keep'`).
    let shown: unknown;
    const viewContext = {
      session,
      cookie: engineOptions.cookie,
      periodSeconds: () => engineOptions.idleTimeoutSeconds ?? engineOptions.backend.defaultPeriod(),
      nowMs: engineOptions.nowMs,
      replace: (next: SessionView) => {
        state.view = next;
        shown = next.fields;
      },
    };
    // Untyped on purpose: @types/express-session declares req.session and req.sessionID globally.
    Object.defineProperties(req, {
      session: {
        // Made at the first read: a route that only uses getSession(req) pays nothing for it.
        get: () => {
          if (state.view === undefined) viewContext.replace(new SessionView(viewContext));
          // Read after the save (a timer, an error handler after the send): writes through it are reported, then dropped.
          const fields = state.view?.fields;
          if (saved && fields !== undefined && shown === fields) return (late ??= afterSave(fields, session));
          return shown;
        },
        // Assigning req.session replaces what later reads see; the session itself stays.
        set: (value: unknown) => {
          if (state.view === undefined) viewContext.replace(new SessionView(viewContext));
          shown = value;
        },
        configurable: true,
        enumerable: true,
      },
      sessionID: { get: () => session.keyDigest, configurable: true, enumerable: false },
      // connect-flash's req.flash, on the typed session; req.session is synced before and shows the result after.
      flash: {
        value: (...args: unknown[]) => {
          state.view?.sync();
          const result = connectFlash(session, args);
          state.view?.refresh(FLASH_FIELD);
          return result;
        },
        configurable: true,
        writable: true,
        enumerable: false,
      },
    });
    let saved = false;
    let late: ExpressSessionView | undefined;
    const commit = () => {
      saved = true;
      try {
        state.view?.sync();
      } catch (error) {
        return Promise.reject(error);
      }
      return adopted === undefined ? context.commit() : context.commit().then((pairs) => adopted.afterCommit(pairs));
    };
    commitBeforeHead(res, commit, (error) => next(withOutageStatus(error)));
    next();
  };
}

/**
 * `req.session` as read once the session was saved for the response: reads as
 * before, and an assignment or `delete` goes to the typed session, which drops
 * it with a `write-dropped` event (never a throw: this runs from timers).
 * Only what is read after the save goes through here; the plain object stays
 * plain on every request's path.
 */
function afterSave(fields: ExpressSessionView, session: Session<Record<string, unknown>>): ExpressSessionView {
  return new Proxy(fields, {
    set: (_target, name, value) => {
      if (typeof name === 'string') session.set(name, value);
      return true;
    },
    deleteProperty: (_target, name) => {
      if (typeof name === 'string') session.unset(name);
      return true;
    },
  });
}

/**
 * The typed session of `req`. Changes made through `req.session` so far are
 * written to it first (a sync point, as `req.session.save()` and the commit
 * are). Throws when {@link sessionMiddleware} did not run for this request
 * (it is not mounted, or mounted after this route), and what the typed `set`
 * throws for a field changed through `req.session` (a value JSON cannot hold,
 * data over `maxDataBytes`).
 */
export function getSession<Data extends object = Record<string, unknown>>(req: Request): Session<Data> {
  const state = states.get(req);
  if (state === undefined) throw new Error('no session on this request: app.use(sessionMiddleware(backend)) before the routes');
  state.view?.sync();
  return state.session as Session<Data>;
}

/**
 * The express-session-style view of `req`'s session (what `req.session`
 * holds), its fields typed by `Data`: `sessionView<{ count: number }>(req).cuont = 1`
 * does not compile. Throws like {@link getSession}.
 */
export function sessionView<Data extends object = Record<string, unknown>>(req: Request): ExpressSessionView<Data> {
  if (!states.has(req)) getSession(req);
  return Reflect.get(req, 'session') as unknown as ExpressSessionView<Data>;
}
