import type { DataRecord } from '../envelope.js';
import { HTTP_EVENT_STORE } from '../http-events.js';
import { SessionConflictError } from '../session-errors.js';
import { SessionDataTooLargeError } from '../session-errors.js';
import { ownExpiryFor, writeTtlSeconds, type OwnExpiryChange } from './lifetime.js';
import { storedRead } from './load.js';
import { encodeWithin, type StoredSnapshot } from './snapshot.js';
import type { StoreContext } from './store-context.js';

/** A pure function from the stored data to the data to write; it may run once per attempt. */
export type Transform = (stored: DataRecord) => TransformResult;

/** The data to write, with its JSON text when the transform made it already (the encoding then reuses it). */
export interface TransformResult {
  readonly data: DataRecord;
  readonly text?: string | undefined;
}

/** The snapshot a successful write leaves, and the seconds until expiry it gave the session, counted from the write (the cookie's `Max-Age`). */
export interface Written {
  readonly snapshot: StoredSnapshot;
  readonly ttlSeconds: number;
}

/**
 * The answer of {@link updateStored}: written, or the stored session is gone
 * and the write must go to a new session (`pastLifetime`: it ran out of its
 * absolute lifetime during the request, so its key is still to be removed).
 */
export type UpdateOutcome = ({ readonly kind: 'written' } & Written) | { readonly kind: 'gone'; readonly pastLifetime: boolean };

/** What a new session starts from: its data, creation time (undefined: now), owner, own period (absent: the configured one) and time of login (absent: unknown). */
export interface NewSessionBase {
  readonly data: DataRecord;
  readonly createdAtMs: number | undefined;
  readonly owner: string | undefined;
  readonly ownExpirySeconds: number | undefined;
  readonly authenticatedAtMs: number | undefined;
}

/** Up to 100 ms of full jitter growing with the attempt, so racing requests spread out. */
export function retryDelayMs(attempt: number): number {
  return Math.random() * Math.min(100, 2 ** attempt);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits {@link retryDelayMs} after a lost compare-and-set, reporting a `conflict-retried` event; throws once `maxUpdateAttempts` are spent. */
export async function afterConflict(context: StoreContext, key: string, attempt: number): Promise<void> {
  if (attempt >= context.options.maxUpdateAttempts) throw new SessionConflictError(attempt);
  const { events } = context;
  if (events.enabled) events.emit({ type: 'conflict-retried', store: HTTP_EVENT_STORE, keyDigest: events.digest(key), attempt });
  await sleep(retryDelayMs(attempt));
}

/**
 * Writes `transform(stored data)` under `snapshot`'s key with a
 * compare-and-set, re-reading and retrying with jitter on a conflict, up to
 * `maxUpdateAttempts` (then a {@link SessionConflictError}). Never creates
 * nor revives a session: a key that vanished (expired, destroyed elsewhere)
 * is `gone`. The session keeps its own period (re-read at each attempt)
 * unless `ownExpiry` (this request's `setExpirySeconds`) replaces it.
 */
export async function updateStored(context: StoreContext, snapshot: StoredSnapshot, transform: Transform, ownExpiry?: OwnExpiryChange): Promise<UpdateOutcome> {
  const { options } = context;
  let current = snapshot;
  for (let attempt = 1; ; attempt++) {
    const { data, text } = transform(current.data);
    const ownExpirySeconds = ownExpiryFor(ownExpiry, current.ownExpirySeconds);
    const ttlSeconds = writeTtlSeconds(options, current.createdAtMs, ownExpirySeconds);
    if (ttlSeconds <= 0) return { kind: 'gone', pastLifetime: true };
    const value = encodeWithin({ createdAtMs: current.createdAtMs, owner: current.owner, data, ownPeriodSeconds: ownExpirySeconds, authenticatedAtMs: current.authenticatedAtMs }, context, text);
    const result = await options.backend.compareAndSet(current.key, current.raw, value, { expiry: ttlSeconds });
    if (result === 'ok') {
      const written = { ...current, raw: value, data, expiresAtMs: options.nowMs() + ttlSeconds * 1000, ownExpirySeconds };
      return { kind: 'written', snapshot: written, ttlSeconds };
    }
    // Expired or destroyed by another request: never revive it.
    if (result === 'NotFound') return { kind: 'gone', pastLifetime: false };
    await afterConflict(context, current.key, attempt);
    const reread = storedRead(context, current.key, await options.backend.get(current.key));
    if (reread === undefined) return { kind: 'gone', pastLifetime: false };
    current = reread.snapshot;
  }
}

/**
 * Creates a session holding `transform(base.data)` under a new key (with
 * `generate`, filed under `base.owner` when there is one, with
 * `base.ownExpirySeconds` as its own period). The creation time is kept
 * unless absent or past the absolute lifetime.
 */
export async function createSession(context: StoreContext, base: NewSessionBase, transform: Transform): Promise<Written> {
  const { options } = context;
  const { owner, ownExpirySeconds, authenticatedAtMs } = base;
  let createdAtMs = base.createdAtMs;
  if (createdAtMs === undefined || writeTtlSeconds(options, createdAtMs, ownExpirySeconds) <= 0) createdAtMs = options.nowMs();
  const { data, text } = transform(base.data);
  const ttlSeconds = writeTtlSeconds(options, createdAtMs, ownExpirySeconds);
  const value = encodeWithin({ createdAtMs, owner, data, ownPeriodSeconds: ownExpirySeconds, authenticatedAtMs }, context, text);
  const key = await options.backend.generate(owner === undefined ? { value, expiry: ttlSeconds } : { value, expiry: ttlSeconds, owner });
  const snapshot = { key, raw: value, data, owner, createdAtMs, expiresAtMs: options.nowMs() + ttlSeconds * 1000, ownExpirySeconds, authenticatedAtMs };
  return { snapshot, ttlSeconds };
}

/**
 * Renews the expiry of `loaded` without changing its data (a read-only
 * request whose renewal is due), recording when it was seen (and by which
 * client) in the same write; undefined when nothing was renewed: the
 * lifetime is over, or a conflict (another request just renewed or changed
 * it) or `NotFound` made the renewal moot.
 */
export async function renewStored(context: StoreContext, loaded: StoredSnapshot): Promise<Written | undefined> {
  const { options } = context;
  const ttlSeconds = writeTtlSeconds(options, loaded.createdAtMs, loaded.ownExpirySeconds);
  if (ttlSeconds <= 0) return undefined;
  const value = renewedValue(context, loaded);
  const result = await options.backend.compareAndSet(loaded.key, loaded.raw, value, { expiry: ttlSeconds });
  if (result !== 'ok') return undefined;
  return { snapshot: { ...loaded, raw: value, expiresAtMs: options.nowMs() + ttlSeconds * 1000 }, ttlSeconds };
}

/** `loaded` stamped as seen now; its stored value unchanged when the stamp would take it over `maxDataBytes` (a renewal never fails for its metadata). */
function renewedValue(context: StoreContext, loaded: StoredSnapshot): string {
  const { createdAtMs, owner, data, ownExpirySeconds, authenticatedAtMs } = loaded;
  try {
    return encodeWithin({ createdAtMs, owner, data, ownPeriodSeconds: ownExpirySeconds, authenticatedAtMs }, context);
  } catch (error) {
    if (error instanceof SessionDataTooLargeError) return loaded.raw;
    throw error;
  }
}
