import { clearingHeaders, cookieHeaders, VARY_COOKIE, type HeaderPair } from '../headers.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { writeExpirySeconds } from './lifetime.js';

/**
 * What the response does with the session cookie: `none` (only
 * `Vary: Cookie`), `set` (a write or renewal succeeded under `key`), or
 * `clear` (the session was destroyed or expired). The last decision of the
 * request wins: a write after `destroy()` sets the new cookie.
 */
export type CookieDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'set'; readonly key: string; readonly expirySeconds: number }
  | { readonly kind: 'clear' };

export const NO_COOKIE: CookieDecision = Object.freeze({ kind: 'none' });
export const CLEAR_COOKIE: CookieDecision = Object.freeze({ kind: 'clear' });

/** The cookie of a session just written (or renewed) under `key` for `expirySeconds`. */
export function setCookie(key: string, expirySeconds: number): CookieDecision {
  return { kind: 'set', key, expirySeconds };
}

/**
 * The headers for `decision`: `Set-Cookie` and `Cache-Control: no-store`
 * beside it when the cookie is set or cleared, `Vary: Cookie` always.
 */
export function responseHeaders(decision: CookieDecision, options: Pick<ResolvedSessionOptions, 'cookieName' | 'cookie'>): HeaderPair[] {
  const { cookieName, cookie } = options;
  switch (decision.kind) {
    case 'set':
      return cookieHeaders(cookieName, { key: decision.key, value: '', expiryPeriod: decision.expirySeconds, modified: true }, cookie);
    case 'clear':
      return clearingHeaders(cookieName, cookie);
    case 'none':
      return [VARY_COOKIE];
  }
}

/**
 * Touch throttling: whether a request that only reads should renew the
 * expiry of a session created at `createdAtMs` that has `periodSeconds`
 * left. True once a renewal would add at least `touchAfterSeconds`, so an
 * active session is written at most once per that many seconds rather than
 * on every read.
 */
export function isTouchDue(options: Parameters<typeof writeExpirySeconds>[0] & Pick<ResolvedSessionOptions, 'touchAfterSeconds'>, createdAtMs: number, periodSeconds: number): boolean {
  return writeExpirySeconds(options, createdAtMs) - periodSeconds >= options.touchAfterSeconds;
}
