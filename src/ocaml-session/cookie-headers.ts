import { resolveCookieOptions, type CookieOptions } from '../http/cookie-options.js';
import { resolvedClearHeaders, resolvedCookieHeaders, type HeaderPair } from '../http/headers.js';
import type { HttpSession } from './http-session.js';

/**
 * The response headers for `session`, as ocaml-session's `to_cookie_hdrs`:
 * `Set-Cookie` only when `session.modified`, with `Max-Age` = its
 * `expiryPeriod` (none with `discard`, making a browser-session cookie) — a
 * cleared session (`expiryPeriod <= 0`) gets an empty value and `Max-Age=0`;
 * `Cache-Control: no-store` beside any `Set-Cookie` (apply it only when the
 * response has no `Cache-Control` yet: `applySessionHeaders` of sessionkit/http does); and
 * `Vary: Cookie` always. Throws a `TypeError` for invalid options.
 */
export function toCookieHeaders(cookieName: string, session: HttpSession, options?: CookieOptions): HeaderPair[] {
  return resolvedCookieHeaders(cookieName, session, resolveCookieOptions(cookieName, options));
}

/**
 * Headers that make the browser drop the cookie `cookieName` (`Max-Age=0`,
 * empty value), plus `Cache-Control: no-store` and `Vary: Cookie`. Pass the
 * same `path` and `domain` the cookie was set with (and `secure`/`partitioned`
 * for cookies that had them), or the browser keeps it. Throws a `TypeError`
 * for invalid options.
 */
export function clearHeaders(cookieName: string, options?: Omit<CookieOptions, 'discard'>): HeaderPair[] {
  return resolvedClearHeaders(cookieName, resolveCookieOptions(cookieName, options));
}
