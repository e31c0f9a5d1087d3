import { assertOwner } from '../../core/validate.js';
import type { RegenerateOptions } from '../typed-session.js';
import type { NewSessionBase } from './commit-loop.js';
import type { MoveClaim } from './move-claim.js';
import type { Snapshot, StoredSnapshot } from './snapshot.js';

/**
 * A pending `regenerate()`: done at the next write (the commit, or an
 * `update()` before it), where the old key is claimed and a new key created.
 */
export interface Regeneration {
  /** The stored session to move away from; undefined for a login without a session (or after `destroy()`). */
  readonly from: StoredSnapshot | undefined;
  /** Whether the new key takes the old session's latest data, creation time and owner (`keepData`). */
  readonly keepData: boolean;
  /** Owner of the new key, from `regenerate({ owner })`; undefined: the old session's (when kept) or none. */
  readonly owner: string | undefined;
  /** When `regenerate({ owner })` was called (a login); undefined: the old session's (when kept) or unknown. */
  readonly authenticatedAtMs?: number | undefined;
}

/** One `regenerate()` call's options, checked, and the time of the login it is (with an owner). */
export interface RegenerateRequest {
  readonly owner: string | undefined;
  readonly keepData: boolean;
  readonly authenticatedAtMs?: number | undefined;
}

/** Checks `regenerate()`'s options: a `TypeError` for anything but an object with a boolean `keepData` (default true) and a valid owner. */
export function regenerateRequest(options: RegenerateOptions, nowMs: number): RegenerateRequest {
  if (typeof options !== 'object' || options === null) throw new TypeError('regenerate() options must be an object');
  const { owner, keepData = true } = options;
  if (typeof keepData !== 'boolean') throw new TypeError('regenerate() keepData must be a boolean');
  if (owner !== undefined) assertOwner(owner);
  return { owner, keepData, authenticatedAtMs: owner === undefined ? undefined : nowMs };
}

/**
 * The regeneration pending after one more `regenerate(request)` call, given
 * the one already pending and the stored session the request points at.
 * Undefined when there is nothing to do: no session and no owner to log in
 * (a write later creates a session anyway). Calls compose: the first call's
 * old key stays the one claimed, `keepData: false` anywhere wins, and an
 * omitted owner keeps the pending one only while data is kept.
 */
export function nextRegeneration(pending: Regeneration | undefined, current: Snapshot, request: RegenerateRequest): Regeneration | undefined {
  const { owner, keepData, authenticatedAtMs } = request;
  if (current.key !== undefined) return { from: current, keepData, owner, authenticatedAtMs };
  if (pending !== undefined) {
    const keptLogin = keepData ? pending : undefined;
    return { from: pending.from, keepData: pending.keepData && keepData, owner: owner ?? keptLogin?.owner, authenticatedAtMs: authenticatedAtMs ?? keptLogin?.authenticatedAtMs };
  }
  return owner === undefined ? undefined : { from: undefined, keepData, owner, authenticatedAtMs };
}

/**
 * What the new key starts from, once the old key is claimed: its latest
 * session (data, creation time, owner, own period and time of login) when kept, else nothing
 * (`claim` undefined: a login without a session).
 */
export function regenerationBase(regeneration: Regeneration, claim: MoveClaim | undefined): NewSessionBase {
  const kept = regeneration.keepData ? claim?.envelope : undefined;
  return {
    data: kept?.data ?? {},
    createdAtMs: kept?.createdAtMs,
    owner: regeneration.owner ?? kept?.owner,
    ownExpirySeconds: kept?.ownPeriodSeconds,
    authenticatedAtMs: regeneration.authenticatedAtMs ?? kept?.authenticatedAtMs,
  };
}

/**
 * The stored session a request shows while `regeneration` is pending: the
 * old one when its data is kept, else `current` (empty).
 */
export function shownSnapshot(current: Snapshot, regeneration: Regeneration | undefined): Snapshot {
  return regeneration?.keepData === true && regeneration.from !== undefined ? regeneration.from : current;
}
