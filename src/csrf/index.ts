/**
 * `sessionkit/csrf`: protection against cross-site request forgery.
 *
 * - Every adapter refuses cross-origin browser requests with unsafe methods
 *   by default (the `csrf` option, {@link crossOriginGuard}); a new adapter
 *   calls the same guard before it loads the session.
 * - {@link csrfToken} / {@link verifyCsrfToken}: a per-session synchronizer
 *   token for forms, on top of it.
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
