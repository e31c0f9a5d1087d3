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

/** 1 for each character code of an owner tag or a write token: base64url. */
const TAG_CHARACTER = new Uint8Array(128);
for (const character of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') TAG_CHARACTER[character.charCodeAt(0)] = 1;
const AT = 0x40;
const COLON = 0x3a;

/**
 * Decodes a stored string (or its first {@link HEAD_BYTES} bytes: the value
 * may be cut); `undefined` when it is not one sessionkit wrote. The head is
 * `\d{1,16}`, then optionally `@` + tag (1 to 64 base64url characters) + `@`
 * + `\d{1,16}`, then 0 to 8 write tokens, each `:` + 1 to 32 base64url
 * characters. Scanned by hand, not by a regular expression: every read of a
 * session decodes one (the tokens are checked, not kept: only the batch
 * script compares them).
 */
export function decodeStored(stored: string): DecodedString | undefined {
  const marker = stored.indexOf(VALUE_MARKER);
  const headEnd = marker === -1 ? stored.length : marker;
  const instantEnd = digitsEnd(stored, 0, headEnd);
  if (instantEnd === -1) return undefined;
  let at = instantEnd;
  let ownerTag: string | undefined;
  if (at < headEnd && stored.charCodeAt(at) === AT) {
    const tagEnd = tagCharactersEnd(stored, at + 1, headEnd, 64);
    if (tagEnd === -1 || tagEnd === headEnd || stored.charCodeAt(tagEnd) !== AT) return undefined;
    const coveredEnd = digitsEnd(stored, tagEnd + 1, headEnd);
    if (coveredEnd === -1) return undefined;
    ownerTag = stored.slice(at + 1, tagEnd);
    at = coveredEnd;
  }
  for (let tokens = 0; at < headEnd; tokens++) {
    if (tokens === 8 || stored.charCodeAt(at) !== COLON) return undefined;
    at = tagCharactersEnd(stored, at + 1, headEnd, 32);
    if (at === -1) return undefined;
  }
  return { expiresAtMs: Number(stored.slice(0, instantEnd)), value: marker === -1 ? null : stored.slice(marker + 1), ownerTag };
}

/** The end of the 1 to 16 decimal digits at `from` (before `end`); -1 when there are none or more. */
function digitsEnd(text: string, from: number, end: number): number {
  let at = from;
  while (at < end && at - from < 17) {
    const code = text.charCodeAt(at);
    if (code < 0x30 || code > 0x39) break;
    at++;
  }
  return at === from || at - from > 16 ? -1 : at;
}

/** The end of the 1 to `most` base64url characters at `from` (before `end`); -1 when there are none or more. */
function tagCharactersEnd(text: string, from: number, end: number, most: number): number {
  let at = from;
  while (at < end && at - from <= most && TAG_CHARACTER[text.charCodeAt(at)] === 1) at++;
  return at === from || at - from > most ? -1 : at;
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
