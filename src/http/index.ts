/**
 * `sessionkit/http`: cookie headers <-> sessions, framework-agnostic.
 *
 * - ocaml-session's `Session_cohttp` on string values: {@link HttpSession} and
 *   `ofKey`, `ofHeader`, `ofHeaderOrCreate`, `generate`, `set`, `clear`,
 *   `toCookieHeaders`, `clearHeaders`.
 * - ocaml-session's `Session_webmachine` manager: {@link SessionManager}, one per request.
 * - Typed JSON sessions ({@link Session}) for adapters: {@link SessionEngine}.
 */
export {
  ofKey,
  ofHeader,
  ofHeaderOrCreate,
  generate,
  set,
  clear,
  type HttpSession,
  type SessionResult,
  type HeaderSessionResult,
  type ExpiryOptions,
  type HttpSetOptions,
} from './session.js';
export {
  toCookieHeaders,
  clearHeaders,
  applySessionHeaders,
  mergeVary,
  VARY_COOKIE,
  type HeaderPair,
  type HeaderTarget,
} from './headers.js';
export { DEFAULT_COOKIE_NAME, resolveCookieOptions, type CookieOptions, type ResolvedCookieOptions } from './cookie-options.js';
export { readSessionCookie, MAX_COOKIE_HEADER_CHARS, type CookieHeader, type SessionCookie } from './read-cookie.js';
export { SessionManager, type SessionManagerOptions } from './manager.js';
export { SessionEngine, type SessionContext } from './engine.js';
export type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionStatus } from './typed-session.js';
export { HTTP_EVENT_STORE } from './http-events.js';
export {
  DEFAULT_MAX_UPDATE_ATTEMPTS,
  DEFAULT_TOUCH_AFTER_SECONDS,
  type ResolvedSessionOptions,
  type SessionOptions,
} from './session-options.js';
export { SessionConflictError, SessionDataTooLargeError, SessionRegeneratedError } from './session-errors.js';
