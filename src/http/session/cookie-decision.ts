import { NO_STORE, resolvedClearHeaders, resolvedCookieHeaders, VARY_COOKIE, type HeaderPair } from '../headers.js';
import type { ResolvedSessionHeader } from '../session-header.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { writeTtlSeconds } from './lifetime.js';

/**
 * What the response does with the session cookie: `none` (only
 * `Vary: Cookie`), `set` (a write or renewal succeeded under `key`), or
 * `clear` (the session was destroyed or expired). The last decision of the
 * request wins: a write after `destroy()` sets the new cookie.
 */
export type CookieDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'set'; readonly key: string; readonly maxAgeSeconds: number; readonly ownPeriod: boolean }
  | { readonly kind: 'clear' };

export const NO_COOKIE: CookieDecision = Object.freeze({ kind: 'none' });
export const CLEAR_COOKIE: CookieDecision = Object.freeze({ kind: 'clear' });

/**
 * The cookie of a session just written (or renewed) under `key` for
 * `maxAgeSeconds`; `ownPeriod` when the session has its own period
 * (`setExpirySeconds`, "remember me"), whose cookie outlives the browser even
 * under `cookie.discard`.
 */
export function setCookie(key: string, maxAgeSeconds: number, ownPeriod = false): CookieDecision {
  return { kind: 'set', key, maxAgeSeconds, ownPeriod };
}

/**
 * The headers for `decision`: `Set-Cookie` and `Cache-Control: no-store`
 * beside it when the cookie is set or cleared, `Vary: Cookie` always.
 */
export function responseHeaders(decision: CookieDecision, options: Pick<ResolvedSessionOptions, 'cookieName' | 'cookie'>): HeaderPair[] {
  const { cookieName, cookie } = options;
  switch (decision.kind) {
    case 'set': {
      const options = decision.ownPeriod && cookie.discard ? { ...cookie, discard: false } : cookie;
      return resolvedCookieHeaders(cookieName, { key: decision.key, expiryPeriod: decision.maxAgeSeconds, modified: true }, options);
    }
    case 'clear':
      return resolvedClearHeaders(cookieName, cookie);
    case 'none':
      return [VARY_COOKIE];
  }
}

/**
 * Touch throttling: whether a request that only reads should renew the
 * expiry of a session created at `createdAtMs` that has `periodSeconds`
 * left. True once a renewal would add at least `touchAfterSeconds`, so an
 * active session is written at most once per that many seconds rather than
 * on every read. `ownExpirySeconds`: the session's own period, if any.
 */
export function isTouchDue(
  options: Parameters<typeof writeTtlSeconds>[0] & Pick<ResolvedSessionOptions, 'touchAfterSeconds'>,
  createdAtMs: number,
  periodSeconds: number,
  ownExpirySeconds?: number,
): boolean {
  return writeTtlSeconds(options, createdAtMs, ownExpirySeconds) - periodSeconds >= options.touchAfterSeconds;
}

/**
 * The headers a response to a header request carries for `decision`: the
 * new key when it is not the one the request sent (a first write, a
 * regeneration), an empty value when the session ended, `Cache-Control:
 * no-store` beside either, and {@link ResolvedSessionHeader.vary} always. A
 * renewal of the same key sends no key: the client keeps what it has.
 */
export function sessionHeaderPairs(decision: CookieDecision, sentKey: string | undefined, header: ResolvedSessionHeader): HeaderPair[] {
  if (decision.kind === 'clear') return [[header.responseHeader, ''], NO_STORE, ...header.vary];
  if (decision.kind === 'set' && decision.key !== sentKey) return [[header.responseHeader, decision.key], NO_STORE, ...header.vary];
  return [...header.vary];
}
