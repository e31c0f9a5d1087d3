import type { GetResult } from '../../core/contract.js';
import { decodeEnvelope } from '../envelope.js';
import { HTTP_EVENT_STORE } from '../http-events.js';
import type { SessionCookie } from '../read-cookie.js';
import type { StoreContext } from './store-context.js';
import { isTouchDue } from './cookie-decision.js';
import { isPastLifetime } from './lifetime.js';
import { storedSnapshot, type StoredSnapshot } from './snapshot.js';

/**
 * What a request's key (from its cookie or its session header) names: no
 * session (`hadKey` when it sent a key all the same, unusable or unknown),
 * a session past its absolute lifetime (its key to remove, its cookie or
 * header to clear), or a stored session and whether a read-only request
 * should renew its expiry (touch throttling).
 */
export type Loaded =
  | { readonly kind: 'none'; readonly hadKey: boolean }
  | { readonly kind: 'expired'; readonly key: string }
  | { readonly kind: 'stored'; readonly snapshot: StoredSnapshot; readonly renewalDue: boolean };

const NONE: Loaded = Object.freeze({ kind: 'none', hadKey: false });
const NONE_BUT_SENT: Loaded = Object.freeze({ kind: 'none', hadKey: true });

/**
 * Reads the session named by the key a request `sent` (read from its cookie
 * or its session header): one store read when it is a well-formed key, none
 * otherwise. A hostile cookie or header, a forged key or a value that is not
 * a typed session is no session; one past its absolute lifetime is `expired`
 * (reported as `expired-on-read`). Rejects only on a store failure (reported
 * as an `error` event during `load`).
 */
export function loadSession(store: StoreContext, sent: SessionCookie): Promise<Loaded> {
  if (sent.kind !== 'key') return Promise.resolve(sent.kind === 'invalid' ? NONE_BUT_SENT : NONE);
  const { key } = sent;
  let answer: Promise<GetResult>;
  try {
    answer = store.options.backend.get(key);
  } catch (error) {
    // A backend of an application's own may throw rather than reject: still a rejection, as from an async function.
    return Promise.reject(error);
  }
  // One `.then` on the store's answer, not async functions awaiting each other: every layer that settles with an
  // object costs a promise and a lookup of its `then`, on every request that carries a key.
  return store.events.reported('load', answer).then((result) => {
    const read = storedRead(store, key, result);
    if (read === undefined) return NONE_BUT_SENT;
    const { snapshot, periodSeconds } = read;
    const { options, events } = store;
    if (isPastLifetime(options, snapshot.createdAtMs)) {
      if (events.enabled) events.emit({ type: 'expired-on-read', store: HTTP_EVENT_STORE, keyDigest: events.digest(key) });
      return { kind: 'expired', key };
    }
    return { kind: 'stored', snapshot, renewalDue: isTouchDue(options, snapshot.createdAtMs, periodSeconds, snapshot.ownExpirySeconds) };
  });
}

/**
 * The typed session stored under `key` and the whole seconds it has left, or
 * undefined when there is none (missing, expired, or a value that is not a
 * typed session, such as a regeneration's tombstone). A store failure is
 * reported as an `error` event `during` and rethrown.
 */
export async function readStored(store: StoreContext, key: string, during: string): Promise<StoredRead | undefined> {
  return storedRead(store, key, await store.events.reported(during, store.options.backend.get(key)));
}

/** A typed session read under `key`, and the whole seconds it had left. */
export interface StoredRead {
  readonly snapshot: StoredSnapshot;
  readonly periodSeconds: number;
}

/** What the store's answer `result` for `key` holds: a typed session, or undefined (none, or a value that is not a typed session). */
export function storedRead(store: StoreContext, key: string, result: GetResult): StoredRead | undefined {
  const envelope = result.ok ? decodeEnvelope(result.value) : undefined;
  if (!result.ok || envelope === undefined) return undefined;
  return { snapshot: storedSnapshot(key, result.value, envelope, store.options.nowMs(), result.period), periodSeconds: result.period };
}

/** The key a request sent, as `load` found it (undefined when it sent none, or one that names no session). */
export function sentKeyOf(loaded: Loaded): string | undefined {
  return loaded.kind === 'stored' ? loaded.snapshot.key : loaded.kind === 'expired' ? loaded.key : undefined;
}
