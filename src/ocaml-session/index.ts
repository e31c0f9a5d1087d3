/**
 * `sessionkit/ocaml-session`: the port of ocaml-session's HTTP layer, on
 * string values.
 *
 * - `Session_cohttp`: {@link HttpSession} and `ofKey`, `ofHeader`,
 *   `ofHeaderOrCreate`, `generate`, `set`, `clear`, `toCookieHeaders`,
 *   `clearHeaders`.
 * - `Session_webmachine`'s manager: {@link SessionManager}, one per request.
 *
 * Applications on a framework use an adapter (`sessionkit/express`, …) and
 * its typed `Session` instead.
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
} from './http-session.js';
export { toCookieHeaders, clearHeaders } from './cookie-headers.js';
export { SessionManager, type SessionManagerOptions } from './session-manager.js';
export type { CookieOptions } from '../http/cookie-options.js';
export type { HeaderPair } from '../http/headers.js';
