import type { OwnerIndexBackend } from '../../core/contract.js';
import { storedMetadata } from '../envelope.js';
import { HTTP_EVENT_STORE } from '../http-events.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import type { LogoutEverywhereOptions, OwnSession } from '../typed-session.js';
import type { StoreContext } from './store-context.js';

/** The backend's owner index; a `TypeError` naming `feature` unless `owners: true` was set up. */
export function ownerIndex(options: ResolvedSessionOptions, feature: string): OwnerIndexBackend {
  const backend = options.ownerBackend;
  if (backend === undefined) throw new TypeError(`${feature} needs the session option owners: true (and a backend that keeps sessions by owner)`);
  return backend;
}

/** `logoutEverywhere()`'s `keepCurrent`, checked. */
export function keepCurrentOption(options: LogoutEverywhereOptions): boolean {
  if (typeof options !== 'object' || options === null) throw new TypeError('logoutEverywhere() options must be an object');
  const { keepCurrent = false } = options;
  if (typeof keepCurrent !== 'boolean') throw new TypeError('keepCurrent must be a boolean');
  return keepCurrent;
}

/** Removes every session of `owner` but `exceptKey`'s, reported as a `pruned` event; resolves to how many were removed (none without an owner). */
export async function clearOwnerSessions(store: StoreContext, backend: OwnerIndexBackend, owner: string | undefined, exceptKey: string | undefined): Promise<number> {
  if (owner === undefined) return 0;
  const { events } = store;
  const startedMs = performance.now();
  const removed = await events.reported('logoutEverywhere', backend.clearByOwner(owner, exceptKey === undefined ? {} : { except: exceptKey }));
  events.emit({ type: 'pruned', store: HTTP_EVENT_STORE, deletedCount: removed, durationMs: performance.now() - startedMs });
  return removed;
}

/** The owner's live sessions, the one under `currentKey` marked `current`; none without an owner. */
export async function listOwnerSessions(store: StoreContext, backend: OwnerIndexBackend, owner: string | undefined, currentKey: string | undefined): Promise<OwnSession[]> {
  if (owner === undefined) return [];
  const { events } = store;
  const currentDigest = currentKey === undefined ? undefined : events.digest(currentKey);
  const sessions = await events.reported('listOwnSessions', backend.listByOwner(owner));
  return sessions.map(({ keyDigest, expiresInSeconds, createdAt, value }) => ({ keyDigest, expiresInSeconds, createdAt, ...storedMetadata(value), current: keyDigest === currentDigest }));
}
