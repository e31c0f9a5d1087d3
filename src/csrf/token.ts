/**
 * The synchronizer token for forms: one random token per session, kept in a
 * reserved field of the session's data, put in each form and compared on
 * submission.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Session } from '../http/typed-session.js';

/**
 * The session field that holds the token. Reserved: an application must not
 * use this name for its own data. It shows in `session.data` (it is a field
 * like any other, moved by `regenerate()` and removed by `destroy()`).
 */
export const CSRF_TOKEN_FIELD = 'sessionkit.csrf';

/** A token is 32 random bytes (256 bits) as 43 base64url characters. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

type AnySession = Session<Record<string, unknown>>;

/**
 * This session's CSRF token, for a hidden form field or a header. The first
 * call stores a new random token in the session ({@link CSRF_TOKEN_FIELD}),
 * which creates the session when the request has none, so the response
 * carries the cookie the form's submission needs; later calls return the same
 * token. A value in that field that is not a token this function made is
 * replaced.
 */
export function csrfToken<Data extends object>(session: Session<Data>): string {
  const typed = session as unknown as AnySession;
  const stored = typed.get(CSRF_TOKEN_FIELD);
  if (typeof stored === 'string' && TOKEN_SHAPE.test(stored)) return stored;
  const token = randomBytes(32).toString('base64url');
  typed.set(CSRF_TOKEN_FIELD, token);
  return token;
}

/**
 * True when `token` (what the form or header brought; anything, checked here)
 * is this session's CSRF token, compared in constant time. False when the
 * session has no token (a request without a session, or one whose session
 * expired since the form was served), and for a missing or malformed `token`.
 * Never creates a token.
 */
export function verifyCsrfToken<Data extends object>(session: Session<Data>, token: unknown): boolean {
  const stored = (session as unknown as AnySession).get(CSRF_TOKEN_FIELD);
  if (typeof stored !== 'string' || !TOKEN_SHAPE.test(stored)) return false;
  if (typeof token !== 'string' || token.length !== stored.length) return false;
  return timingSafeEqual(Buffer.from(token, 'utf8'), Buffer.from(stored, 'utf8'));
}
