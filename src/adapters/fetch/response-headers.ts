import { applySessionHeaders, type HeaderPair } from '../../http/headers.js';

/**
 * `response` carrying the session headers `pairs`: the same object when its
 * headers can be changed, else a copy with the same status, headers and
 * (unread) body — the headers of a `Response` from `fetch()`,
 * `Response.redirect()` or `Response.error()` are immutable.
 */
export function withSessionHeaders(response: Response, pairs: readonly HeaderPair[]): Response {
  try {
    applySessionHeaders(response.headers, pairs);
    return response;
  } catch (error) {
    // Immutable headers throw on the first change, so nothing was applied yet.
    if (!(error instanceof TypeError)) throw error;
  }
  const copy = new Response(response.body, response);
  applySessionHeaders(copy.headers, pairs);
  return copy;
}
