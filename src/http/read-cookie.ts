import { parseCookie } from 'cookie';
import { isWellFormedKey } from '../core/keys.js';

/** A `Cookie` header as frameworks hand it over: node gives a string, `Headers.get` a string or null. */
export type CookieHeader = string | readonly string[] | null | undefined;

/**
 * Longest `Cookie` header read, in characters (node's default limit for all
 * headers together is 16 KiB). A longer header is treated as carrying no session.
 */
export const MAX_COOKIE_HEADER_CHARS = 16_384;

/**
 * What the `Cookie` header says about the session cookie: `absent` (no cookie
 * of that name), `invalid` (present but unusable: malformed, duplicated with
 * different values, oversized, non-ASCII) or the key it carries. The session
 * header (`transport.header`) is read into the same three answers.
 */
export type SessionCookie = { readonly kind: 'absent' } | { readonly kind: 'invalid' } | { readonly kind: 'key'; readonly key: string };

/** The request presents no key (shared: never mutate). */
export const ABSENT_KEY: SessionCookie = Object.freeze({ kind: 'absent' });
/** The request presents a key it cannot use (shared: never mutate). */
export const INVALID_KEY: SessionCookie = Object.freeze({ kind: 'invalid' });

// Keys are base64url; percent-decoding would only let `%41` stand for `A`.
const verbatim = (value: string): string => value;
/** The parse options, made once: every request reads its cookie with them. */
const VERBATIM = { decode: verbatim };

/**
 * Reads the session key from a `Cookie` header; never throws. The same name
 * sent twice with different values (cookie tossing from a sibling subdomain or
 * another path) is `invalid`, so an injected cookie cannot pick the session.
 * Only a well-formed key (1–40 base64url characters) comes back as `key`.
 */
export function readSessionCookie(header: CookieHeader, cookieName: string): SessionCookie {
  try {
    const text = typeof header === 'string' ? header : Array.isArray(header) ? header.join('; ') : undefined;
    if (text === undefined || text.length === 0) return ABSENT_KEY;
    if (text.length > MAX_COOKIE_HEADER_CHARS) return INVALID_KEY;
    const value = parseCookie(text, VERBATIM)[cookieName];
    if (value === undefined) return ABSENT_KEY;
    if (!isWellFormedKey(value)) return INVALID_KEY;
    if (hasConflictingDuplicate(text, cookieName, value)) return INVALID_KEY;
    return { kind: 'key', key: value };
  } catch {
    return INVALID_KEY;
  }
}

/** True when `cookieName` appears again in `text` with a value other than `first`. */
function hasConflictingDuplicate(text: string, cookieName: string, first: string): boolean {
  // Fast path: the name occurs once, so there is no duplicate to look at.
  const at = text.indexOf(cookieName);
  if (text.indexOf(cookieName, at + cookieName.length) === -1) return false;
  for (const pair of text.split(';')) {
    const value = parseCookie(pair, VERBATIM)[cookieName];
    if (value !== undefined && value !== first) return true;
  }
  return false;
}
