/**
 * `sessionkit/http`: the engine under every adapter, for people who write an
 * adapter for another framework. It turns a request's `Cookie` header into a
 * typed {@link Session} ({@link SessionEngine}, {@link readSessionCookie}; or
 * its session header, with the `transport` option) and
 * the session back into response headers ({@link applySessionHeaders}).
 * Applications import the same `Session` types and errors from their adapter.
 */
export { SessionEngine, type SessionContext } from './engine.js';
export type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionStatus } from './typed-session.js';
export {
  DEFAULT_MAX_UPDATE_ATTEMPTS,
  DEFAULT_TOUCH_AFTER_SECONDS,
  type ResolvedSessionOptions,
  type SessionOptions,
} from './session-options.js';
export { SessionConflictError, SessionDataTooLargeError, SessionRegeneratedError } from './session-errors.js';
export { applySessionHeaders, mergeVary, VARY_COOKIE, type HeaderPair, type HeaderTarget } from './headers.js';
export { readSessionCookie, MAX_COOKIE_HEADER_CHARS, type CookieHeader, type SessionCookie } from './read-cookie.js';
export type { HeaderSource, RequestHeaders, SessionHeaderOptions, TransportOptions } from './session-header.js';
export { DEFAULT_COOKIE_NAME, resolveCookieOptions, type CookieOptions, type ResolvedCookieOptions } from './cookie-options.js';
export { HTTP_EVENT_STORE } from './http-events.js';
