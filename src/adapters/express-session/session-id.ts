import { digestKey, isWellFormedKey } from '../../core/keys.js';

/**
 * Where {@link SessionkitStore} keeps the session of express-session id
 * `sid`: the id itself when it is a well-formed key (1 to 40 base64 or
 * base64url characters, as express-session's default ids are), else a
 * well-formed key made from it, `digestKey('express-session id:' + sid)`.
 *
 * So a `genid` may return any string (a UUID with braces, a URL, `%`):
 * distinct ids stay distinct keys, since two ids meet on one key only by a
 * SHA-256 collision, and a well-formed id never lands on an encoded one's
 * key without a SHA-256 preimage. The same function is what a reader of
 * SessionkitStore's sessions (the `sessionkit/express` migration, the
 * import) uses to find one by its id.
 */
export function storeKeyOfSessionId(sid: string): string {
  return isWellFormedKey(sid) ? sid : digestKey(`express-session id:${sid}`);
}

/**
 * express-session's signed cookie value, `s:<id>.<signature>` (already
 * URL-decoded), split at its last dot; undefined for anything else. The
 * signature is not checked here: the migration checks it against the old
 * secrets, the CLI only looks the id up.
 */
export function splitSignedSessionId(value: string): { id: string; signature: string } | undefined {
  if (!value.startsWith('s:')) return undefined;
  const dot = value.lastIndexOf('.');
  if (dot <= 2) return undefined;
  return { id: value.slice(2, dot), signature: value.slice(dot + 1) };
}
