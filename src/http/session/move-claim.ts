import { decodeEnvelope, type Envelope } from '../envelope.js';
import { SessionRegeneratedError } from '../session-errors.js';
import { afterConflict } from './commit-loop.js';
import type { StoreContext } from './store-context.js';
import type { StoredSnapshot } from './snapshot.js';

/**
 * What a regenerating request writes over the old key before it creates the
 * new one. Not an envelope, so every reader (`load`, a re-read) sees no
 * session there; it lives {@link MOVED_TOMBSTONE_SECONDS} unless the commit
 * removes the key first.
 */
export const MOVED_TOMBSTONE = '{"moved":true}';

/**
 * Lifetime of a tombstone, in seconds: long enough to outlast the winner's own
 * move (claim, create, remove), short enough that a process that died between
 * the claim and the removal leaves nothing behind for long. A loser's
 * lateness does not depend on it: a loser that finds no key is refused too.
 */
export const MOVED_TOMBSTONE_SECONDS = 10;

/**
 * The old key a regeneration won: `raw` is the value to put back if the
 * regeneration fails, `envelope` what it decodes to (the latest session, which
 * the new key may keep), `expiresAtMs` when it would have expired.
 */
export interface MoveClaim {
  readonly key: string;
  readonly raw: string;
  readonly envelope: Envelope;
  readonly expiresAtMs: number;
}

/**
 * Claims `from`'s key for a regeneration, so that of all the regenerations of
 * one session exactly one creates a new key, however late the others come: a
 * compare-and-set from the value last read to {@link MOVED_TOMBSTONE}. A
 * conflict is re-read, and another request's ordinary write is retried with
 * jitter (up to `maxUpdateAttempts`, then a `SessionConflictError`). Any other
 * answer (the tombstone, no key at all, a value that is no session) means the
 * session this request loaded ended before its regeneration: the winner moved
 * it (and may have removed the tombstone already, or it expired), or it was
 * logged out or expired. None of these may become a new login, since no store
 * state tells a late loser from them once the tombstone is gone, so this
 * rejects with a {@link SessionRegeneratedError} having written nothing.
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
      return { key: from.key, raw: expected, envelope, expiresAtMs };
    }
    if (result === 'NotFound') throw new SessionRegeneratedError(attempt, 'ended');
    const latest = await backend.get(from.key);
    if (!latest.ok) throw new SessionRegeneratedError(attempt, 'ended');
    if (latest.value === MOVED_TOMBSTONE) throw new SessionRegeneratedError(attempt, 'regenerated');
    if (decodeEnvelope(latest.value) === undefined) throw new SessionRegeneratedError(attempt, 'ended');
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
export async function restoreClaim(context: StoreContext, claim: MoveClaim | undefined): Promise<void> {
  if (claim === undefined) return;
  const { backend, nowMs } = context.options;
  const secondsLeft = Math.ceil((claim.expiresAtMs - nowMs()) / 1000);
  if (secondsLeft <= 0) return;
  await backend.compareAndSet(claim.key, MOVED_TOMBSTONE, claim.raw, { expiry: secondsLeft }).catch(() => undefined);
}
