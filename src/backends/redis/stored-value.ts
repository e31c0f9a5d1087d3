import { digestKey } from '../../core/keys.js';

/**
 * How a session is stored: one Redis string per session, whose TTL is the
 * session's expiry. The string starts with that same expiry instant (Redis
 * server time, in milliseconds since the epoch, as decimal digits), then holds
 * nothing for a session without a value ("not set") or `=` followed by the
 * value. So one GET tells the three states apart and gives the seconds left
 * without a second command, and compare-and-set compares what follows the
 * digits.
 *
 * A session made with an owner has an owner head between the instant and the
 * value: `@` + the owner's tag (see {@link ownerTag}) + `@` + the instant (same
 * clock) up to which its owner's set is known to live ("covered"). Neither part
 * holds `=`, so the first `=` still starts the value, and strings written
 * before owners existed read as they always did.
 */
export const VALUE_MARKER = '=';

/** Encodes a value for storage, without the expiry instant the script puts in front; `null` means "not set". */
export function encodeValue(value: string | null): string {
  return value === null ? '' : VALUE_MARKER + value;
}

/** A stored string, decoded: the expiry instant (server ms), the value (`null`: not set) and the owner's tag, if any. */
export interface StoredSession {
  expiresAtMs: number;
  value: string | null;
  ownerTag: string | undefined;
}

const UNOWNED_HEAD = /^\d{1,16}$/;
const OWNED_HEAD = /^(\d{1,16})@([A-Za-z0-9_-]{1,64})@\d{1,16}$/;

/** Decodes a stored string (or its first {@link HEAD_BYTES} bytes: the value may be cut); `undefined` when it is not one sessionkit wrote. */
export function decodeStored(stored: string): StoredSession | undefined {
  const marker = stored.indexOf(VALUE_MARKER);
  const head = marker === -1 ? stored : stored.slice(0, marker);
  const value = marker === -1 ? null : stored.slice(marker + 1);
  // The unowned head first: it is every session's head on the hot path.
  if (UNOWNED_HEAD.test(head)) return { expiresAtMs: Number(head), value, ownerTag: undefined };
  const owned = OWNED_HEAD.exec(head);
  if (owned === null) return undefined;
  return { expiresAtMs: Number(owned[1]), value, ownerTag: owned[2] };
}

/** Bytes of a session string that always hold its whole head (instant, owner tag, covered instant). */
export const HEAD_BYTES = 80;

/**
 * The tag of an owner: SHA-256 of the owner id, base64url, as `digestKey`
 * cuts it (40 characters). It names the owner's set (as its hash tag) and
 * marks the owner's sessions, so no owner id is stored in Redis.
 */
export function ownerTag(owner: string): string {
  return digestKey(owner);
}

/**
 * How much longer than a session's expiry its owner's set is made to live,
 * in milliseconds. A session's string records the owner set as covered up to
 * twice the session's expiry, counted by the session's node when it writes;
 * the owner's node extended the set to twice that expiry plus this margin
 * just before. The margin absorbs the time between the two writes (clocks of
 * different nodes never enter: each side counts its own time).
 */
export const OWNER_SET_MARGIN_MS = 60_000;
