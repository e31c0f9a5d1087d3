import type { CsrfProtectionOption } from '../../csrf/cross-origin-guard.js';
import type { CookieOptions } from '../../http/cookie-options.js';
import { DEFAULT_TOUCH_AFTER_SECONDS, type SessionOptions } from '../../http/session-options.js';
import type { ExpressSessionMigrationOptions } from './legacy-session.js';

/**
 * Cookie options: sessionkit's, plus express-session's `maxAge` and
 * `secure: 'auto'`. `sameSite: true` means `'strict'` as in express-session.
 */
export interface ExpressCookieOptions extends Omit<CookieOptions, 'secure' | 'sameSite'> {
  /**
   * `true`/`false` as sessionkit's `secure`; `'auto'`: `Secure` when the
   * request is HTTPS as Express sees it (`req.secure`, which follows
   * `app.set('trust proxy')`).
   */
  secure?: boolean | 'auto';
  sameSite?: CookieOptions['sameSite'] | true;
  /**
   * express-session's cookie lifetime in milliseconds: the idle timeout
   * (rounded up to whole seconds) of every session. `null`: a browser-session
   * cookie (`discard: true`). Not together with `idleTimeoutSeconds`; unless
   * `touchAfterSeconds` is given, renewals are throttled to half of it at most.
   */
  maxAge?: number | null;
}

/**
 * Options of `sessionMiddleware`: the typed-session options, `csrf`, and the
 * express-session options that have a meaning here (`name`, `rolling`,
 * `saveUninitialized: false`, `resave: false`, `unset: 'keep'`,
 * `cookie.maxAge`, `cookie.secure: 'auto'`). Every other express-session
 * option (`secret`, `genid`, `store`, `proxy`, `cookie.expires`, …) and any
 * unknown option is a `TypeError` at setup that names what to use instead.
 */
export interface ExpressSessionOptions extends Omit<SessionOptions, 'cookie'>, CsrfProtectionOption {
  cookie?: ExpressCookieOptions;
  /** express-session's name for `cookieName`. */
  name?: string;
  /** `true`: renew the expiry and the cookie on every response (`touchAfterSeconds: 0`). Default false: sessionkit's throttled renewal. */
  rolling?: boolean;
  /** Only `false` (sessionkit never stores a session nobody wrote to). */
  saveUninitialized?: false;
  /** Only `false` (sessionkit writes only changed fields, merged with compare-and-set). */
  resave?: false;
  /** Only `'keep'`: removing `req.session` changes nothing; end a session with `req.session.destroy()`. */
  unset?: 'keep';
  /**
   * Takes over express-session's users: a request without a live sessionkit
   * session whose express-session cookie is signed with one of these
   * secrets, for a session stored in the same backend by `SessionkitStore`
   * (or `sessionkit import`), gets that session's data under a new sessionkit
   * key (new cookie; the old key is removed after the save). See
   * docs/migrating.md, road 2.
   */
  fromExpressSession?: ExpressSessionMigrationOptions;
}

/** The options resolved for the engines: one set, or two when `secure: 'auto'` picks per request. */
export interface ResolvedExpressOptions {
  readonly session: SessionOptions;
  /** With `cookie.secure: 'auto'`: the same options with `Secure`, used when `req.secure`. */
  readonly secureSession: SessionOptions | undefined;
}

const SESSION_OPTION_NAMES = new Set([
  'cookieName',
  'cookie',
  'idleTimeoutSeconds',
  'touchAfterSeconds',
  'absoluteLifetimeSeconds',
  'maxUpdateAttempts',
  'maxDataBytes',
  'nowMs',
  'owners',
  'onEvent',
  'transport',
  'csrf',
  'name',
  'rolling',
  'saveUninitialized',
  'resave',
  'unset',
  'fromExpressSession',
]);

/** express-session options with no meaning here, and what to use instead. */
const REJECTED: Record<string, string> = {
  secret:
    "the session cookie is a 240-bit random key, hashed at rest: a signature adds nothing, so there is no secret. Remove it (to keep your users' express-session sessions, give the secret as fromExpressSession: { secret }, or keep express-session with SessionkitStore)",
  genid: 'keys are 240-bit random values made by the backend; an application-made id could be guessable. Remove it',
  store: 'pass the backend as the first argument of sessionMiddleware(backend, options)',
  proxy: "use app.set('trust proxy', …) with cookie: { secure: 'auto' }",
};

const COOKIE_REJECTED: Record<string, string> = {
  expires: 'a fixed date for every session; use cookie.maxAge or idleTimeoutSeconds (and req.session.cookie.maxAge per session)',
  priority: 'the Priority attribute is not sent; remove it',
  encode: 'the cookie holds a base64url key that needs no encoding; remove it',
};

/**
 * Checks and translates express-session-style options into typed-session
 * options, once at setup. Throws a `TypeError` naming the sessionkit
 * equivalent for every option it does not support.
 */
export function resolveExpressOptions(options: ExpressSessionOptions): ResolvedExpressOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('session options must be an object');
  for (const name of Object.keys(options)) {
    const instead = REJECTED[name];
    if (instead !== undefined) throw new TypeError(`session option ${name} is not supported: ${instead}`);
    if (!SESSION_OPTION_NAMES.has(name)) {
      throw new TypeError(`unknown session option ${JSON.stringify(name)}; known: ${[...SESSION_OPTION_NAMES].join(', ')}`);
    }
  }
  // fromExpressSession is resolved by resolveLegacySessionMigration, beside the engine.
  const { name, rolling, saveUninitialized, resave, unset, cookie, fromExpressSession: _migration, ...rest } = options;
  const session: SessionOptions = { ...rest };

  if (name !== undefined) {
    if (rest.cookieName !== undefined) throw new TypeError('give name or cookieName, not both');
    session.cookieName = name;
  }
  if (rolling !== undefined) {
    if (typeof rolling !== 'boolean') throw new TypeError('rolling must be a boolean');
    if (rolling) {
      if (rest.touchAfterSeconds !== undefined) throw new TypeError('rolling: true means touchAfterSeconds: 0; give one of them');
      session.touchAfterSeconds = 0;
    }
  }
  if (saveUninitialized !== undefined && saveUninitialized !== false) {
    throw new TypeError('saveUninitialized: true is not supported: a session is stored at its first write (to start one at once, write a field)');
  }
  if (resave !== undefined && resave !== false) {
    throw new TypeError('resave: true is not supported: only changed fields are saved, merged with compare-and-set, so parallel requests never erase each other');
  }
  if (unset !== undefined && unset !== 'keep') throw new TypeError("unset: 'destroy' is not supported: call req.session.destroy()");

  let secureAuto = false;
  if (cookie !== undefined) {
    if (typeof cookie !== 'object' || cookie === null) throw new TypeError('cookie options must be an object');
    for (const option of Object.keys(cookie)) {
      const instead = COOKIE_REJECTED[option];
      if (instead !== undefined) throw new TypeError(`cookie option ${option} is not supported: ${instead}`);
    }
    const { maxAge, secure, sameSite, ...cookieRest } = cookie;
    const resolved: CookieOptions = { ...cookieRest };
    if (maxAge === null) {
      if (cookieRest.discard === false) throw new TypeError('cookie.maxAge: null means discard: true; give one of them');
      resolved.discard = true;
    } else if (maxAge !== undefined) {
      if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge <= 0) throw new TypeError(`cookie.maxAge must be a positive number of milliseconds, got ${String(maxAge)}`);
      if (rest.idleTimeoutSeconds !== undefined) throw new TypeError('cookie.maxAge is the idle timeout in milliseconds; give it or idleTimeoutSeconds, not both');
      session.idleTimeoutSeconds = Math.ceil(maxAge / 1000);
      // express-session renews on every request; keep sessionkit's throttle, but below a short maxAge.
      if (session.touchAfterSeconds === undefined) session.touchAfterSeconds = Math.min(DEFAULT_TOUCH_AFTER_SECONDS, Math.floor(session.idleTimeoutSeconds / 2));
    }
    if (sameSite === true) resolved.sameSite = 'strict';
    else if (sameSite !== undefined) resolved.sameSite = sameSite;
    if (secure === 'auto') secureAuto = true;
    else if (secure !== undefined) resolved.secure = secure;
    session.cookie = resolved;
  }
  if (!secureAuto) return { session, secureSession: undefined };
  const cookieName = session.cookieName ?? '';
  if (/^__(host|secure)-/i.test(cookieName)) throw new TypeError(`cookie.secure: 'auto' contradicts the name ${cookieName}, which forces Secure`);
  return {
    session: { ...session, cookie: { ...session.cookie, secure: false } },
    secureSession: { ...session, cookie: { ...session.cookie, secure: true } },
  };
}
