import type { ResolvedSessionOptions } from '../session-options.js';

type LifetimeOptions = Pick<ResolvedSessionOptions, 'backend' | 'idleTimeoutSeconds' | 'absoluteLifetimeSeconds' | 'nowMs'>;

/**
 * Seconds until expiry a write now should give a session created at `createdAtMs`: its
 * own period (`ownExpirySeconds`, from `setExpirySeconds`) when it has one,
 * else the idle timeout (the backend's default period when unset, read at
 * each write), cut at the absolute lifetime. Zero or less: the lifetime is
 * over.
 */
export function writeTtlSeconds(options: LifetimeOptions, createdAtMs: number, ownExpirySeconds?: number): number {
  const { backend, absoluteLifetimeSeconds, nowMs } = options;
  const idleTimeoutSeconds = ownExpirySeconds ?? options.idleTimeoutSeconds ?? backend.defaultPeriod();
  if (absoluteLifetimeSeconds === undefined) return idleTimeoutSeconds;
  const leftSeconds = Math.floor((createdAtMs + absoluteLifetimeSeconds * 1000 - nowMs()) / 1000);
  return Math.min(idleTimeoutSeconds, leftSeconds);
}

/** Whether a session created at `createdAtMs` is past `absoluteLifetimeSeconds` now (never, without one). */
export function isPastLifetime(options: Pick<ResolvedSessionOptions, 'absoluteLifetimeSeconds' | 'nowMs'>, createdAtMs: number): boolean {
  const { absoluteLifetimeSeconds, nowMs } = options;
  return absoluteLifetimeSeconds !== undefined && nowMs() >= createdAtMs + absoluteLifetimeSeconds * 1000;
}

/**
 * A `setExpirySeconds` call of this request: the period it set (undefined:
 * back to the configured one) and whether a write has saved it yet. Until
 * the response is sent it outranks the period of the stored session, also
 * after a re-read that finds another request's period.
 */
export interface OwnExpiryChange {
  readonly periodSeconds: number | undefined;
  readonly saved: boolean;
}

/** The own period a write now gives: this request's change when there is one, else the stored session's (`storedSeconds`). */
export function ownExpiryFor(change: OwnExpiryChange | undefined, storedSeconds: number | undefined): number | undefined {
  return change === undefined ? storedSeconds : change.periodSeconds;
}
