/**
 * The signed double-submit token for forms (OWASP's "signed double-submit
 * cookie"): a random nonce in a small cookie of its own, and in the form an
 * HMAC of that nonce under an application secret. Nothing is stored on the
 * server, so a visitor without a session gets a form token without getting a
 * stored session.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { resolveCookieOptions, serializeCookie, type CookieOptions } from '../http/cookie-options.js';
import { readSessionCookie, type CookieHeader } from '../http/read-cookie.js';

/** The nonce cookie's name when none is given. Over HTTPS prefer `__Host-sessionkit.csrf`. */
export const DEFAULT_CSRF_COOKIE_NAME = 'sessionkit.csrf';

/** Fewest bytes in a secret: as many as the HMAC-SHA256 output, so the secret is not the weak part. */
export const MIN_CSRF_SECRET_BYTES = 32;

/** Options of {@link signedCsrfTokens}. */
export interface SignedCsrfTokenOptions {
  /**
   * The signing secrets, newest first, each at least
   * {@link MIN_CSRF_SECRET_BYTES} bytes (a string counts its UTF-8 bytes).
   * Tokens are signed with the first and accepted under any of them: to rotate,
   * put the new secret first and drop the old one once the forms it signed
   * are stale. Keep them out of the repository (an environment variable, a
   * secret manager).
   */
  secrets: readonly (string | Uint8Array)[];
  /** Name of the nonce cookie; default {@link DEFAULT_CSRF_COOKIE_NAME}. A `__Host-` name forces `Secure`, `Path=/`, no `Domain`. */
  cookieName?: string;
  /**
   * The nonce cookie's attributes, as for the session cookie (defaults
   * `Path=/`, `HttpOnly`, `SameSite=Lax`, not `Secure`). Always a
   * browser-session cookie: `discard` is ignored, a lost nonce is reissued
   * by the next {@link SignedCsrfTokens.issue}.
   */
  cookie?: Omit<CookieOptions, 'discard'>;
}

/** A form token and, when the request had no usable nonce cookie, the `Set-Cookie` value that sets one. */
export interface IssuedCsrfToken {
  /** For a hidden form field or an `X-CSRF-Token` header: 43 base64url characters. */
  readonly token: string;
  /** The `Set-Cookie` header value to add to the response; undefined when the request's nonce cookie is reused. */
  readonly setCookie: string | undefined;
}

/** Issues and checks signed double-submit tokens; made by {@link signedCsrfTokens}. */
export interface SignedCsrfTokens {
  /** The nonce cookie's name. */
  readonly cookieName: string;
  /**
   * The form token for the request whose `Cookie` header is `cookieHeader`
   * (a string, the lines node hands over, or null/undefined). Reuses the
   * request's nonce cookie when it holds a well-formed nonce; otherwise makes
   * a new nonce and returns its `Set-Cookie` value, which the response must
   * carry. Never throws, never touches a session.
   */
  issue(cookieHeader: CookieHeader): IssuedCsrfToken;
  /**
   * True when `token` (what the form or header brought; anything, checked
   * here) is the HMAC of the request's nonce cookie under one of the secrets,
   * compared in constant time. False, never a throw, when the cookie is
   * missing, malformed or sent twice with different values, and for a
   * missing, malformed, tampered or foreign token.
   */
  verify(cookieHeader: CookieHeader, token: unknown): boolean;
}

/** 24 random bytes (192 bits) as 32 base64url characters: a shape the cookie reader checks. */
const NONCE_BYTES = 24;
/** A token is an HMAC-SHA256 (32 bytes) as 43 base64url characters. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Binds a signature to this use, so a secret shared with another HMAC use cannot be replayed here. */
const CONTEXT = 'sessionkit.csrf.v1\0';

function secretBytes(secret: unknown, index: number): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret instanceof Uint8Array ? Buffer.from(secret) : undefined;
  if (bytes === undefined) throw new TypeError(`secrets[${index}] must be a string or a Uint8Array, got ${typeof secret}`);
  if (bytes.length < MIN_CSRF_SECRET_BYTES) throw new RangeError(`secrets[${index}] has ${bytes.length} bytes; a CSRF secret needs at least ${MIN_CSRF_SECRET_BYTES}`);
  return bytes;
}

/**
 * Signed double-submit tokens under `options.secrets`, for forms of visitors
 * who have no session (and any other): `GET` of a form stores nothing on the
 * server, only the nonce cookie goes to the browser. The token is bound to
 * that cookie, not to a session: it stays valid across login and logout for
 * as long as the browser keeps the cookie. A cross-site page can neither read
 * the cookie nor compute the HMAC without the secret; a sibling subdomain that
 * can set cookies is what a `__Host-` name keeps out.
 *
 * Throws a `TypeError` for a bad option (no secrets, a secret that is not a
 * string or bytes, a bad cookie name or attribute) and a `RangeError` for a
 * secret shorter than {@link MIN_CSRF_SECRET_BYTES}.
 */
export function signedCsrfTokens(options: SignedCsrfTokenOptions): SignedCsrfTokens {
  if (typeof options !== 'object' || options === null) throw new TypeError('signedCsrfTokens needs an options object with secrets');
  const { secrets, cookieName = DEFAULT_CSRF_COOKIE_NAME, cookie = {} } = options;
  if (!Array.isArray(secrets) || secrets.length === 0) throw new TypeError('secrets must be a non-empty array (newest first)');
  const keys = secrets.map(secretBytes);
  const cookieOptions = resolveCookieOptions(cookieName, { ...cookie, discard: true });

  const sign = (key: Buffer, nonce: string): Buffer => createHmac('sha256', key).update(CONTEXT).update(nonce).digest();
  const nonceOf = (cookieHeader: CookieHeader): string | undefined => {
    const read = readSessionCookie(cookieHeader, cookieName);
    return read.kind === 'key' && read.key.length === (NONCE_BYTES * 4) / 3 ? read.key : undefined;
  };

  return Object.freeze({
    cookieName,
    issue(cookieHeader: CookieHeader): IssuedCsrfToken {
      const existing = nonceOf(cookieHeader);
      const nonce = existing ?? randomBytes(NONCE_BYTES).toString('base64url');
      return {
        token: sign(keys[0]!, nonce).toString('base64url'),
        setCookie: existing === undefined ? serializeCookie(cookieName, nonce, undefined, cookieOptions) : undefined,
      };
    },
    verify(cookieHeader: CookieHeader, token: unknown): boolean {
      if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return false;
      const nonce = nonceOf(cookieHeader);
      if (nonce === undefined) return false;
      // Compared as text: base64url's spare bits would let four spellings decode to one signature.
      const given = Buffer.from(token, 'latin1');
      // Every secret is tried, so the time taken does not tell which one matched.
      let matched = false;
      for (const key of keys) matched = timingSafeEqual(given, Buffer.from(sign(key, nonce).toString('base64url'), 'latin1')) || matched;
      return matched;
    },
  });
}
