/**
 * The session field that holds flash messages: `{ [type]: message[] }`, the
 * field and shape connect-flash keeps in `req.session.flash`, so a session
 * carried over from a connect-flash app keeps its pending messages.
 */
export const FLASH_FIELD = 'flash';

/** Flash messages by type, as stored in {@link FLASH_FIELD}. */
export type FlashMessages = Record<string, unknown[]>;

/**
 * The messages held in a stored `flash` field, copied: a value that is not an
 * object holds none, and a type whose messages are not an array is left out
 * (data written under that name by something else never throws here).
 */
export function flashMessagesOf(stored: unknown): FlashMessages {
  const messages: FlashMessages = {};
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return messages;
  for (const [type, list] of Object.entries(stored)) if (Array.isArray(list)) putMessages(messages, type, structuredClone(list));
  return messages;
}

/** `messages[type] = list`, as an own field even for a type named `__proto__`. */
function putMessages(messages: FlashMessages, type: string, list: unknown[]): unknown[] {
  Object.defineProperty(messages, type, { value: list, enumerable: true, writable: true, configurable: true });
  return list;
}

/** Throws a `TypeError` unless `type` is a non-empty string (a flash type from untyped code). */
export function assertFlashType(type: unknown, operation: string): asserts type is string {
  if (typeof type !== 'string' || type.length === 0) throw new TypeError(`${operation} type must be a non-empty string, got ${typeof type === 'string' ? 'an empty string' : typeof type}`);
}

/** What the `flash` field becomes once `messages` is all that is left: removed when empty, so a read-out session stores nothing for it. */
export function flashFieldValue(messages: FlashMessages): FlashMessages | undefined {
  return Object.keys(messages).length === 0 ? undefined : messages;
}

/** The part of a typed session the flash functions use. */
interface FieldAccess {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  unset(name: string): void;
}

/**
 * `Session.flash`: adds `added` to the messages of `type` in one write, saved
 * with the response; the number of messages of `type` now (nothing written
 * when `added` is empty).
 */
export function pushFlash(session: FieldAccess, type: unknown, added: readonly unknown[]): number {
  assertFlashType(type, 'flash()');
  if (added.includes(undefined)) throw new TypeError('flash() message must be a value JSON can hold, got undefined');
  const messages = flashMessagesOf(session.get(FLASH_FIELD));
  const list = Object.hasOwn(messages, type) ? messages[type]! : putMessages(messages, type, []);
  if (added.length === 0) return list.length;
  list.push(...added);
  // set copies through JSON and checks the size: messages it refuses leave the stored ones as they were.
  session.set(FLASH_FIELD, messages);
  return list.length;
}

/**
 * `Session.takeFlash`: the messages of `type` (or all, by type), removed
 * from the session with the response. Writes nothing when there was nothing
 * to take, so reading an empty flash never creates a session.
 */
export function takeFlashFrom(session: FieldAccess, type: unknown): unknown[] | FlashMessages {
  if (type !== undefined) assertFlashType(type, 'takeFlash()');
  const stored = session.get(FLASH_FIELD);
  const messages = flashMessagesOf(stored);
  if (type === undefined) {
    if (stored !== undefined) session.unset(FLASH_FIELD);
    return messages;
  }
  if (!Object.hasOwn(messages, type)) return [];
  const taken = messages[type]!;
  delete messages[type];
  const rest = flashFieldValue(messages);
  if (rest === undefined) session.unset(FLASH_FIELD);
  else session.set(FLASH_FIELD, rest);
  return taken;
}
