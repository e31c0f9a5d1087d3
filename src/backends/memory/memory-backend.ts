import { BaseBackend, NOT_FOUND, NOT_SET, type BackendOptions } from '../../core/base-backend.js';
import type { ClearByOwnerOptions, CompareAndSetResult, GetResult, OwnedSession, OwnerIndexBackend, OwnerIndexOptions } from '../../core/contract.js';
import { digestKey } from '../../core/keys.js';
import { assertKeyIsString, assertOwner, assertWholeNumberOption } from '../../core/validate.js';
import { ExpiryHeap, type HeapNode } from './expiry-heap.js';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions extends BackendOptions, OwnerIndexOptions {
  /** Most sessions kept at once; when full, the session closest to expiry is dropped first. Default 100,000. */
  maxSessions?: number;
  /** Seconds between background sweeps of expired sessions (an unref'd timer); default 60. */
  sweepIntervalSeconds?: number;
  /** Milliseconds on a monotonic clock; default `performance.now()`. Tests pass a clock they control. */
  nowMs?: () => number;
}

interface Entry {
  value: string | null;
  expiresAtMs: number;
  owner: string | undefined;
  createdAt: Date;
}

/**
 * Sessions in this process's memory: for tests, demos and single-process apps.
 * Bounded by `maxSessions` (the seed's memory store grows without bound) and
 * swept on access and by a timer; expiry follows the process's monotonic clock.
 * Lost when the process ends.
 */
export class MemoryBackend extends BaseBackend implements OwnerIndexBackend {
  readonly maxSessions: number;
  readonly maxSessionsPerOwner: number | undefined;
  readonly #sessions = new Map<string, Entry>();
  /** Keys of each owner's sessions, in creation order (a Set keeps insertion order). */
  readonly #byOwner = new Map<string, Set<string>>();
  readonly #byExpiry = new ExpiryHeap<Entry>();
  readonly #nowMs: () => number;
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: MemoryBackendOptions = {}) {
    super(options);
    const { maxSessions = 100_000, sweepIntervalSeconds = 60, nowMs = () => performance.now(), maxSessionsPerOwner } = options;
    assertWholeNumberOption(maxSessions, 'maxSessions', 1);
    if (maxSessionsPerOwner !== undefined) assertWholeNumberOption(maxSessionsPerOwner, 'maxSessionsPerOwner', 1);
    this.maxSessionsPerOwner = maxSessionsPerOwner;
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
    for (let node = this.#byExpiry.peek(); node !== undefined && node.expiresAtMs <= now; node = this.#byExpiry.peek()) {
      this.#byExpiry.pop();
      if (this.#isCurrent(node)) {
        this.#remove(node.key);
        dropped++;
      }
    }
    return dropped;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  async listByOwner(owner: string): Promise<OwnedSession[]> {
    assertOwner(owner);
    const now = this.#nowMs();
    const sessions: OwnedSession[] = [];
    for (const key of this.#byOwner.get(owner) ?? []) {
      const entry = this.#live(key);
      if (entry !== undefined) {
        sessions.push({ keyDigest: digestKey(key), expiresInSeconds: Math.max(0, Math.round((entry.expiresAtMs - now) / 1000)), createdAt: entry.createdAt });
      }
    }
    return sessions;
  }

  async clearByOwner(owner: string, options: ClearByOwnerOptions = {}): Promise<number> {
    assertOwner(owner);
    const { except } = options;
    if (except !== undefined) assertKeyIsString(except);
    let cleared = 0;
    for (const key of [...(this.#byOwner.get(owner) ?? [])]) {
      if (key === except) continue;
      if (this.#live(key) !== undefined) cleared++;
      this.#remove(key);
    }
    return cleared;
  }

  protected async storeGenerate(key: string, value: string | null, expirySeconds: number, owner?: string): Promise<void> {
    if (expirySeconds <= 0) return;
    if (this.#sessions.size >= this.maxSessions) this.#makeRoom();
    this.#put(key, { value, expiresAtMs: this.#nowMs() + expirySeconds * 1000, owner, createdAt: new Date() });
    if (owner !== undefined && this.maxSessionsPerOwner !== undefined) this.#trimOwner(owner, this.maxSessionsPerOwner);
  }

  protected async storeGet(key: string): Promise<GetResult> {
    const entry = this.#live(key);
    if (entry === undefined) return NOT_FOUND;
    if (entry.value === null) return NOT_SET;
    const period = Math.max(0, Math.round((entry.expiresAtMs - this.#nowMs()) / 1000));
    return { ok: true, value: entry.value, period };
  }

  protected async storeSet(key: string, value: string, expirySeconds: number): Promise<void> {
    const entry = this.#live(key);
    if (entry !== undefined) this.#renew(key, entry, value, expirySeconds);
  }

  protected async storeCompareAndSet(key: string, expected: string | null, value: string, expirySeconds: number): Promise<CompareAndSetResult> {
    const entry = this.#live(key);
    if (entry === undefined) return 'NotFound';
    if (entry.value !== expected) return 'conflict';
    this.#renew(key, entry, value, expirySeconds);
    return 'ok';
  }

  protected async storeClear(key: string): Promise<void> {
    this.#remove(key);
  }

  /** The entry of a live session; an expired one is dropped on the way. */
  #live(key: string): Entry | undefined {
    const entry = this.#sessions.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs > this.#nowMs()) return entry;
    this.#remove(key);
    if (this.hasListener) this.emit({ type: 'expired-on-read', store: this.storeName, keyDigest: digestKey(key) });
    return undefined;
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

  /** Removes the owner's oldest live sessions beyond `max`. */
  #trimOwner(owner: string, max: number): void {
    const live = [...(this.#byOwner.get(owner) ?? [])].filter((key) => this.#live(key) !== undefined);
    for (const key of live.slice(0, Math.max(0, live.length - max))) this.#remove(key);
  }

  #renew(key: string, entry: Entry, value: string, expirySeconds: number): void {
    if (expirySeconds <= 0) {
      this.#remove(key);
      return;
    }
    entry.value = value;
    entry.expiresAtMs = this.#nowMs() + expirySeconds * 1000;
    this.#track(key, entry);
  }

  #put(key: string, entry: Entry): void {
    this.#sessions.set(key, entry);
    if (entry.owner !== undefined) {
      const keys = this.#byOwner.get(entry.owner) ?? new Set<string>();
      this.#byOwner.set(entry.owner, keys.add(key));
    }
    this.#track(key, entry);
  }

  #track(key: string, entry: Entry): void {
    this.#byExpiry.push({ key, entry, expiresAtMs: entry.expiresAtMs });
    // Renewals and clears leave stale nodes behind; rebuild before they outnumber the sessions.
    if (this.#byExpiry.size > 2 * this.#sessions.size + 1024) this.#compact();
  }

  /** Drops expired sessions, then, if still full, the live session closest to expiry. */
  #makeRoom(): void {
    this.sweep();
    while (this.#sessions.size >= this.maxSessions) {
      const node = this.#byExpiry.pop();
      if (node === undefined) return;
      if (this.#isCurrent(node)) this.#remove(node.key);
    }
  }

  #isCurrent(node: HeapNode<Entry>): boolean {
    return this.#sessions.get(node.key) === node.entry && node.entry.expiresAtMs === node.expiresAtMs;
  }

  #compact(): void {
    const nodes: HeapNode<Entry>[] = [];
    for (const [key, entry] of this.#sessions) nodes.push({ key, entry, expiresAtMs: entry.expiresAtMs });
    this.#byExpiry.rebuild(nodes);
  }
}
