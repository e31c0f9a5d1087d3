import {
  BackendError,
  type ClearByOwnerOptions,
  type Backend,
  type CompareAndSetResult,
  type GenerateOptions,
  type GetResult,
  type OwnedSession,
  type OwnerIndexBackend,
  type SetOptions,
} from '../../../src/index.js';

/** The operations every backend has, counted in `calls`. */
export type Operation = 'get' | 'generate' | 'set' | 'compareAndSet' | 'put' | 'clear';
/** Operations of backends that keep sessions by owner. */
export type OwnerOperation = 'listByOwner' | 'clearByOwner' | 'clearOwnedSession';

/**
 * A real backend seen through a window: counts each operation and, for
 * adapter error-path tests, rejects chosen operations with a BackendError as
 * a store outage would. The store itself is the real backend underneath.
 */
export class InstrumentedBackend implements Backend {
  readonly inner: Backend;
  readonly calls: Record<Operation, number> = { get: 0, generate: 0, set: 0, compareAndSet: 0, put: 0, clear: 0 };
  /** Operations that reject with `BackendError('unavailable')` until removed. */
  readonly failing = new Set<Operation | OwnerOperation>();

  constructor(inner: Backend) {
    this.inner = inner;
  }

  get maxValueBytes(): number | undefined {
    return (this.inner as { maxValueBytes?: number }).maxValueBytes;
  }

  /** Store writes so far (generate, set, compareAndSet, put, clear). */
  get writes(): number {
    return this.calls.generate + this.calls.set + this.calls.compareAndSet + this.calls.put + this.calls.clear;
  }

  resetCounts(): void {
    for (const op of Object.keys(this.calls) as Operation[]) this.calls[op] = 0;
  }

  #enter(op: Operation): void {
    this.calls[op] += 1;
    this.failIfAsked(op);
  }

  /** Throws the test outage when `op` is in {@link failing}. */
  protected failIfAsked(op: Operation | OwnerOperation): void {
    if (this.failing.has(op)) throw new BackendError('unavailable', `test outage: ${op}`);
  }

  defaultPeriod(): number {
    return this.inner.defaultPeriod();
  }
  setDefaultPeriod(periodSeconds: number): void {
    this.inner.setDefaultPeriod(periodSeconds);
  }
  async generate(options?: GenerateOptions): Promise<string> {
    this.#enter('generate');
    return this.inner.generate(options);
  }
  async get(key: string): Promise<GetResult> {
    this.#enter('get');
    return this.inner.get(key);
  }
  async set(key: string, value: string, options?: SetOptions): Promise<void> {
    this.#enter('set');
    return this.inner.set(key, value, options);
  }
  async compareAndSet(key: string, expected: string | null, value: string, options?: SetOptions): Promise<CompareAndSetResult> {
    this.#enter('compareAndSet');
    return this.inner.compareAndSet(key, expected, value, options);
  }
  async put(key: string, value: string, options?: SetOptions): Promise<void> {
    this.#enter('put');
    return this.inner.put(key, value, options);
  }
  async clear(key: string): Promise<void> {
    this.#enter('clear');
    return this.inner.clear(key);
  }
  async close(): Promise<void> {
    return this.inner.close();
  }
}

/** {@link InstrumentedBackend} over a backend that keeps sessions by owner, forwarding (and failing on demand) those operations too. */
export class InstrumentedOwnerBackend extends InstrumentedBackend implements OwnerIndexBackend {
  readonly ownerInner: OwnerIndexBackend;
  readonly ownerCalls: Record<OwnerOperation, number> = { listByOwner: 0, clearByOwner: 0, clearOwnedSession: 0 };

  constructor(inner: OwnerIndexBackend) {
    super(inner);
    this.ownerInner = inner;
  }

  async listByOwner(owner: string): Promise<OwnedSession[]> {
    this.ownerCalls.listByOwner += 1;
    this.failIfAsked('listByOwner');
    return this.ownerInner.listByOwner(owner);
  }
  async clearByOwner(owner: string, options?: ClearByOwnerOptions): Promise<number> {
    this.ownerCalls.clearByOwner += 1;
    this.failIfAsked('clearByOwner');
    return this.ownerInner.clearByOwner(owner, options);
  }
  async clearOwnedSession(owner: string, keyDigest: string): Promise<boolean> {
    this.ownerCalls.clearOwnedSession += 1;
    this.failIfAsked('clearOwnedSession');
    return this.ownerInner.clearOwnedSession(owner, keyDigest);
  }
}

/** Two clocks moved together: wall time for session creation times, monotonic time for MemoryBackend expiry. */
export class TestClock {
  wallMs = Date.UTC(2030, 0, 1);
  monoMs = 1_000_000;
  readonly nowMs = (): number => this.wallMs;
  readonly monotonicMs = (): number => this.monoMs;

  advance(seconds: number): void {
    this.wallMs += seconds * 1000;
    this.monoMs += seconds * 1000;
  }
}
