import { isWellFormedKey } from '../core/keys.js';
import { VARY_COOKIE, type HeaderPair } from './headers.js';
import { ABSENT_KEY, INVALID_KEY, type SessionCookie } from './read-cookie.js';

/**
 * The header transport: the session key in a request header, for API and
 * mobile clients that keep no cookies (Spring Session's `X-Auth-Token`, Go
 * scs's token mode, better-auth's bearer plugin).
 */
export interface SessionHeaderOptions {
  /**
   * The request header that carries the key. `'Authorization'` (the default)
   * reads `Authorization: Bearer <key>`; any other name (`X-Session-Token`,
   * Spring Session's `X-Auth-Token`) carries the bare key.
   */
  requestHeader?: string;
  /**
   * The response header that carries a new key (after the first write, a
   * login or any `regenerate()`), and an empty value once the session ended.
   * Default: the request header's own name, as Spring Session and scs do, or
   * `Set-Auth-Token` (better-auth's name) with `Authorization`.
   */
  responseHeader?: string;
}

/** The `transport` option: which ways the session key travels. */
export interface TransportOptions {
  /** The session cookie (`cookieName`, `cookie`); default true. `false` with `cookieName` or `cookie` given is a `TypeError`. */
  cookie?: boolean;
  /** The header transport; default off. `true`: `Authorization: Bearer` in, `Set-Auth-Token` out. */
  header?: boolean | SessionHeaderOptions;
}

/** {@link SessionHeaderOptions} checked, with the pairs every response of a header request shares. */
export interface ResolvedSessionHeader {
  /** Lower case, as node's header record keys it and every `get` accepts it. */
  readonly requestHeader: string;
  readonly responseHeader: string;
  /** True when the request header is `Authorization`, read as `Bearer <key>`. */
  readonly bearer: boolean;
  /** `Vary` on the request header: every response of an application with the header transport on, a cookie request's too. */
  readonly varyOnHeader: HeaderPair;
  /** What a header request's response varies on: the request header, and `Cookie` when the cookie is on too. */
  readonly vary: readonly HeaderPair[];
}

/** A request's headers as a framework has them: a Fetch `Headers` (or anything with `get`) or node's header record (lower-case names). */
export type RequestHeaders =
  | { get(name: string): string | readonly string[] | null | undefined }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Where the session header is read: {@link RequestHeaders}, or a request
 * that has them (a Fetch `Request`; node's `IncomingMessage`, whose
 * `headersDistinct` keeps a second `Authorization` that its `headers`
 * record drops).
 */
export type HeaderSource =
  | RequestHeaders
  | { readonly headers: RequestHeaders; readonly headersDistinct?: Readonly<Record<string, readonly string[] | undefined>> };

const DEFAULT_REQUEST_HEADER = 'Authorization';
/** better-auth's bearer plugin answers a new session with this header: the one precedent for a bearer session key in JavaScript. */
const DEFAULT_BEARER_RESPONSE_HEADER = 'Set-Auth-Token';
/** RFC 9110's `token`: what a field name may be. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Names sessionkit writes or reads for its own purposes: carrying a key in one would clash with them. */
const RESERVED_NAMES = new Set(['cookie', 'set-cookie', 'vary', 'cache-control']);

/** Checks the `transport` option's `header` once, at setup; undefined when the header transport is off. */
export function resolveSessionHeader(option: TransportOptions['header'], cookieOn: boolean): ResolvedSessionHeader | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null)) throw new TypeError('transport.header must be true, false or { requestHeader?, responseHeader? }');
  const { requestHeader = DEFAULT_REQUEST_HEADER, responseHeader, ...unknown } = option === true ? {} : option;
  const extra = Object.keys(unknown);
  if (extra.length > 0) throw new TypeError(`unknown transport.header option ${JSON.stringify(extra[0])}; known: requestHeader, responseHeader`);
  fieldName(requestHeader, 'transport.header.requestHeader');
  const bearer = requestHeader.toLowerCase() === 'authorization';
  const response = responseHeader ?? (bearer ? DEFAULT_BEARER_RESPONSE_HEADER : requestHeader);
  fieldName(response, 'transport.header.responseHeader');
  if (response.toLowerCase() === 'authorization') throw new TypeError('transport.header.responseHeader cannot be Authorization, a request header; give another name');
  const varyOnHeader: HeaderPair = ['Vary', bearer ? DEFAULT_REQUEST_HEADER : requestHeader];
  const vary = Object.freeze(cookieOn ? [VARY_COOKIE, varyOnHeader] : [varyOnHeader]);
  return Object.freeze({ requestHeader: requestHeader.toLowerCase(), responseHeader: response, bearer, varyOnHeader, vary });
}

function fieldName(name: unknown, option: string): void {
  if (typeof name !== 'string' || !FIELD_NAME.test(name)) throw new TypeError(`${option} must be a header name (letters, digits and !#$%&'*+.^_\`|~-), got ${JSON.stringify(name)}`);
  if (RESERVED_NAMES.has(name.toLowerCase())) throw new TypeError(`${option} cannot be ${name}: sessionkit uses that header itself`);
}

/**
 * What a request's session header says, with the cookie reader's three
 * answers; never throws. `absent`: no such header, or an `Authorization` of
 * another scheme (`Basic`, which a browser attaches by itself: the request
 * is then a cookie request). `invalid`: the header is there but names no
 * key: empty, `Bearer` without a key, a malformed or over-long key, or the
 * header sent twice. Only a well-formed key comes back as `key`.
 */
export function readSessionHeader(headers: HeaderSource | undefined, header: ResolvedSessionHeader): SessionCookie {
  const values = headers === undefined ? undefined : headerValues(headers, header.requestHeader);
  if (values === undefined) return ABSENT_KEY;
  let value = values[0] ?? '';
  if (header.bearer) {
    if (!isBearer(value)) return ABSENT_KEY;
    value = value.slice(BEARER_LENGTH).trim();
  }
  // Several values: node's `headersDistinct` lists them; a Fetch `Headers` joins them with a comma, which no key holds.
  if (values.length !== 1 || !isWellFormedKey(value)) return INVALID_KEY;
  return { kind: 'key', key: value };
}

const BEARER_LENGTH = 'bearer'.length;

/** RFC 9110: the scheme is case-insensitive and followed by a space, or ends the value. */
function isBearer(value: string): boolean {
  return value.length >= BEARER_LENGTH && value.slice(0, BEARER_LENGTH).toLowerCase() === 'bearer' && (value.length === BEARER_LENGTH || value[BEARER_LENGTH] === ' ');
}

/** The values of `name` (lower case) in any {@link HeaderSource}, or undefined when absent. */
export function headerValues(source: HeaderSource, name: string): readonly string[] | undefined {
  const { headersDistinct, headers, get } = source as { headersDistinct?: unknown; headers?: unknown; get?: unknown };
  let raw: unknown;
  // `headersDistinct` first: Express's request has a `get` too, which reads node's record (one Authorization).
  if (typeof headersDistinct === 'object' && headersDistinct !== null) raw = (headersDistinct as Record<string, unknown>)[name];
  // A request without it (a Fetch `Request`, Fastify's injected requests): its headers.
  else if (typeof headers === 'object' && headers !== null) return headerValues(headers as RequestHeaders, name);
  else if (typeof get === 'function') raw = (get as (name: string) => unknown).call(source, name);
  else raw = (source as Record<string, unknown>)[name];
  if (typeof raw === 'string') return [raw];
  return Array.isArray(raw) && raw.length > 0 && raw.every((value) => typeof value === 'string') ? (raw as string[]) : undefined;
}
