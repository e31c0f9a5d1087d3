import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { Backend } from '../../core/contract.js';
import { parseJsonObject } from '../../core/validate.js';
import type { HeaderPair } from '../../http/headers.js';
import type { Session } from '../../http/typed-session.js';
import { splitSignedSessionId, storeKeyOfSessionId } from '../express-session/session-id.js';

/**
 * The `fromExpressSession` option of `sessionMiddleware`: what it needs to
 * take over the sessions of express-session users (road 2 of
 * docs/migrating.md) without logging them out.
 */
export interface ExpressSessionMigrationOptions {
  /**
   * express-session's `secret`: one string, or the array of them (the first
   * signed new cookies, every one is accepted). A cookie signed with none of
   * them is ignored.
   */
  secret: string | readonly string[];
  /** express-session's cookie name (its `name` option). Default `'connect.sid'`. */
  name?: string;
  /** The `Path` express-session gave its cookie (`cookie.path`), so that the old cookie is cleared where it was set. Default `'/'`. */
  cookiePath?: string;
  /** The `Domain` express-session gave its cookie (`cookie.domain`), if any, for the same reason. */
  cookieDomain?: string;
}

/** The migration resolved once at setup. */
export interface LegacySessionMigration {
  /**
   * When `session` is new (the request brought no live sessionkit session)
   * and the request carries express-session's cookie, correctly signed, for
   * a live session stored in express-session's format under the same
   * backend (what `SessionkitStore` stores): copies its fields into
   * `session`, so that the commit creates it under a new sessionkit key.
   * Returns what the commit must do after it succeeded, or undefined when
   * there is nothing to move. A store failure rejects (a `BackendError`).
   */
  adopt(cookieHeader: string | readonly string[] | undefined, session: Session<Record<string, unknown>>, periodSeconds: number): Promise<AdoptedSession | undefined>;
}

/** An express-session session being moved to a sessionkit key in this request. */
export interface AdoptedSession {
  /**
   * After the new session was saved: removes the old key and adds to the
   * commit's headers a `Set-Cookie` clearing the old cookie (unless the
   * sessionkit cookie has the same name, which the new one replaces).
   */
  afterCommit(pairs: HeaderPair[]): Promise<HeaderPair[]>;
}

/** express-session's fields that are the session's machinery, not data: never copied. */
const NOT_DATA = new Set(['cookie', '__proto__']);

/** Checks the option at setup (a `TypeError` for a bad one); undefined when the option is absent. */
export function resolveLegacySessionMigration(options: ExpressSessionMigrationOptions | undefined, backend: Backend, sessionCookieName: string, reserved: ReadonlySet<string>): LegacySessionMigration | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new TypeError('fromExpressSession must be an object: { secret, name? }');
  for (const key of Object.keys(options)) {
    if (!['secret', 'name', 'cookiePath', 'cookieDomain'].includes(key)) throw new TypeError(`unknown fromExpressSession option ${JSON.stringify(key)}; known: secret, name, cookiePath, cookieDomain`);
  }
  const secrets = typeof options.secret === 'string' ? [options.secret] : Array.isArray(options.secret) ? [...(options.secret as readonly unknown[])] : [];
  if (secrets.length === 0 || !secrets.every((secret) => typeof secret === 'string' && secret.length > 0)) {
    throw new TypeError("fromExpressSession.secret must be express-session's secret: a non-empty string or a non-empty array of them");
  }
  const cookieName = options.name ?? 'connect.sid';
  if (typeof cookieName !== 'string' || cookieName.length === 0) throw new TypeError('fromExpressSession.name must be a non-empty string');
  const clearOld: HeaderPair | undefined =
    cookieName === sessionCookieName
      ? undefined
      : ['Set-Cookie', stringifySetCookie(cookieName, '', { path: options.cookiePath ?? '/', ...(options.cookieDomain === undefined ? {} : { domain: options.cookieDomain }), expires: new Date(0), httpOnly: true })];

  return {
    async adopt(cookieHeader, session, periodSeconds) {
      if (!session.isNew) return undefined;
      const sid = signedSessionId(cookieHeader, cookieName, secrets as string[]);
      if (sid === undefined) return undefined;
      const oldKey = storeKeyOfSessionId(sid);
      const stored = await backend.get(oldKey);
      if (!stored.ok) return undefined;
      const legacy = parseLegacySession(stored.value);
      if (legacy === undefined) return undefined;
      for (const [name, value] of Object.entries(legacy.data)) {
        if (!reserved.has(name)) session.set(name, value);
      }
      // A per-session lifetime (remember-me's cookie.maxAge) stays the session's own period.
      if (legacy.maxAgeSeconds !== undefined && legacy.maxAgeSeconds !== periodSeconds) session.setExpirySeconds(legacy.maxAgeSeconds);
      return {
        async afterCommit(pairs) {
          await backend.clear(oldKey);
          return clearOld === undefined ? pairs : [...pairs, clearOld];
        },
      };
    },
  };
}

/**
 * The session id of express-session's signed cookie (`s:<id>.<signature>`,
 * URI-encoded as express-session sets it), when its signature is an
 * HMAC-SHA256 of the id under one of `secrets` (base64 without padding, as
 * cookie-signature makes it); else undefined. Never throws.
 */
export function signedSessionId(cookieHeader: string | readonly string[] | undefined, cookieName: string, secrets: readonly string[]): string | undefined {
  let value: string | undefined;
  try {
    const text = typeof cookieHeader === 'string' ? cookieHeader : Array.isArray(cookieHeader) ? cookieHeader.join('; ') : '';
    // express-session reads the first cookie of the name, decoded with decodeURIComponent (the cookie package's default).
    value = parseCookie(text)[cookieName];
  } catch {
    return undefined;
  }
  const signed = value === undefined ? undefined : splitSignedSessionId(value);
  if (signed === undefined) return undefined;
  const sid = signed.id;
  const signature = Buffer.from(signed.signature);
  for (const secret of secrets) {
    const expected = Buffer.from(createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, ''));
    if (expected.length === signature.length && timingSafeEqual(expected, signature)) return sid;
  }
  return undefined;
}

/** The data of a live express-session session (a JSON object with a `cookie`), and its own lifetime; undefined for anything else or an expired one. */
function parseLegacySession(value: string): { data: Record<string, unknown>; maxAgeSeconds: number | undefined } | undefined {
  const parsed = parseJsonObject(value);
  if (parsed === undefined) return undefined;
  const { cookie } = parsed;
  if (typeof cookie !== 'object' || cookie === null) return undefined;
  const { expires, originalMaxAge } = cookie as { expires?: unknown; originalMaxAge?: unknown };
  if (typeof expires === 'string' && Date.parse(expires) <= Date.now()) return undefined;
  const data: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(parsed)) if (!NOT_DATA.has(name)) data[name] = field;
  const maxAgeSeconds = typeof originalMaxAge === 'number' && Number.isFinite(originalMaxAge) && originalMaxAge > 0 ? Math.ceil(originalMaxAge / 1000) : undefined;
  return { data, maxAgeSeconds };
}
