import { format } from 'node:util';
import { assertFlashType, FLASH_FIELD, flashMessagesOf } from '../../http/flash.js';
import type { Session } from '../../http/typed-session.js';

/**
 * connect-flash's `req.flash`, on the typed session (the messages in the
 * field `flash`, as connect-flash keeps them):
 * - `req.flash(type, message)` adds `message` and returns the number of
 *   messages of `type`; an array adds each of its items; more arguments are
 *   formatted first with `util.format(message, ...args)`;
 * - `req.flash(type)` returns the messages of `type` (`[]` for none) and
 *   removes them;
 * - `req.flash()` returns every message by type (`{}` for none) and removes
 *   them all.
 *
 * As in connect-flash, a falsy `message` (`''`, `0`, `null`) reads `type`
 * rather than adding, and a falsy `type` reads all. Unlike it, the field is
 * removed once empty (connect-flash leaves `{}`), so a read never creates a
 * session. Throws a `TypeError` for a `type` that is neither falsy nor a
 * string, or a message JSON cannot hold.
 */
export function connectFlash(session: Session, args: readonly unknown[]): number | unknown[] | Record<string, unknown[]> {
  const [type, message, ...rest] = args;
  if (!type) return session.takeFlash();
  if (!message) return session.takeFlash(type as string);
  if (rest.length > 0) return session.flash(type as string, format(message, ...rest));
  if (!Array.isArray(message)) return session.flash(type as string, message);
  assertFlashType(type, 'req.flash()');
  let count = flashMessagesOf(session.get(FLASH_FIELD))[type]?.length ?? 0;
  for (const item of message as unknown[]) count = session.flash(type, item);
  return count;
}
