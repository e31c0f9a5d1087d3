import { BaseBackend, NOT_FOUND, NOT_SET, type BackendOptions } from '../../core/base-backend.js';
import { secondsLeft } from '../../core/period.js';
import type { ClearByOwnerOptions, CompareAndSetResult, GetResult, OwnedSession, OwnerIndexBackend, OwnerIndexOptions } from '../../core/contract.js';
import { OwnerSessionLimitError } from '../../core/errors.js';
import { digestKey } from '../../core/keys.js';
import { assertWholeNumberOption } from '../../core/validate.js';
import type { EnumerableBackend, LiveSession } from '../../core/enumeration.js';
import { ExpiryHeap } from './expiry-heap.js';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions extends BackendOptions, OwnerIndexOptions {
  /** Most sessions kept at once; when full, the session closest to expiry is dropped first. Default 100,000. */
  maxSessions?: number;
  /** Seconds between background sweeps of expired sessions (an unref'd timer); default 60. */
  sweepIntervalSeconds?: number;
  /** Milliseconds on a monotonic clock; default `performance.now()`. Tests pass a clock they control. */
  nowMs?: () => number;
}

/** A session, which is also its own node in the expiry heap. */
interface Entry {
  readonly key: string;
  value: string | null;
  expiresAtMs: number;
  /** Where the heap has it; behind `expiresAtMs` after a renewal, until it surfaces. */
  queuedExpiryMs: number;
  readonly owner: string | undefined;
  readonly createdAt: Date;
}

// The store methods return settled promises rather than being async: one
// promise per operation instead of two, on the hottest path of the backend.
const resolved = <T>(value: T): Promise<T> => Promise.resolve(value);
const DONE = resolved(undefined);

/**
 * Sessions in this process's memory: for tests, demos and single-process apps.
 * Bounded by `maxSessions` (ocaml-session's memory store grows without bound) and
 * swept on access and by a timer; expiry follows the process's monotonic clock.
 * Lost when the process ends.
 */
export class MemoryBackend extends BaseBackend implements OwnerIndexBackend, EnumerableBackend {
  readonly maxSessions: number;
  readonly #sessions = new Map<string, Entry>();
  readonly #byExpiry = new ExpiryHeap<Entry>();
  /** Keys of each owner's sessions, in creation order (a Set keeps insertion order). */
  readonly #byOwner = new Map<string, Set<string>>();
  readonly #nowMs: () => number;
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: MemoryBackendOptions = {}) {
    super(options);
    const { maxSessions = 100_000, sweepIntervalSeconds = 60, nowMs = () => performance.now() } = options;
    assertWholeNumberOption(maxSessions, 'maxSessions', 1);
    assertWholeNumberOption(sweepIntervalSeconds, 'sweepIntervalSeconds', 1);
    this.maxSessions = maxSessions;
    this.#nowMs = nowMs;
    this.#sweepTimer = setInterval(() => this.sweep(), sweepIntervalSeconds * 1000).unref();
  }

  /** Number of sessions held, expired ones not yet swept included. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Drops every expired session now; returns how many were dropped. */
  sweep(): number {
    const now = this.#nowMs();
    let dropped = 0;
    for (let entry = this.#byExpiry.peek(); entry !== undefined && entry.queuedExpiryMs <= now; entry = this.#byExpiry.peek()) {
      this.#byExpiry.pop();
      if (this.#sessions.get(entry.key) !== entry) continue;
      if (entry.expiresAtMs > now) {
        this.#requeue(entry);
      } else {
        this.#remove(entry.key);
        dropped++;
      }
    }
    return dropped;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  listByOwner(owner: string): Promise<OwnedSession[]> {
    return this.ownerList(owner, async (checked) => {
      const now = this.#nowMs();
      const sessions: OwnedSession[] = [];
      for (const key of this.#byOwner.get(checked) ?? []) {
        const entry = this.#live(key, now);
        if (entry !== undefined) {
          sessions.push({ keyDigest: digestKey(key), expiresInSeconds: secondsLeft(entry.expiresAtMs, now), createdAt: entry.createdAt, value: entry.value });
        }
      }
      return sessions;
    });
  }

  clearByOwner(owner: string, options?: ClearByOwnerOptions): Promise<number> {
    return this.ownerClear(owner, options, async (checked, except) => {
      const now = this.#nowMs();
      let cleared = 0;
      for (const key of [...(this.#byOwner.get(checked) ?? [])]) {
        if (key === except) continue;
        if (this.#live(key, now) !== undefined) cleared++;
        this.#remove(key);
      }
      return cleared;
    });
  }

  /** Creates or replaces the session of `key` (see {@link Backend.put}); a replaced session leaves its owner's list. */
  protected storePut(key: string, value: string, expirySeconds: number): Promise<void> {
    // A new entry, not a renewal: the replaced session's owner and creation time go with it.
    this.#remove(key);
    return this.storeGenerate(key, value, expirySeconds);
  }

  clearOwnedSession(owner: string, keyDigest: string): Promise<boolean> {
    return this.ownerClearOne(owner, keyDigest, async (checked, digest) => {
      const now = this.#nowMs();
      for (const key of this.#byOwner.get(checked) ?? []) {
        if (digestKey(key) !== digest) continue;
        const live = this.#live(key, now) !== undefined;
        this.#remove(key);
        return live;
      }
      return false;
    });
  }

  async countLive(): Promise<number> {
    this.sweep();
    return this.#sessions.size;
  }

  /** Every live session; keys are held in this process as they are, so `storedKey` is the key itself. */
  async *liveSessions(): AsyncIterable<LiveSession> {
    // A snapshot: entries removed or renewed while the caller iterates are checked again as they come.
    for (const entry of [...this.#sessions.values()]) {
      const now = this.#nowMs();
      if (this.#sessions.get(entry.key) !== entry || entry.expiresAtMs <= now) continue;
      yield { storedKey: entry.key, value: entry.value, expiresInSeconds: secondsLeft(entry.expiresAtMs, now) };
    }
  }

  clearAll(): Promise<number> {
    return this.pruning('clearAll', async () => {
      const live = await this.countLive();
      this.#sessions.clear();
      this.#byOwner.clear();
      this.#byExpiry.rebuild([]);
      return live;
    });
  }

  protected storeGenerate(key: string, value: string | null, expirySeconds: number, owner?: string): Promise<void> {
    if (expirySeconds <= 0) return DONE;
    // One synchronous step: the check, the store and the trim cannot interleave with another login.
    const max = this.maxSessionsPerOwner;
    if (owner !== undefined && max !== undefined && this.onMaxSessionsPerOwner === 'refuse' && this.#liveOf(owner).length >= max) {
      return Promise.reject(new OwnerSessionLimitError(max));
    }
    if (this.#sessions.size >= this.maxSessions) this.#makeRoom();
    const expiresAtMs = this.#nowMs() + expirySeconds * 1000;
    const entry: Entry = { key, value, expiresAtMs, queuedExpiryMs: expiresAtMs, owner, createdAt: new Date() };
    this.#sessions.set(key, entry);
    this.#byExpiry.push(entry);
    if (owner !== undefined) {
      const keys = this.#byOwner.get(owner) ?? new Set<string>();
      this.#byOwner.set(owner, keys.add(key));
      if (max !== undefined) this.#trimOwner(owner, max);
    }
    // Clears leave their entries in the heap; rebuild before they outnumber the sessions.
    if (this.#byExpiry.size > 2 * this.#sessions.size + 1024) this.#compact();
    return DONE;
  }

  protected storeGet(key: string): Promise<GetResult> {
    const now = this.#nowMs();
    const entry = this.#live(key, now);
    if (entry === undefined) return resolved(NOT_FOUND);
    if (entry.value === null) return resolved(NOT_SET);
    return resolved({ ok: true, value: entry.value, period: secondsLeft(entry.expiresAtMs, now) });
  }

  protected storeSet(key: string, value: string, expirySeconds: number): Promise<void> {
    const now = this.#nowMs();
    const entry = this.#live(key, now);
    if (entry !== undefined) this.#renew(entry, value, expirySeconds, now);
    return DONE;
  }

  protected storeCompareAndSet(key: string, expected: string | null, value: string, expirySeconds: number): Promise<CompareAndSetResult> {
    const now = this.#nowMs();
    const entry = this.#live(key, now);
    if (entry === undefined) return resolved('NotFound');
    if (entry.value !== expected) return resolved('conflict');
    this.#renew(entry, value, expirySeconds, now);
    return resolved('ok');
  }

  protected storeClear(key: string): Promise<void> {
    this.#remove(key);
    return DONE;
  }

  /** The entry of a live session; an expired one is dropped on the way. */
  #live(key: string, now: number): Entry | undefined {
    const entry = this.#sessions.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs > now) return entry;
    this.#remove(key);
    if (this.hasListener) this.emit({ type: 'expired-on-read', store: this.storeName, keyDigest: digestKey(key) });
    return undefined;
  }

  #renew(entry: Entry, value: string, expirySeconds: number, now: number): void {
    if (expirySeconds <= 0) {
      this.#remove(entry.key);
      return;
    }
    entry.value = value;
    entry.expiresAtMs = now + expirySeconds * 1000;
    // An earlier expiry than the queued one would surface too late: queue it now (rare).
    if (entry.expiresAtMs < entry.queuedExpiryMs) this.#requeue(entry);
  }

  /** Queues an entry at its current expiry; the old heap position, if any, is skipped when it surfaces. */
  #requeue(entry: Entry): void {
    entry.queuedExpiryMs = entry.expiresAtMs;
    this.#byExpiry.push(entry);
  }

  /** Rebuilds the heap from the live map: one node per session, each at its current expiry. */
  #compact(): void {
    for (const entry of this.#sessions.values()) entry.queuedExpiryMs = entry.expiresAtMs;
    this.#byExpiry.rebuild(this.#sessions.values());
  }

  /** Removes a session and its place in its owner's index. */
  #remove(key: string): void {
    const entry = this.#sessions.get(key);
    if (entry === undefined) return;
    this.#sessions.delete(key);
    if (entry.owner === undefined) return;
    const keys = this.#byOwner.get(entry.owner);
    keys?.delete(key);
    if (keys?.size === 0) this.#byOwner.delete(entry.owner);
  }

  /** Keys of the owner's live sessions, oldest first (expired ones are dropped on the way). */
  #liveOf(owner: string): string[] {
    const now = this.#nowMs();
    return [...(this.#byOwner.get(owner) ?? [])].filter((key) => this.#live(key, now) !== undefined);
  }

  /** Removes the owner's oldest live sessions beyond `max`. */
  #trimOwner(owner: string, max: number): void {
    const live = this.#liveOf(owner);
    for (const key of live.slice(0, Math.max(0, live.length - max))) this.#remove(key);
  }

  /** Drops expired sessions, then, if still full, the live session closest to expiry. */
  #makeRoom(): void {
    this.sweep();
    while (this.#sessions.size >= this.maxSessions) {
      const entry = this.#byExpiry.pop();
      if (entry === undefined) return;
      if (this.#sessions.get(entry.key) !== entry) continue;
      // A renewed session surfaces at its old expiry: put it back where it belongs.
      if (entry.expiresAtMs !== entry.queuedExpiryMs) this.#requeue(entry);
      else this.#remove(entry.key);
    }
  }
}
