import { decodeEnvelope, type Envelope } from '../envelope.js';
import { SessionRegeneratedError } from '../session-errors.js';
import { afterConflict, type StoreContext } from './commit-loop.js';
import type { StoredSnapshot } from './snapshot.js';

/**
 * What a regenerating request writes over the old key before it creates the
 * new one. Not an envelope, so every reader (`load`, a re-read) sees no
 * session there; it lives {@link MOVED_TOMBSTONE_SECONDS} unless the commit
 * removes the key first.
 */
export const MOVED_TOMBSTONE = '{"moved":true}';

/**
 * Lifetime of a tombstone, in seconds: long enough to outlast any commit of
 * the requests that loaded the old session, short enough that a process that
 * died between the claim and the removal leaves nothing behind for long.
 */
export const MOVED_TOMBSTONE_SECONDS = 10;

/**
 * The answer of {@link claimOldKey}: `claimed` (this request won the old key;
 * `envelope` is its latest session, `raw` the value to put back if the
 * regeneration fails), or `gone` (the old session vanished for another reason:
 * expired, logged out elsewhere).
 */
export type MoveClaim =
  | { readonly kind: 'claimed'; readonly key: string; readonly raw: string; readonly envelope: Envelope; readonly expiresAtMs: number }
  | { readonly kind: 'gone' };

/**
 * Claims `from`'s key for a regeneration, so that of many parallel
 * regenerations of one session exactly one creates a new key: a
 * compare-and-set from the value last read to {@link MOVED_TOMBSTONE}. A
 * conflict is re-read: another request's ordinary write is retried with
 * jitter (up to `maxUpdateAttempts`, then a `SessionConflictError`); a
 * tombstone, or a key that vanished right after the conflict, means another
 * regeneration won, and this one rejects with a {@link SessionRegeneratedError}
 * having written nothing.
 */
export async function claimOldKey(context: StoreContext, from: StoredSnapshot): Promise<MoveClaim> {
  const { backend } = context.options;
  let expected = from.raw;
  let expiresAtMs = from.expiresAtMs;
  for (let attempt = 1; ; attempt++) {
    const result = await backend.compareAndSet(from.key, expected, MOVED_TOMBSTONE, { expiry: MOVED_TOMBSTONE_SECONDS });
    if (result === 'ok') {
      const envelope = decodeEnvelope(expected);
      // `expected` was read as an envelope (the snapshot, or the re-read below).
      if (envelope === undefined) throw new TypeError('a claimed session value is not a typed session');
      return { kind: 'claimed', key: from.key, raw: expected, envelope, expiresAtMs };
    }
    if (result === 'NotFound') return { kind: 'gone' };
    const latest = await backend.get(from.key);
    // A conflict proves the key changed after this request read it; gone right after is the winner's removal.
    if (!latest.ok || latest.value === MOVED_TOMBSTONE) throw new SessionRegeneratedError(attempt);
    if (decodeEnvelope(latest.value) === undefined) return { kind: 'gone' };
    await afterConflict(context, from.key, attempt);
    expected = latest.value;
    expiresAtMs = context.options.nowMs() + latest.period * 1000;
  }
}

/**
 * Puts a claimed key's session back after the regeneration failed (so an
 * error path loses nothing), with the expiry it had left. Best effort: when
 * the store is unreachable the tombstone expires, and with it the old
 * session; the caller rethrows its own error either way.
 */
export async function restoreClaim(context: StoreContext, claim: MoveClaim): Promise<void> {
  if (claim.kind !== 'claimed') return;
  const { backend, nowMs } = context.options;
  const expirySeconds = Math.ceil((claim.expiresAtMs - nowMs()) / 1000);
  if (expirySeconds <= 0) return;
  await backend.compareAndSet(claim.key, MOVED_TOMBSTONE, claim.raw, { expiry: expirySeconds }).catch(() => undefined);
}
