/**
 * The cross-origin check every adapter runs before it loads a session: the
 * algorithm of Go 1.25's `http.CrossOriginProtection`, on the Fetch-metadata
 * header `Sec-Fetch-Site` and, for browsers without it, `Origin` against `Host`.
 */
import { headerValues, type RequestHeaders } from '../http/session-header.js';

export type { RequestHeaders } from '../http/session-header.js';

/** The `csrf` option of every adapter: protection settings, or `false` to turn the check off. */
export interface CsrfOptions {
  /**
   * Origins (`scheme://host[:port]`, exactly as a browser sends `Origin`) whose
   * cross-origin requests are allowed: the front ends of a cross-origin API.
   * Default: none. Each must be a bare origin (no path, query, fragment or
   * credentials), or creating the middleware throws a `TypeError`.
   */
  trustedOrigins?: readonly string[];
}

/** Mixed into every adapter's options, so the option has the same shape everywhere. */
export interface CsrfProtectionOption {
  /**
   * Refuses cross-origin browser requests with unsafe methods (anything but
   * GET, HEAD and OPTIONS) with a 403, before the session is loaded. Default
   * on, with no trusted origins; `false` turns it off (for an API whose
   * cross-origin callers are not listed in `trustedOrigins`, or an
   * application that runs its own check).
   */
  csrf?: CsrfOptions | false;
}

/** Why a request was refused. */
export type CsrfRefusalReason =
  /** `Sec-Fetch-Site` is `cross-site` or `same-site` (or unknown) and `Origin` is not trusted. */
  | 'cross-site'
  /** No `Sec-Fetch-Site`, and `Origin` names another host than `Host` and is not trusted. */
  | 'origin-mismatch';

/** A refused request: answer `status` with `body` as `text/plain`, and load no session. */
export interface CsrfRefusal {
  readonly allowed: false;
  readonly reason: CsrfRefusalReason;
  readonly status: 403;
  readonly body: string;
}

/** The guard's answer for one request. */
export type CsrfVerdict = { readonly allowed: true } | CsrfRefusal;

/**
 * Checks one request: `method` as received and its headers. A third argument
 * gives the request's host when the headers lack `Host` (a Fetch `Request`
 * whose host is only in its URL). Never throws.
 */
export type CrossOriginGuard = (method: string | undefined, headers: RequestHeaders, requestHost?: string) => CsrfVerdict;

/** Content type of a refusal's body. */
export const CSRF_REFUSAL_CONTENT_TYPE = 'text/plain; charset=utf-8';

const ALLOWED: CsrfVerdict = Object.freeze({ allowed: true });
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const refusal = (reason: CsrfRefusalReason, detail: string): CsrfRefusal =>
  Object.freeze({ allowed: false, reason, status: 403, body: `Forbidden: cross-origin request refused (CSRF protection): ${detail}\n` });
const CROSS_SITE = refusal('cross-site', 'Sec-Fetch-Site says the request comes from another site');
const ORIGIN_MISMATCH = refusal('origin-mismatch', 'Origin does not match Host (and the browser sent no Sec-Fetch-Site)');

/**
 * Resolves the `csrf` option once, at setup: `undefined` (the default) and
 * an options object give the check, `false` a guard that allows everything.
 * Throws a `TypeError` for anything else or a bad trusted origin.
 *
 * The check (for unsafe methods only; GET, HEAD and OPTIONS always pass):
 * `Sec-Fetch-Site: same-origin` or `none` (typed in the address bar) passes;
 * any other value passes only when `Origin` is trusted. Without
 * `Sec-Fetch-Site` (browsers before 2023), `Origin` must name the request's
 * `Host` (host and port; the scheme is not compared, as `Host` has none) or be
 * trusted. A request with neither header passes: it does not come from a
 * browser, so it carries no cookie a victim's browser attached.
 *
 * `carriesSessionHeader` (an adapter passes `SessionEngine.carriesSessionHeader`)
 * lets a request that would be refused pass when it carries the session
 * header: a browser never attaches that header cross-site on its own (a page
 * can add it only through a CORS preflight the server allowed), and such a
 * request is read by its header alone, so a cookie it also carries is never
 * used.
 */
export function crossOriginGuard(option?: CsrfOptions | false, carriesSessionHeader?: (headers: RequestHeaders) => boolean): CrossOriginGuard {
  if (option === false) return () => ALLOWED;
  if (option === undefined) option = {};
  if (typeof option !== 'object' || option === null || Array.isArray(option)) throw new TypeError('csrf must be an object ({ trustedOrigins }) or false');
  const trusted = resolveTrustedOrigins(option.trustedOrigins);
  // Asked only for a request about to be refused, so the requests that pass pay nothing for it.
  const refuse = carriesSessionHeader === undefined ? (refusal: CsrfRefusal) => refusal : (refusal: CsrfRefusal, headers: RequestHeaders) => (carriesSessionHeader(headers) ? ALLOWED : refusal);

  return (method, headers, requestHost) => {
    if (method !== undefined && SAFE_METHODS.has(method)) return ALLOWED;
    const site = headerValue(headers, 'sec-fetch-site');
    const origin = headerValue(headers, 'origin');
    if (site !== undefined) {
      if (site === 'same-origin' || site === 'none') return ALLOWED;
      return origin !== undefined && trusted.has(origin) ? ALLOWED : refuse(CROSS_SITE, headers);
    }
    // Neither header: a same-origin request of an old browser, or no browser at all.
    if (origin === undefined) return ALLOWED;
    const host = requestHost ?? headerValue(headers, 'host') ?? headerValue(headers, ':authority');
    if (host !== undefined && originAuthority(origin) === host.toLowerCase()) return ALLOWED;
    return trusted.has(origin) ? ALLOWED : refuse(ORIGIN_MISMATCH, headers);
  };
}

/** One header as a single string, or undefined when absent or empty; repeated values are joined (and then match nothing). */
function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headerValues(headers, name)?.join(', ');
  return value === '' ? undefined : value;
}

/** The `host[:port]` of an `Origin` value, lower-cased, or undefined for anything else (`null` included). */
function originAuthority(origin: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@\s]+)$/i.exec(origin);
  return match?.[1]?.toLowerCase();
}

function resolveTrustedOrigins(origins: unknown): ReadonlySet<string> {
  if (origins === undefined) return new Set();
  if (!Array.isArray(origins)) throw new TypeError('csrf.trustedOrigins must be an array of origins');
  return new Set(
    origins.map((origin: unknown) => {
      if (typeof origin !== 'string') throw new TypeError('csrf.trustedOrigins must hold strings');
      let url: URL;
      try {
        url = new URL(origin);
      } catch {
        throw new TypeError(`csrf.trustedOrigins: ${JSON.stringify(origin)} is not an origin (scheme://host[:port])`);
      }
      const bare = url.origin !== 'null' && url.username === '' && url.password === '' && url.search === '' && url.hash === '' && url.pathname === '/';
      if (!bare || !/^[a-z][a-z0-9+.-]*:\/\/[^/]+\/?$/i.test(origin)) {
        throw new TypeError(`csrf.trustedOrigins: ${JSON.stringify(origin)} is not a bare origin (scheme://host[:port], nothing after it)`);
      }
      // Browsers send the serialized form (lower case, no default port); compare with that.
      return url.origin;
    }),
  );
}
