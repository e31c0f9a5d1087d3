import type { SessionContext, SessionEngine } from '../../http/engine.js';
import { applySessionHeaders } from '../../http/headers.js';
import type { CookieHeader } from '../../http/read-cookie.js';

/** Where the session cookie is read from: a `Request`, its `Headers`, or the `Cookie` header's value. */
export type CookieSource = Request | Headers | CookieHeader;

/**
 * The session named by `source`'s `Cookie` header (or, with the header
 * transport on, its session header: give a `Request` or its `Headers`), for
 * frameworks that own the response (call {@link commitSession} before it is
 * sent). At most one store read, none without a well-formed key; rejects
 * only on a store failure.
 */
export function loadSession<Data extends object>(engine: SessionEngine<Data>, source: CookieSource): Promise<SessionContext<Data>> {
  return engine.load(cookieHeaderOf(source), headersOf(source));
}

/**
 * Saves the session and writes its `Set-Cookie`, `Vary: Cookie` and
 * `Cache-Control: no-store` onto `headers` (appending `Set-Cookie`, keeping a
 * `Cache-Control` already there). On rejection `headers` is untouched: send
 * the error response without them, the client keeps its old cookie. Throws a
 * `TypeError` when `headers` is immutable (a `Response` from `fetch()` or
 * `Response.redirect`): use {@link withSessionHeaders} for a whole response.
 */
export async function commitSession(context: SessionContext<object>, headers: Headers): Promise<void> {
  const pairs = await context.commit();
  applySessionHeaders(headers, pairs);
}

// By shape, not instanceof: NextRequest, undici's own classes or a polyfill are Requests from another class.
function headersOf(source: CookieSource): Headers | undefined {
  if (typeof source === 'string' || source === null || source === undefined || Array.isArray(source)) return undefined;
  return 'headers' in source ? source.headers : (source as Headers);
}

function cookieHeaderOf(source: CookieSource): CookieHeader {
  const headers = headersOf(source);
  return headers === undefined ? (source as CookieHeader) : headers.get('cookie');
}
