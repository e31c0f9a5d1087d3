import { stringifySetCookie } from 'cookie';

/** The cookie name used when none is given: `sid`. */
export const DEFAULT_COOKIE_NAME = 'sid';

/**
 * Attributes of the session cookie. Defaults: `Path=/`, `HttpOnly`,
 * `SameSite=Lax`, no `Domain` (host-only), not `Secure`, not `Partitioned`,
 * persistent (`Max-Age` = the session's period).
 *
 * A name starting with `__Host-` forces `Secure`, `Path=/` and no `Domain`;
 * `__Secure-` forces `Secure`. Setting an option that contradicts the prefix is
 * a `TypeError`, as are `sameSite: 'none'` or `partitioned: true` without
 * `Secure` (browsers drop such cookies silently).
 */
export interface CookieOptions {
  /** Omit `Max-Age`: the browser forgets the cookie when it closes (the server-side expiry still applies). Default `false`. */
  discard?: boolean;
  /** `Path` attribute; must start with `/`. Default `/`. */
  path?: string;
  /** `Domain` attribute; default none (the cookie goes back to this host only). */
  domain?: string;
  /** `Secure` attribute: sent over HTTPS only. Default `false`, forced `true` by a `__Host-` or `__Secure-` name. */
  secure?: boolean;
  /** `HttpOnly` attribute: invisible to `document.cookie`. Default `true`. */
  httpOnly?: boolean;
  /** `SameSite` attribute. Default `'lax'`. */
  sameSite?: 'lax' | 'strict' | 'none';
  /** `Partitioned` attribute (CHIPS); needs `secure`. Default `false`. */
  partitioned?: boolean;
}

/** {@link CookieOptions} after defaults and prefix rules: every field decided. */
export interface ResolvedCookieOptions {
  readonly discard: boolean;
  readonly path: string;
  readonly domain: string | undefined;
  readonly secure: boolean;
  readonly httpOnly: boolean;
  readonly sameSite: 'lax' | 'strict' | 'none';
  readonly partitioned: boolean;
}

// RFC 6265 cookie-name = token (RFC 7230 tchar); stricter than what `cookie` accepts on purpose.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SAME_SITE: ReadonlySet<unknown> = new Set(['lax', 'strict', 'none']);

function optionalBoolean(options: Record<string, unknown>, name: string): boolean | undefined {
  const value = options[name];
  if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`cookie option ${name} must be a boolean, got ${typeof value}`);
  return value;
}

/** Throws a `TypeError` unless `cookieName` is a valid cookie name (an RFC 6265 token). */
export function assertCookieName(cookieName: unknown): asserts cookieName is string {
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) {
    throw new TypeError(`cookie name must be a non-empty RFC 6265 token, got ${JSON.stringify(cookieName)}`);
  }
}

/**
 * Applies defaults and the `__Host-` / `__Secure-` rules to `options` for a
 * cookie called `cookieName`, and checks every attribute's syntax with the
 * `cookie` package. Throws a `TypeError` for any invalid or conflicting option;
 * never mutates `options`.
 */
export function resolveCookieOptions(cookieName: string, options: CookieOptions = {}): ResolvedCookieOptions {
  assertCookieName(cookieName);
  if (typeof options !== 'object' || options === null) throw new TypeError('cookie options must be an object');
  const raw = options as Record<string, unknown>;
  const discard = optionalBoolean(raw, 'discard') ?? false;
  const httpOnly = optionalBoolean(raw, 'httpOnly') ?? true;
  const partitioned = optionalBoolean(raw, 'partitioned') ?? false;
  let secure = optionalBoolean(raw, 'secure');
  let { path, domain } = raw;
  const { sameSite = 'lax' } = raw;

  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) {
    throw new TypeError(`cookie option path must be a string starting with "/", got ${JSON.stringify(path)}`);
  }
  if (domain !== undefined && (typeof domain !== 'string' || domain === '')) {
    throw new TypeError(`cookie option domain must be a non-empty string, got ${JSON.stringify(domain)}`);
  }
  if (!SAME_SITE.has(sameSite)) throw new TypeError(`cookie option sameSite must be 'lax', 'strict' or 'none', got ${JSON.stringify(sameSite)}`);

  const lowerName = cookieName.toLowerCase();
  if (lowerName.startsWith('__host-')) {
    if (secure === false) throw new TypeError(`a __Host- cookie must be Secure; remove secure: false`);
    if (path !== undefined && path !== '/') throw new TypeError(`a __Host- cookie must have Path=/, got ${JSON.stringify(path)}`);
    if (domain !== undefined) throw new TypeError('a __Host- cookie must not have a Domain');
    secure = true;
    path = '/';
  } else if (lowerName.startsWith('__secure-')) {
    if (secure === false) throw new TypeError(`a __Secure- cookie must be Secure; remove secure: false`);
    secure = true;
  }
  secure ??= false;
  if (sameSite === 'none' && !secure) throw new TypeError("sameSite: 'none' needs secure: true (browsers reject it otherwise)");
  if (partitioned && !secure) throw new TypeError('partitioned: true needs secure: true (browsers reject it otherwise)');

  const resolved: ResolvedCookieOptions = Object.freeze({
    discard,
    path: (path as string | undefined) ?? '/',
    domain: domain as string | undefined,
    secure,
    httpOnly,
    sameSite: sameSite as ResolvedCookieOptions['sameSite'],
    partitioned,
  });
  // The cookie package owns the attribute grammar: a trial run rejects a bad domain or path now.
  serializeCookie(cookieName, 'x', 0, resolved);
  return resolved;
}

/**
 * One `Set-Cookie` value. `maxAgeSeconds` undefined means a browser-session
 * cookie; a negative age is sent as 0.
 */
export function serializeCookie(cookieName: string, value: string, maxAgeSeconds: number | undefined, options: ResolvedCookieOptions): string {
  const maxAge = maxAgeSeconds === undefined ? undefined : Math.max(0, Math.trunc(maxAgeSeconds));
  if (!isVerbatimValue(value) || (maxAge !== undefined && !Number.isSafeInteger(maxAge))) return stringifyWithPackage(cookieName, value, maxAge, options);
  // The `cookie` package writes `name=value`, then `; Max-Age=n`, then the attributes, which are
  // fixed for one name and options: they are made by the package once and reused, since a cookie
  // is written on every request that saves a session.
  const maxAgeText = maxAge === undefined ? '' : `; Max-Age=${maxAge}`;
  return `${cookieName}=${value}${maxAgeText}${attributesOf(cookieName, options)}`;
}

function stringifyWithPackage(cookieName: string, value: string, maxAge: number | undefined, options: ResolvedCookieOptions): string {
  return stringifySetCookie({
    name: cookieName,
    value,
    maxAge,
    path: options.path,
    domain: options.domain,
    secure: options.secure,
    httpOnly: options.httpOnly,
    sameSite: options.sameSite,
    partitioned: options.partitioned,
  });
}

/** Per resolved options (made once per middleware), the attribute text after `Max-Age` for the last cookie name used with them. */
const attributeCache = new WeakMap<ResolvedCookieOptions, { readonly cookieName: string; readonly attributes: string }>();

function attributesOf(cookieName: string, options: ResolvedCookieOptions): string {
  // Only options that cannot change afterwards (what resolveCookieOptions returns) are remembered.
  if (!Object.isFrozen(options)) return stringifyWithPackage(cookieName, '', undefined, options).slice(cookieName.length + 1);
  const cached = attributeCache.get(options);
  if (cached !== undefined && cached.cookieName === cookieName) return cached.attributes;
  // With an empty value and no Max-Age the package writes `name=` and then exactly the attributes.
  const attributes = stringifyWithPackage(cookieName, '', undefined, options).slice(cookieName.length + 1);
  attributeCache.set(options, { cookieName, attributes });
  return attributes;
}

/** What `encodeURIComponent` leaves as it is and a cookie value may hold: base64url, which keys are. */
const VERBATIM = /^[-A-Za-z0-9_]*$/;

/**
 * Whether the `cookie` package would write `value` unchanged (its default encoding is `encodeURIComponent`).
 * A regular expression, not a loop over `charCodeAt`: keys come as strings of several representations
 * (a slice of the Cookie header, a fresh base64url text), and V8's optimized loop then loaded `charCodeAt`
 * through a generic inline cache for each character (callgrind, Redis counter app: 40 calls a request).
 */
function isVerbatimValue(value: string): boolean {
  return VERBATIM.test(value);
}
