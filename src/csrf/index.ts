/**
 * `sessionkit/csrf`: protection against cross-site request forgery.
 *
 * - Every adapter refuses cross-origin browser requests with unsafe methods
 *   by default (the `csrf` option, {@link crossOriginGuard}); a new adapter
 *   calls the same guard before it loads the session.
 * - Form tokens on top of it, one of two:
 *   {@link signedCsrfTokens}: a signed double-submit token bound to a small
 *   nonce cookie, which stores nothing on the server (forms for visitors
 *   without a session);
 *   {@link csrfToken} / {@link verifyCsrfToken}: a synchronizer token kept in
 *   the session, which creates a stored session for every visitor it serves.
 *
 * ```ts
 * app.get('/form', (c) => c.html(`<form method="post"><input type="hidden" name="csrf" value="${csrfToken(c.var.session)}">…</form>`));
 * app.post('/form', async (c) => {
 *   if (!verifyCsrfToken(c.var.session, (await c.req.parseBody()).csrf)) return c.text('bad CSRF token', 403);
 *   …
 * });
 * ```
 */
export {
  crossOriginGuard,
  CSRF_REFUSAL_CONTENT_TYPE,
  type CrossOriginGuard,
  type CsrfOptions,
  type CsrfProtectionOption,
  type CsrfRefusal,
  type CsrfRefusalReason,
  type CsrfVerdict,
  type RequestHeaders,
} from './cross-origin-guard.js';
export { csrfToken, verifyCsrfToken, CSRF_TOKEN_FIELD } from './token.js';
export {
  signedCsrfTokens,
  DEFAULT_CSRF_COOKIE_NAME,
  MIN_CSRF_SECRET_BYTES,
  type IssuedCsrfToken,
  type SignedCsrfTokenOptions,
  type SignedCsrfTokens,
} from './signed-token.js';
