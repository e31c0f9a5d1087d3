import type { ResolvedSessionOptions } from '../session-options.js';

type LifetimeOptions = Pick<ResolvedSessionOptions, 'backend' | 'idleTimeoutSeconds' | 'absoluteLifetimeSeconds' | 'nowMs'>;

/**
 * Seconds a write now should give a session created at `createdAtMs`: the
 * idle timeout (the backend's default period when unset, read at each write),
 * cut at the absolute lifetime. Zero or less: the lifetime is over.
 */
export function writeExpirySeconds(options: LifetimeOptions, createdAtMs: number): number {
  const { backend, idleTimeoutSeconds = backend.defaultPeriod(), absoluteLifetimeSeconds, nowMs } = options;
  if (absoluteLifetimeSeconds === undefined) return idleTimeoutSeconds;
  const leftSeconds = Math.floor((createdAtMs + absoluteLifetimeSeconds * 1000 - nowMs()) / 1000);
  return Math.min(idleTimeoutSeconds, leftSeconds);
}

/** Whether a session created at `createdAtMs` is past `absoluteLifetimeSeconds` now (never, without one). */
export function isPastLifetime(options: Pick<ResolvedSessionOptions, 'absoluteLifetimeSeconds' | 'nowMs'>, createdAtMs: number): boolean {
  const { absoluteLifetimeSeconds, nowMs } = options;
  return absoluteLifetimeSeconds !== undefined && nowMs() >= createdAtMs + absoluteLifetimeSeconds * 1000;
}
