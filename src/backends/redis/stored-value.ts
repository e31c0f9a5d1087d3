import { digestKey } from '../../core/keys.js';

/**
 * How a session is stored: one Redis string per session, whose TTL is the
 * session's expiry. The string starts with that same expiry instant (Redis
 * server time, in milliseconds since the epoch, as decimal digits), then holds
 * nothing for a session without a value ("not set") or `=` followed by the
 * value. So one GET tells the three states apart and gives the seconds left
 * without a second command, and compare-and-set compares what follows the
 * first `=`.
 *
 * A session made with an owner has an owner head between the instant and the
 * value: `@` + the owner's tag (see {@link ownerTag}) + `@` + the instant (same
 * clock) up to which its owner's set is known to live ("covered").
 *
 * Then the write tokens: `:` + the token of the write that stored this
 * string; a compare-and-set keeps after it those of the writes before it
 * (newest first, at most {@link WRITE_TOKENS_KEPT} in all), a set or a
 * generate only its own. A write that finds its own token among
 * them has already landed, so a resent write answers what the first one did
 * instead of writing again. None of these parts holds `=`, so the first `=`
 * still starts the value, and strings written before owners or tokens existed
 * read as they always did.
 */
export const VALUE_MARKER = '=';

/** Encodes a value for storage, without the head the script puts in front; `null` means "not set". */
export function encodeValue(value: string | null): string {
  return value === null ? '' : VALUE_MARKER + value;
}

/** A stored string, decoded: the expiry instant (server ms), the value (`null`: not set) and the owner's tag, if any. */
export interface DecodedString {
  expiresAtMs: number;
  value: string | null;
  ownerTag: string | undefined;
}

/** The head: the instant, then an owner head (`@` tag `@` covered instant) if any, then up to 8 write tokens. */
const HEAD = /^(\d{1,16})(?:@([A-Za-z0-9_-]{1,64})@\d{1,16})?(?::[A-Za-z0-9_-]{1,32}){0,8}$/;

/**
 * Decodes a stored string (or its first {@link HEAD_BYTES} bytes: the value
 * may be cut); `undefined` when it is not one sessionkit wrote. The write
 * tokens are checked, not kept: only the batch script compares them.
 */
export function decodeStored(stored: string): DecodedString | undefined {
  const marker = stored.indexOf(VALUE_MARKER);
  const head = marker === -1 ? stored : stored.slice(0, marker);
  const value = marker === -1 ? null : stored.slice(marker + 1);
  const parts = HEAD.exec(head);
  return parts === null ? undefined : { expiresAtMs: Number(parts[1]), value, ownerTag: parts[2] };
}

/** How many write tokens a compare-and-set keeps in the string it writes: its own and those of the writes just before it. */
export const WRITE_TOKENS_KEPT = 3;

/**
 * Bytes of a session string that always hold its whole head (instant, owner
 * tag, covered instant, write tokens): 16 + 1 + 40 + 1 + 16 + 3 × (1 + 20).
 */
export const HEAD_BYTES = 140;

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
