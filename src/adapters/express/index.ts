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
import { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Backend } from '../../core/contract.js';
import { crossOriginGuard, CSRF_REFUSAL_CONTENT_TYPE } from '../../csrf/cross-origin-guard.js';
import type { ResolvedCookieOptions } from '../../http/cookie-options.js';
import { SessionEngine, type SessionContext } from '../../http/engine.js';
import type { HeaderPair } from '../../http/headers.js';
import type { ResolvedSessionOptions } from '../../http/session-options.js';
import type { Session } from '../../http/typed-session.js';
import { commitBeforeHead, heldContext } from '../node-response/commit-before-head.js';
import { resolveLegacySessionMigration, type AdoptedSession as LegacyAdoption } from './legacy-session.js';
import { resolveExpressOptions, type ExpressSessionOptions } from './options.js';
import { RESERVED_SESSION_NAMES, SessionView, type ExpressSessionView, type ViewContext } from './session-view.js';
import { connectFlash } from './flash.js';
import { FLASH_FIELD } from '../../http/flash.js';

export type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionOptions, SessionStatus } from '../../http/index.js';
export { SessionConflictError, SessionDataTooLargeError, SessionRegeneratedError } from '../../http/index.js';
export type { ExpressSessionMigrationOptions } from './legacy-session.js';
export type { ExpressCookieOptions, ExpressSessionOptions } from './options.js';
export { RESERVED_SESSION_NAMES, type ExpressSessionView, type SessionCallback, type SessionCookieView, type SessionViewMembers } from './session-view.js';

/**
 * One request's session state (found by `stateOf`): the typed session,
 * `req.session` once read, and what the view needs from the middleware (this
 * object is the view's context).
 */
class ExpressRequestState implements ViewContext {
  /** The `req.session` object this middleware made (undefined until first read); replaced by its `regenerate()`. */
  view: SessionView | undefined = undefined;
  /** What req.session reads: our view, or whatever the application assigned (express-session's `unset: 'keep'`). */
  shown: unknown = undefined;
  /** Set once the commit began: later writes through `req.session` are reported, then dropped. */
  saved = false;
  late: ExpressSessionView | undefined = undefined;
  readonly cookie: ResolvedCookieOptions;
  readonly nowMs: () => number;
  readonly #options: ResolvedSessionOptions;
  #flash: ((...args: unknown[]) => unknown) | undefined = undefined;

  constructor(
    readonly session: Session<Record<string, unknown>>,
    options: ResolvedSessionOptions,
    readonly adopted: LegacyAdoption | undefined,
    readonly commitContext: SessionContext<object>,
  ) {
    this.#options = options;
    this.cookie = options.cookie;
    this.nowMs = options.nowMs;
  }

  periodSeconds(): number {
    return this.#options.idleTimeoutSeconds ?? this.#options.backend.defaultPeriod();
  }

  replace(next: SessionView): void {
    this.view = next;
    this.shown = next.fields;
  }

  readSession(): unknown {
    if (this.view === undefined) this.replace(new SessionView(this));
    const fields = this.view?.fields;
    // Read after the save (a timer, an error handler after the send): writes through it are reported, then dropped.
    if (this.saved && fields !== undefined && this.shown === fields) return (this.late ??= afterSave(fields, this.session));
    return this.shown;
  }

  /** connect-flash's `req.flash`, on the typed session: `req.session` is synced before and shows the result after. Made at the first read. */
  get flash(): (...args: unknown[]) => unknown {
    return (this.#flash ??= (...args: unknown[]) => {
      this.view?.sync();
      const result = connectFlash(this.session, args);
      this.view?.refresh(FLASH_FIELD);
      return result;
    });
  }

  /** Assigning req.session replaces what later reads see; the session itself stays. */
  writeSession(value: unknown): void {
    if (this.view === undefined) this.replace(new SessionView(this));
    this.shown = value;
  }

  /** The commit (see `commitBeforeHead`): the headers as a value when it needs no store call. */
  commit(): HeaderPair[] | Promise<HeaderPair[]> {
    this.saved = true;
    try {
      this.view?.sync();
    } catch (error) {
      return Promise.reject(error);
    }
    const adopted = this.adopted;
    if (adopted === undefined) return this.commitContext.commitSync() ?? this.commitContext.commit();
    return this.commitContext.commit().then((pairs) => adopted.afterCommit(pairs));
  }
}

/**
 * Where a request's {@link ExpressRequestState} is found: with the hold of its
 * response (`req.res`, which Express sets), where `commitBeforeHead` keeps it,
 * so the request gets no property of its own. Express gives every request a
 * hidden class of its own, so each property added to one costs V8 a new one
 * (measured: about 14,000 instructions per request). A request Express did
 * not link to its response keeps the state in the symbol property `STATE`.
 */
const STATE = Symbol('sessionkit.express.request');
type WithState = { [STATE]?: ExpressRequestState; res?: unknown };
/**
 * `res`, when the caller has the request's response (the middleware does):
 * a request linked to it never carries the state itself, so its symbol is not
 * looked up. That look is a property missing along the request's whole
 * prototype chain, which costs V8 about 3,600 instructions on a request whose
 * hidden class is new (callgrind, typed memory counter app).
 */
const stateOf = (req: object, res?: object): ExpressRequestState | undefined => {
  const linked = (req as WithState).res;
  const held = heldContext(linked);
  if (held instanceof ExpressRequestState) return held;
  return res !== undefined && linked === res ? undefined : (req as WithState)[STATE];
};

/**
 * `req.session`, `req.sessionID` and `req.flash`, defined once on a request prototype
 * rather than on every request (defining two accessors per request was the
 * adapter's largest cost). A request without sessionkit's state (another app
 * sharing the prototype, or one using express-session) reads them as absent
 * and an assignment makes a plain own property, as it would without this.
 */
const requestAccessors: PropertyDescriptorMap = {
  session: {
    get(this: object) {
      return stateOf(this)?.readSession();
    },
    set(this: object, value: unknown) {
      const state = stateOf(this);
      if (state === undefined) Object.defineProperty(this, 'session', { value, writable: true, enumerable: true, configurable: true });
      else state.writeSession(value);
    },
    configurable: true,
    enumerable: false,
  },
  sessionID: {
    get(this: object) {
      return stateOf(this)?.session.keyDigest;
    },
    set(this: object, value: unknown) {
      // Read-only where sessionkit runs, as it was as an own getter (an assignment in strict code is a TypeError).
      if (stateOf(this) !== undefined) throw new TypeError("Cannot set property sessionID of a request: it is the session's key digest");
      Object.defineProperty(this, 'sessionID', { value, writable: true, enumerable: true, configurable: true });
    },
    configurable: true,
    enumerable: false,
  },
  flash: {
    get(this: object) {
      return stateOf(this)?.flash;
    },
    // Replaceable, as the writable own property it was (connect-flash itself assigns it).
    set(this: object, value: unknown) {
      Object.defineProperty(this, 'flash', { value, writable: true, enumerable: true, configurable: true });
    },
    configurable: true,
    enumerable: false,
  },
};

/** Prototypes that carry {@link requestAccessors}. */
const preparedPrototypes = new WeakSet<object>();

/**
 * Makes `req.session` and `req.sessionID` read `req`'s state. Express sets a
 * request's prototype to its app's `app.request` (a mounted app's while inside
 * it), each made from the `express.request` of that copy of Express; the
 * accessors go on that shared `express.request`, so every app and sub-app of
 * that Express (4 or 5, several per process) sees them. Anything else (a
 * request whose prototype is node's own) gets them as own properties.
 */
function exposeState(req: Request, res: Response, state: ExpressRequestState): void {
  if ((req as WithState).res !== res) (req as WithState)[STATE] = state;
  const shared = sharedPrototype(req, IncomingMessage.prototype);
  if (shared === undefined) {
    Object.defineProperties(req, requestAccessors);
    return;
  }
  if (!preparedPrototypes.has(shared)) {
    Object.defineProperties(shared, requestAccessors);
    preparedPrototypes.add(shared);
  }
  // An earlier own value (another middleware's assignment) would shadow the accessors.
  if (Object.hasOwn(req, 'session') || Object.hasOwn(req, 'sessionID') || Object.hasOwn(req, 'flash')) Object.defineProperties(req, requestAccessors);
}

/**
 * `express.request` (or `express.response`) for a request (or response) of an
 * Express app: the prototype just below node's `base` (`IncomingMessage.prototype`,
 * `ServerResponse.prototype`) on its chain; undefined when there is none.
 */
function sharedPrototype(object: object, base: object): object | undefined {
  let prototype: object | null = Object.getPrototypeOf(object) as object | null;
  if (prototype === null || prototype === base) return undefined;
  for (let parent = Object.getPrototypeOf(prototype) as object | null; parent !== null; parent = Object.getPrototypeOf(parent) as object | null) {
    if (parent === base) return prototype;
    prototype = parent;
  }
  return undefined;
}

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
  const guard = crossOriginGuard(options.csrf, engine.carriesSessionHeader);
  if (options.fromExpressSession !== undefined && !engine.options.cookieTransport) throw new TypeError('fromExpressSession takes over cookies: it has no meaning with transport.cookie false');
  const migration = resolveLegacySessionMigration(options.fromExpressSession, backend, engine.options.cookieName, RESERVED_SESSION_NAMES);
  return function sessionkit(req: Request, res: Response, next: NextFunction): void {
    const verdict = guard(req.method, req.headers);
    if (!verdict.allowed) return void res.status(verdict.status).type(CSRF_REFUSAL_CONTENT_TYPE).send(verdict.body);
    // Mounted twice (app and router): the first one owns the session.
    if (stateOf(req, res) !== undefined) return next();
    const chosen = secureEngine !== undefined && req.secure ? secureEngine : engine;
    const onFailure = (error: unknown) => next(error);
    // `.then`, not `await`: no promise layers between the store's answer and next().
    const start = (context: SessionContext<Data>, adopted?: LegacyAdoption) => {
      const state = new ExpressRequestState(context.session as unknown as Session<Record<string, unknown>>, chosen.options, adopted, context);
      exposeState(req, res, state);
      // Held through `express.response`, which every response of this Express shares: `res` gets only its hold, which keeps `state`.
      commitBeforeHead(res, () => state.commit(), onFailure, sharedPrototype(res, ServerResponse.prototype), state);
      next();
    };
    let loading: Promise<SessionContext<Data>>;
    try {
      // req.ip: the address through the app's own `trust proxy` setting.
      loading = chosen.load(req.headers.cookie, req, chosen.recordsClient ? { userAgent: req.headers['user-agent'], clientAddress: req.ip } : undefined);
    } catch (error) {
      return onFailure(error);
    }
    if (migration === undefined) return void loading.then(start, onFailure);
    const { options: engineOptions } = chosen;
    loading
      .then((context) =>
        migration
          // A header request is read by its header alone: an express-session cookie beside it is not taken over.
          .adopt(context.transport === 'cookie' ? req.headers.cookie : undefined, context.session as unknown as Session<Record<string, unknown>>, engineOptions.idleTimeoutSeconds ?? engineOptions.backend.defaultPeriod())
          .then((adopted) => [context, adopted] as const),
      )
      .then(([context, adopted]) => start(context, adopted), onFailure);
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
  const state = stateOf(req);
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
  if (stateOf(req) === undefined) getSession(req);
  return Reflect.get(req, 'session') as unknown as ExpressSessionView<Data>;
}
