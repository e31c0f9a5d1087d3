import type { Backend } from '../core/contract.js';
import { assertCookieName, DEFAULT_COOKIE_NAME, resolveCookieOptions, type CookieOptions } from '../http/cookie-options.js';
import { resolvedCookieHeaders, VARY_COOKIE, type HeaderPair } from '../http/headers.js';
import type { CookieHeader } from '../http/read-cookie.js';
import { clear, generate, ofHeader, set, type ExpiryOptions, type HttpSession } from './http-session.js';

/** Options of {@link SessionManager}. */
export interface SessionManagerOptions {
  /** Name of the session cookie; default `sid`. */
  cookieName?: string;
}

/**
 * One per request, as ocaml-session's `Session_webmachine` manager: reads the
 * session named by the request's `Cookie` header at most once (concurrent
 * calls share the fetch), keeps it, and tells the response which headers to
 * send. Works on string values; the framework adapters build typed JSON
 * sessions on the same functions.
 */
export class SessionManager {
  /** The cookie this manager reads and writes. */
  readonly cookieName: string;
  readonly #backend: Backend;
  readonly #cookieHeader: CookieHeader;
  #fetch: Promise<HttpSession | undefined> | undefined;
  /** The session the response is about, cleared ones included (their headers expire the cookie). */
  #current: HttpSession | undefined;

  /** Throws a `TypeError` for an invalid cookie name. */
  constructor(backend: Backend, cookieHeader: CookieHeader, options: SessionManagerOptions = {}) {
    const { cookieName = DEFAULT_COOKIE_NAME } = options;
    assertCookieName(cookieName);
    this.cookieName = cookieName;
    this.#backend = backend;
    this.#cookieHeader = cookieHeader;
  }

  /**
   * The request's session, fetched once: undefined when the request has no
   * session cookie, a hostile one, or one naming no live session with a value
   * (and after {@link clear}). Rejects only on a store failure, and a later
   * call then tries again.
   */
  async session(): Promise<HttpSession | undefined> {
    this.#fetch ??= ofHeader(this.#backend, this.cookieName, this.#cookieHeader).then(
      (result) => {
        const session = result.ok ? result.session : undefined;
        this.#current ??= session;
        return session;
      },
      (error: unknown) => {
        this.#fetch = undefined;
        throw error;
      },
    );
    await this.#fetch;
    const current = this.#current;
    // A session cleared in this request stays in #current for its headers, but is no session any more.
    return current !== undefined && !(current.modified && current.expiryPeriod <= 0) ? current : undefined;
  }

  /** The request's session, or a new one holding `value` (its cookie then goes out with {@link headers}). */
  async sessionOrCreate(value: string, options: ExpiryOptions = {}): Promise<HttpSession> {
    const existing = await this.session();
    if (existing !== undefined) return existing;
    const created = await generate(this.#backend, value, options);
    this.#current = created;
    return created;
  }

  /** Stores `value` in the request's session (created when there is none) and restarts its expiry. */
  async set(value: string, options: ExpiryOptions = {}): Promise<HttpSession> {
    const existing = await this.session();
    if (existing === undefined) return this.sessionOrCreate(value, options);
    await set(this.#backend, existing, { value, expiry: options.expiry });
    return existing;
  }

  /** Removes the request's session from the store; {@link headers} then expires the cookie. No session: nothing happens. */
  async clear(): Promise<void> {
    const existing = await this.session();
    if (existing !== undefined) await clear(this.#backend, existing);
  }

  /**
   * The headers for the response: `Set-Cookie` when the session was created,
   * set or cleared in this request, and `Vary: Cookie` always. Throws a
   * `TypeError` for invalid cookie options.
   */
  headers(cookieOptions?: CookieOptions): HeaderPair[] {
    const options = resolveCookieOptions(this.cookieName, cookieOptions);
    if (this.#current === undefined) return [VARY_COOKIE];
    return resolvedCookieHeaders(this.cookieName, this.#current, options);
  }

  /** The request headers the response depends on, for `Vary`: `['Cookie']`. */
  variances(): string[] {
    return ['Cookie'];
  }
}
