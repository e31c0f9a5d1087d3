import { callbackOrPromise } from '../../core/callback.js';
import type { ResolvedCookieOptions } from '../../http/cookie-options.js';
import type { Session } from '../../http/typed-session.js';

/**
 * Names that are members of `req.session`, never data fields: express-session's
 * Session members. A field with one of these names can still be read and
 * written through the typed `getSession(req)`.
 */
export const RESERVED_SESSION_NAMES: ReadonlySet<string> = new Set([
  'id',
  'cookie',
  'regenerate',
  'save',
  'destroy',
  'reload',
  'touch',
  'resetMaxAge',
  'toJSON',
]);

/** A node-style callback, as express-session's methods take. */
export type SessionCallback = (error?: unknown) => void;

/** `req.session.cookie`, as express-session's `Cookie` reads. */
export interface SessionCookieView {
  /** Milliseconds until the session expires (the whole period while nothing is stored). Setting it is "remember me": see `Session.setExpirySeconds`. `null` goes back to the configured period. */
  maxAge: number | null;
  /** When the session expires. Setting a date sets `maxAge` to the time left. */
  expires: Date | null;
  /** The session's period in milliseconds. */
  readonly originalMaxAge: number;
  readonly httpOnly: boolean;
  readonly path: string;
  readonly domain: string | undefined;
  readonly secure: boolean;
  readonly sameSite: 'lax' | 'strict' | 'none';
  toJSON(): Record<string, unknown>;
}

/**
 * `req.session`: the typed session's data as properties, with
 * express-session's methods. Each property write is a change of one field,
 * merged at the commit; a read-modify-write such as `req.session.count++`
 * can still race with a parallel request: use `getSession(req).update(fn)`
 * for those.
 */
export interface ExpressSessionView {
  [field: string]: unknown;
  /** The key digest of the stored session (undefined before its first save): never the cookie. */
  readonly id: string | undefined;
  cookie: SessionCookieView;
  regenerate(callback?: SessionCallback): Promise<void>;
  save(callback?: SessionCallback): Promise<void>;
  destroy(callback?: SessionCallback): Promise<void>;
  reload(callback?: SessionCallback): Promise<void>;
  touch(): ExpressSessionView;
  resetMaxAge(): ExpressSessionView;
}

/** What the view needs from the middleware. */
export interface ViewContext {
  readonly session: Session<Record<string, unknown>>;
  readonly cookie: ResolvedCookieOptions;
  /** The configured idle period in seconds (before any per-session one). */
  periodSeconds(): number;
  nowMs(): number;
  /** Called by `regenerate()` with the view that replaces this one on the request. */
  replace(view: ExpressSessionView): void;
}

/** An object handed out from a field: compared at the next flush to find in-place mutations. */
interface Lent {
  /** The session's value the copy was made from; another value means the typed API changed the field since. */
  readonly source: unknown;
  readonly copy: object;
  readonly json: string;
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

/** The live views of each typed session: every one is flushed before a save or the commit. */
const viewsOf = new WeakMap<object, Set<SessionView>>();

/**
 * Writes back the in-place mutations of objects read through `req.session`
 * (`req.session.cart.items.push(x)`, Passport's `req.session.passport.user = id`)
 * as field changes. The middleware calls it before the commit.
 */
export function flushViews(session: Session<Record<string, unknown>>): void {
  for (const view of viewsOf.get(session) ?? []) view.flush();
}

/**
 * One express-session-style view of a typed session. Reads and writes go to
 * the typed session field by field; objects it hands out are copies,
 * remembered so that mutating them in place is saved too (compared as JSON
 * at `save()` and before the commit).
 */
class SessionView {
  readonly #context: ViewContext;
  readonly #lent = new Map<string, Lent>();
  /** After `regenerate()`: the fields as they were, read-only (Passport's `keepSessionInfo` merges them back). */
  #detached: Readonly<Record<string, unknown>> | undefined;
  readonly proxy: ExpressSessionView;
  readonly #cookie: SessionCookieView;

  constructor(context: ViewContext) {
    this.#context = context;
    this.#cookie = cookieView(context);
    let views = viewsOf.get(context.session);
    if (views === undefined) viewsOf.set(context.session, (views = new Set()));
    views.add(this);
    this.proxy = new Proxy({} as ExpressSessionView, {
      get: (_target, name) => (typeof name === 'string' ? this.#get(name) : undefined),
      set: (_target, name, value) => {
        this.#set(name, value);
        return true;
      },
      defineProperty: (_target, name, descriptor) => {
        if (!('value' in descriptor)) throw new TypeError('req.session fields are plain values; accessors cannot be defined');
        this.#set(name, descriptor.value);
        return true;
      },
      deleteProperty: (_target, name) => {
        if (typeof name !== 'string' || RESERVED_SESSION_NAMES.has(name)) throw new TypeError(`req.session.${String(name)} cannot be deleted`);
        this.#assertAttached();
        this.#lent.delete(name);
        context.session.unset(name);
        return true;
      },
      has: (_target, name) => typeof name === 'string' && (RESERVED_SESSION_NAMES.has(name) || this.#get(name) !== undefined),
      ownKeys: () => ['cookie', ...Object.keys(this.#fields())],
      getOwnPropertyDescriptor: (_target, name) => {
        if (typeof name !== 'string') return undefined;
        if (name === 'cookie') return { value: this.#cookie, writable: true, enumerable: true, configurable: true };
        const value = this.#get(name);
        return value === undefined || RESERVED_SESSION_NAMES.has(name) ? undefined : { value, writable: true, enumerable: true, configurable: true };
      },
    });
  }

  /** Saves in-place mutations of handed-out objects as field changes. */
  flush(): void {
    if (this.#detached !== undefined) return;
    const { session } = this.#context;
    for (const [name, lent] of this.#lent) {
      // The typed API replaced the field meanwhile: its write wins over a mutation of the old value.
      if (session.get(name) !== lent.source) {
        this.#lent.delete(name);
        continue;
      }
      const json = JSON.stringify(lent.copy);
      if (json === lent.json) continue;
      session.set(name, lent.copy);
      this.#lent.set(name, { source: session.get(name), copy: lent.copy, json });
    }
  }

  #fields(): Record<string, unknown> {
    if (this.#detached !== undefined) return this.#detached;
    this.flush();
    return this.#context.session.data as Record<string, unknown>;
  }

  #get(name: string): unknown {
    if (RESERVED_SESSION_NAMES.has(name)) return this.#member(name);
    if (this.#detached !== undefined) return Object.hasOwn(this.#detached, name) ? this.#detached[name] : undefined;
    const { session } = this.#context;
    const value = session.get(name);
    if (!isObject(value)) {
      this.#lent.delete(name);
      return value;
    }
    const lent = this.#lent.get(name);
    if (lent !== undefined && lent.source === value) return lent.copy;
    const copy = structuredClone(value);
    this.#lent.set(name, { source: value, copy, json: JSON.stringify(value) });
    return copy;
  }

  #set(name: string | symbol, value: unknown): void {
    if (typeof name !== 'string') throw new TypeError('req.session fields are named by strings');
    if (name === 'cookie') {
      // Passport's keepSessionInfo merge copies `cookie` back onto the new session.
      if (isObject(value) && 'maxAge' in value) this.#cookie.maxAge = (value as { maxAge: number | null }).maxAge;
      return;
    }
    if (RESERVED_SESSION_NAMES.has(name)) throw new TypeError(`req.session.${name} is reserved (a member of express-session's Session); use getSession(req).set(${JSON.stringify(name)}, value) for a field of that name`);
    this.#assertAttached();
    const { session } = this.#context;
    session.set(name, value as never);
    this.#lent.delete(name);
    // The object assigned stays live, as in express-session: later mutations of it are saved too.
    if (isObject(value)) this.#lent.set(name, { source: session.get(name), copy: value, json: JSON.stringify(value) });
  }

  #member(name: string): unknown {
    const { session } = this.#context;
    switch (name) {
      case 'id':
        return session.keyDigest;
      case 'cookie':
        return this.#cookie;
      case 'toJSON':
        return () => ({ cookie: this.#cookie.toJSON(), ...this.#fields() });
      case 'touch':
      case 'resetMaxAge':
        return () => {
          this.#assertAttached();
          session.setExpirySeconds(session.ownExpirySeconds);
          return this.proxy;
        };
      case 'save':
        return (callback?: SessionCallback) =>
          callbackOrPromise(callback, async () => {
            this.#assertAttached();
            this.flush();
            // A write now, with this request's changes merged by compare-and-set: visible to parallel requests at once.
            await session.update((data) => data);
          });
      case 'regenerate':
        return (callback?: SessionCallback) =>
          callbackOrPromise(callback, async () => {
            this.#assertAttached();
            this.flush();
            this.#detached = Object.freeze({ ...(session.data as Record<string, unknown>) });
            viewsOf.get(session)?.delete(this);
            // express-session's regenerate: a new key and an empty session (no data, owner or own period of the old);
            // the old key is removed at the commit, so a key from before a login or logout stops working.
            session.regenerate({ keepData: false });
            if (session.ownExpirySeconds !== undefined) session.setExpirySeconds(undefined);
            this.#context.replace(new SessionView(this.#context).proxy);
          });
      case 'destroy':
        return (callback?: SessionCallback) =>
          callbackOrPromise(callback, async () => {
            this.#assertAttached();
            this.#lent.clear();
            session.destroy();
          });
      case 'reload':
        return (callback?: SessionCallback) =>
          callbackOrPromise(callback, async () => {
            this.#assertAttached();
            this.#lent.clear();
            await session.reload();
          });
      default:
        return undefined;
    }
  }

  #assertAttached(): void {
    if (this.#detached !== undefined) throw new Error('this req.session was replaced by regenerate(); use the new req.session');
  }
}

function cookieView(context: ViewContext): SessionCookieView {
  const { session, cookie } = context;
  const periodMs = () => (session.ownExpirySeconds ?? context.periodSeconds()) * 1000;
  const leftMs = () => {
    const left = session.expiresInSeconds;
    return left === undefined ? periodMs() : left * 1000;
  };
  const setMaxAge = (ms: number | null) => {
    if (ms === null || ms === undefined) {
      session.setExpirySeconds(undefined);
      return;
    }
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) throw new TypeError(`req.session.cookie.maxAge must be a positive number of milliseconds or null, got ${String(ms)}`);
    session.setExpirySeconds(Math.ceil(ms / 1000));
  };
  const view: SessionCookieView = {
    get maxAge() {
      return cookie.discard && session.ownExpirySeconds === undefined ? null : leftMs();
    },
    set maxAge(ms) {
      setMaxAge(ms);
    },
    get expires() {
      return cookie.discard && session.ownExpirySeconds === undefined ? null : new Date(context.nowMs() + leftMs());
    },
    set expires(date) {
      if (date === null || date === undefined) setMaxAge(null);
      else if (date instanceof Date) setMaxAge(Math.max(1, date.getTime() - context.nowMs()));
      else throw new TypeError('req.session.cookie.expires must be a Date or null');
    },
    get originalMaxAge() {
      return periodMs();
    },
    httpOnly: cookie.httpOnly,
    path: cookie.path,
    domain: cookie.domain,
    secure: cookie.secure,
    sameSite: cookie.sameSite,
    toJSON() {
      return { originalMaxAge: this.originalMaxAge, expires: this.expires, httpOnly: this.httpOnly, path: this.path, secure: this.secure, sameSite: this.sameSite };
    },
  };
  return view;
}

/** The `req.session` of one request over its typed session. */
export function createSessionView(context: ViewContext): ExpressSessionView {
  return new SessionView(context).proxy;
}
