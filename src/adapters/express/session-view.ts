import { callbackOrPromise } from '../../core/callback.js';
import type { ResolvedCookieOptions } from '../../http/cookie-options.js';
import { cloneJsonData } from '../../http/session/json-copy.js';
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

/** express-session's `Session` members of `req.session`: never data fields. */
export interface SessionViewMembers {
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

/**
 * `req.session`, as express-session's model has it: a plain object whose
 * own enumerable properties are the session's fields (and `cookie`), with
 * express-session's methods. It is compared with the typed session at the
 * sync points — `save()`, `getSession(req)` and the commit before the
 * response head — and each field that changed since the last one (assigned,
 * mutated in place, deleted) becomes a `set`/`unset` of that field, merged at
 * the commit like any typed change. A read-modify-write such as
 * `req.session.count++` can still race with a parallel request: use
 * `getSession(req).update(fn)` for those. `Data` types the fields
 * (`sessionView<Data>(req)`); without it every field is `unknown`.
 */
export type ExpressSessionView<Data extends object = Record<string, unknown>> = SessionViewMembers & Partial<Data>;

/** What the view needs from the middleware. */
export interface ViewContext {
  readonly session: Session<Record<string, unknown>>;
  readonly cookie: ResolvedCookieOptions;
  /** The configured idle period in seconds (before any per-session one). */
  periodSeconds(): number;
  nowMs(): number;
  /** Called by `regenerate()` with the view that replaces this one on the request. */
  replace(view: SessionView): void;
}

/** JSON of a field's value, as it was last written to the typed session (what the next sync compares with). */
const jsonOf = (value: unknown): string | undefined => (value === undefined ? undefined : JSON.stringify(value));

/**
 * One request's `req.session` and its sync with the typed session. The
 * object handed out is {@link SessionView.fields}; {@link SessionView.sync}
 * writes what changed in it since the last sync.
 */
export class SessionView {
  readonly #context: ViewContext;
  /** `req.session.cookie`, made at its first read. */
  #cookie: SessionCookieView | undefined = undefined;
  /** JSON of every field at the last sync: a field whose JSON differs now was changed through `req.session`. */
  readonly #synced = new Map<string, string | undefined>();
  /** Set by `regenerate()`: this object no longer names the session (Passport's `keepSessionInfo` still reads it). */
  #replaced = false;
  readonly fields: ExpressSessionView;

  constructor(context: ViewContext) {
    this.#context = context;
    const fields = {} as Record<string, unknown>;
    const method = (run: (...args: never[]) => unknown) => ({ value: run });
    // Own, read-only and not configurable: assigning or deleting a member is a TypeError, as for a field it would be a silent loss.
    // The accessors are shared (they find this view by `this`): an accessor made per object would leave every
    // req.session a slow dictionary-mode object, as V8 shares no hidden class between different accessors.
    Object.defineProperties(fields, {
      [VIEW]: { value: this },
      cookie: cookieMember,
      id: idMember,
      toJSON: method(() => ({ ...fields, cookie: this.cookie.toJSON() })),
      touch: method(() => this.#touch()),
      resetMaxAge: method(() => this.#touch()),
      save: method((callback?: SessionCallback) => callbackOrPromise(callback, () => this.#save())),
      regenerate: method((callback?: SessionCallback) => callbackOrPromise(callback, async () => this.#regenerate())),
      destroy: method((callback?: SessionCallback) => callbackOrPromise(callback, async () => this.#destroy())),
      reload: method((callback?: SessionCallback) => callbackOrPromise(callback, () => this.#reload())),
    });
    this.fields = fields as unknown as ExpressSessionView;
    this.#take(context.session.data as Record<string, unknown>);
  }

  /** `req.session.cookie`. */
  get cookie(): SessionCookieView {
    return (this.#cookie ??= cookieView(this.#context));
  }

  /** The stored session's key digest (`req.session.id`). */
  get id(): string | undefined {
    return this.#context.session.keyDigest;
  }

  /**
   * Writes to the typed session each field changed through `req.session`
   * since the last sync, compared as JSON: assigned, mutated in place or
   * deleted. A field the typed API wrote meanwhile and `req.session` left
   * alone keeps the typed write. Throws what the typed `set` throws (a value
   * JSON cannot hold, data over `maxDataBytes`).
   */
  sync(): void {
    if (this.#replaced) return;
    const { session } = this.#context;
    const fields = this.fields as unknown as Record<string, unknown>;
    const present = new Set<string>();
    for (const name of Object.keys(fields)) {
      if (name === 'cookie') continue;
      present.add(name);
      const value = fields[name];
      const json = jsonOf(value);
      if (json === this.#synced.get(name) && this.#synced.has(name)) continue;
      if (value === undefined) session.unset(name);
      else session.set(name, value);
      this.#synced.set(name, json);
    }
    for (const name of [...this.#synced.keys()]) {
      if (present.has(name)) continue;
      session.unset(name);
      this.#synced.delete(name);
    }
  }

  /**
   * Makes field `name` of the object the typed session's value again, in sync:
   * after the middleware changed it through the typed session (`req.flash`),
   * so `req.session` shows the change and the next sync keeps it.
   */
  refresh(name: string): void {
    if (this.#replaced || RESERVED_SESSION_NAMES.has(name)) return;
    const fields = this.fields as unknown as Record<string, unknown>;
    const value = this.#context.session.get(name);
    if (value === undefined) {
      delete fields[name];
      this.#synced.delete(name);
      return;
    }
    fields[name] = cloneJsonData(value);
    this.#synced.set(name, jsonOf(value));
  }

  /** Makes the object's fields a copy of `data` (a load or reload), all of them in sync. */
  #take(data: Readonly<Record<string, unknown>>): void {
    const fields = this.fields as unknown as Record<string, unknown>;
    for (const name of this.#synced.keys()) delete fields[name];
    this.#synced.clear();
    for (const [name, value] of Object.entries(data)) {
      if (RESERVED_SESSION_NAMES.has(name)) continue;
      fields[name] = cloneJsonData(value);
      this.#synced.set(name, jsonOf(value));
    }
  }

  #assertCurrent(): void {
    if (this.#replaced) throw new Error('this req.session was replaced by regenerate(); use the new req.session');
  }

  #touch(): ExpressSessionView {
    this.#assertCurrent();
    const { session } = this.#context;
    session.setExpirySeconds(session.ownExpirySeconds);
    return this.fields;
  }

  async #save(): Promise<void> {
    this.#assertCurrent();
    this.sync();
    // A write now, with this request's changes merged by compare-and-set: visible to parallel requests at once.
    await this.#context.session.update((data) => data);
  }

  #regenerate(): void {
    this.#assertCurrent();
    const { session } = this.#context;
    this.#replaced = true;
    // express-session's regenerate: a new key and an empty session (no data, owner or own period of the old);
    // the old key is removed at the commit, so a key from before a login or logout stops working.
    session.regenerate({ keepData: false });
    if (session.ownExpirySeconds !== undefined) session.setExpirySeconds(undefined);
    this.#context.replace(new SessionView(this.#context));
  }

  #destroy(): void {
    this.#assertCurrent();
    this.#context.session.destroy();
    this.#take({});
  }

  async #reload(): Promise<void> {
    this.#assertCurrent();
    const { session } = this.#context;
    await session.reload();
    this.#take(session.data as Record<string, unknown>);
  }
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

/** Where a `req.session` object keeps its view, for the shared accessors (a hidden member, as the methods are). */
const VIEW = Symbol('sessionkit.express.sessionView');
const viewOf = (fields: object): SessionView | undefined => (fields as { [VIEW]?: SessionView })[VIEW];
const cookieMember: PropertyDescriptor = {
  get(this: object) {
    return viewOf(this)?.cookie;
  },
  // Passport's keepSessionInfo merge copies `cookie` back onto the new session.
  set(this: object, value: unknown) {
    const view = viewOf(this);
    if (view !== undefined && isObject(value) && 'maxAge' in value) view.cookie.maxAge = (value as { maxAge: number | null }).maxAge;
  },
  enumerable: true,
};
const idMember: PropertyDescriptor = {
  get(this: object) {
    return viewOf(this)?.id;
  },
};

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
