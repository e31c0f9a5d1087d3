import { DEFAULT_MAX_SESSIONS_PER_OWNER, supportsOwners, type Backend, type ClearByOwnerOptions, type CompareAndSetResult, type GenerateOptions, type GetResult, type OwnedSession, type OwnerIndexOptions, type OwnerLimitPolicy, type SetOptions } from './contract.js';
import { emitEvent, reportFailure, type SessionEvent, type SessionEventListener } from './events.js';
import { digestKey, generateKey, isWellFormedKey } from './keys.js';
import { assertWholeSeconds, ONE_WEEK } from './period.js';
import { assertKeyDigestIsString, assertKeyIsString, assertOwner, assertStorableValue, assertWholeNumberOption, DEFAULT_MAX_VALUE_BYTES } from './validate.js';

/** Options every backend takes. */
export interface BackendOptions {
  /** Expiry of new and renewed sessions when an operation names none; default {@link ONE_WEEK}. */
  defaultPeriodSeconds?: number;
  /** Largest value accepted, in bytes of UTF-8; default 1 MiB. A larger value is a `TypeError` and nothing is written. */
  maxValueBytes?: number;
  /** Receives `created`, `expired-on-read`, `pruned` and `error` events; keys appear only as digests. */
  onEvent?: SessionEventListener;
}

/** Options of backends that keep keys in a store other processes can read (PostgreSQL, Redis). */
export interface KeyStorageOptions {
  /**
   * Store the SHA-256 digest of each key (`digestKey`, 40 base64url
   * characters) instead of the key, so that a dump of the store holds no
   * usable cookie. Default `true`; `false` stores keys as they are, for stores
   * shared with other implementations.
   */
  hashKeys?: boolean;
}

/** The answer for every key that has no live session. */
export const NOT_FOUND: GetResult = Object.freeze({ ok: false, error: 'NotFound' });
/** The answer for a live session without a value. */
export const NOT_SET: GetResult = Object.freeze({ ok: false, error: 'NotSet' });

/**
 * Checks every argument once, for every backend alike, then hands the store a
 * well-formed key, a storable value and a whole expiry in seconds. A malformed
 * key never reaches the store; a bad value or expiry throws before anything is
 * written. Subclasses implement only the `store*` methods.
 */
export abstract class BaseBackend implements Backend {
  readonly maxValueBytes: number;
  /** Whether the store holds `digestKey(key)` in place of each key: `false` for a backend that gives no {@link KeyStorageOptions}. */
  readonly hashKeys: boolean;
  /** Most live sessions per owner; `undefined`: no limit (`maxSessionsPerOwner: false`). */
  readonly maxSessionsPerOwner: number | undefined;
  /** What a login beyond `maxSessionsPerOwner` does. */
  readonly onMaxSessionsPerOwner: OwnerLimitPolicy;
  #defaultPeriodSeconds: number;
  readonly #onEvent: SessionEventListener | undefined;

  /**
   * Checks the options every backend shares, once: a bad one is a
   * `TypeError` here. `keyStorage` is given by backends whose store others
   * can read; its `hashKeys` defaults to `true`.
   */
  constructor(options: BackendOptions & OwnerIndexOptions = {}, keyStorage?: KeyStorageOptions) {
    const { defaultPeriodSeconds = ONE_WEEK, maxValueBytes = DEFAULT_MAX_VALUE_BYTES, onEvent, maxSessionsPerOwner = DEFAULT_MAX_SESSIONS_PER_OWNER, onMaxSessionsPerOwner = 'end-oldest' } = options;
    const hashKeys = keyStorage === undefined ? false : (keyStorage.hashKeys ?? true);
    if (typeof hashKeys !== 'boolean') throw new TypeError('hashKeys must be a boolean');
    this.hashKeys = hashKeys;
    if (maxSessionsPerOwner !== false) assertWholeNumberOption(maxSessionsPerOwner, 'maxSessionsPerOwner (or false)', 1);
    this.maxSessionsPerOwner = maxSessionsPerOwner === false ? undefined : maxSessionsPerOwner;
    if (onMaxSessionsPerOwner !== 'end-oldest' && onMaxSessionsPerOwner !== 'refuse') throw new TypeError(`onMaxSessionsPerOwner must be 'end-oldest' or 'refuse', got ${String(onMaxSessionsPerOwner)}`);
    this.onMaxSessionsPerOwner = onMaxSessionsPerOwner;
    if (onEvent !== undefined && typeof onEvent !== 'function') throw new TypeError('onEvent must be a function');
    this.#onEvent = onEvent;
    assertWholeSeconds(defaultPeriodSeconds, 'defaultPeriodSeconds');
    assertWholeNumberOption(maxValueBytes, 'maxValueBytes', 1);
    this.#defaultPeriodSeconds = defaultPeriodSeconds;
    this.maxValueBytes = maxValueBytes;
  }

  defaultPeriod(): number {
    return this.#defaultPeriodSeconds;
  }

  setDefaultPeriod(periodSeconds: number): void {
    assertWholeSeconds(periodSeconds, 'period');
    this.#defaultPeriodSeconds = periodSeconds;
  }

  async generate(options: GenerateOptions = {}): Promise<string> {
    const ttlSeconds = this.#ttlSeconds(options.expiry);
    const { value, owner } = options;
    if (value !== undefined) assertStorableValue(value, this.maxValueBytes);
    if (owner !== undefined) {
      assertOwner(owner);
      if (!supportsOwners(this)) throw new TypeError(`${this.constructor.name} keeps no sessions by owner: generate({ owner }) is not available`);
    }
    const key = generateKey();
    await this.reported('generate', this.storeGenerate(key, value ?? null, ttlSeconds, owner));
    if (this.#onEvent !== undefined && ttlSeconds > 0) this.emit({ type: 'created', store: this.storeName, keyDigest: digestKey(key), ...(owner === undefined ? {} : { owner }) });
    return key;
  }

  // get, set, compareAndSet, put and clear hand back the store's own promise: an
  // async function would wrap it in one more (a few microtask turns per
  // operation, a measurable share of the memory backend's cost). Bad input
  // still rejects rather than throws, as from an async function.

  get(key: string): Promise<GetResult> {
    return this.withKey('get', key, NOT_FOUND, (checked) => this.storeGet(checked));
  }

  set(key: string, value: string, options: SetOptions = {}): Promise<void> {
    try {
      assertKeyIsString(key);
      assertStorableValue(value, this.maxValueBytes);
      const ttlSeconds = this.#ttlSeconds(options.expiry);
      if (!isWellFormedKey(key)) return Promise.resolve();
      return this.reported('set', this.storeSet(key, value, ttlSeconds));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  compareAndSet(key: string, expected: string | null, value: string, options: SetOptions = {}): Promise<CompareAndSetResult> {
    try {
      assertKeyIsString(key);
      if (expected !== null && typeof expected !== 'string') throw new TypeError('expected value must be a string or null');
      assertStorableValue(value, this.maxValueBytes);
      const ttlSeconds = this.#ttlSeconds(options.expiry);
      if (!isWellFormedKey(key)) return Promise.resolve('NotFound');
      return this.reported('compareAndSet', this.storeCompareAndSet(key, expected, value, ttlSeconds));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  clear(key: string): Promise<void> {
    return this.withKey('clear', key, undefined, (checked) => this.storeClear(checked));
  }

  /**
   * `work(key)` reported as `operation`, for a key a caller handed in: a
   * non-string key rejects with a `TypeError`, a malformed one answers
   * `absent` without reaching the store (it names no session).
   */
  protected withKey<T>(operation: string, key: string, absent: T, work: (key: string) => Promise<T>): Promise<T> {
    try {
      assertKeyIsString(key);
      if (!isWellFormedKey(key)) return Promise.resolve(absent);
      return this.reported(operation, work(key));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Checks the arguments as `set` does, except that a malformed key is a
   * `TypeError`: put names the key, so a bad one is the caller's bug, not an
   * absent session.
   */
  put(key: string, value: string, options: SetOptions = {}): Promise<void> {
    try {
      assertKeyIsString(key);
      if (!isWellFormedKey(key)) throw new TypeError('put needs a well-formed key: 1 to 40 characters of A-Z a-z 0-9 + / = _ -');
      assertStorableValue(value, this.maxValueBytes);
      if (options === null || typeof options !== 'object') throw new TypeError('put options must be an object');
      const ttlSeconds = this.#ttlSeconds(options.expiry);
      return this.reported('put', this.storePut(key, value, ttlSeconds));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** What the store holds for `key`: its digest, or the key itself when `hashKeys` is false. */
  protected storedKey(key: string): string {
    return this.hashKeys ? digestKey(key) : key;
  }

  /** The digest events and listings name a session by, from what the store holds for its key. */
  protected digestOfStored(storedKey: string): string {
    return this.hashKeys ? storedKey : digestKey(storedKey);
  }

  /** Names this store in events, e.g. `postgres:"session"`. */
  protected get storeName(): string {
    return this.constructor.name;
  }

  /** Sends an event to the `onEvent` listener, if any; never throws. */
  protected emit(event: SessionEvent): void {
    emitEvent(this.#onEvent, event);
  }

  /** Whether anyone listens: lets subclasses skip work (digests) done only for events. */
  protected get hasListener(): boolean {
    return this.#onEvent !== undefined;
  }

  abstract close(): Promise<void>;

  /** Stores a new session; `ttlSeconds <= 0` may store nothing, since such a session is already gone. `owner` is only passed to backends that keep sessions by owner. */
  protected abstract storeGenerate(key: string, value: string | null, ttlSeconds: number, owner?: string): Promise<void>;
  protected abstract storeGet(key: string): Promise<GetResult>;
  protected abstract storeSet(key: string, value: string, ttlSeconds: number): Promise<void>;
  protected abstract storeCompareAndSet(key: string, expected: string | null, value: string, ttlSeconds: number): Promise<CompareAndSetResult>;
  /** Creates or replaces the session of `key` with no owner; `ttlSeconds <= 0` removes it. */
  protected abstract storePut(key: string, value: string, ttlSeconds: number): Promise<void>;
  protected abstract storeClear(key: string): Promise<void>;

  /**
   * Reports a store failure (a `BackendError`) as an `error` event during
   * `operation`, then rethrows it to the caller; free when nobody listens.
   * Subclasses wrap their own operations (owner work) in it.
   */
  protected reported<T>(operation: string, work: Promise<T>): Promise<T> {
    return reportFailure(this.#onEvent, this.storeName, operation, work);
  }

  // The owners capability, for the subclasses that offer it: each of their public owner operations is one
  // call of these, so the checks and the events are the same on every backend.

  /** `listByOwner`: checks the owner, then `list(owner)`, a failure reported. */
  protected async ownerList(owner: string, list: (owner: string) => Promise<OwnedSession[]>): Promise<OwnedSession[]> {
    assertOwner(owner);
    return this.reported('listByOwner', list(owner));
  }

  /** `clearByOwner`: checks the owner and `except`, then `clear(owner, except)` as a {@link pruning}. */
  protected async ownerClear(owner: string, options: ClearByOwnerOptions | undefined, clear: (owner: string, except: string | undefined) => Promise<number>): Promise<number> {
    assertOwner(owner);
    const except = options?.except;
    if (except !== undefined) assertKeyIsString(except);
    return this.pruning('clearByOwner', () => clear(owner, except));
  }

  /** `clearOwnedSession`: checks the owner and the digest; a malformed digest names no session and answers false without the store. */
  protected async ownerClearOne(owner: string, keyDigest: string, clear: (owner: string, keyDigest: string) => Promise<boolean>): Promise<boolean> {
    assertOwner(owner);
    assertKeyDigestIsString(keyDigest);
    return isWellFormedKey(keyDigest) && this.reported('clearOwnedSession', clear(owner, keyDigest));
  }

  /** Work that removes sessions in bulk (`clearByOwner`, `clearAll`): a failure reported, and a `pruned` event with how many went and how long it took. */
  protected async pruning(operation: string, work: () => Promise<number>): Promise<number> {
    const started = performance.now();
    const deletedCount = await this.reported(operation, work());
    this.emit({ type: 'pruned', store: this.storeName, deletedCount, durationMs: performance.now() - started });
    return deletedCount;
  }

  #ttlSeconds(expiry: number | undefined): number {
    if (expiry === undefined) return this.#defaultPeriodSeconds;
    assertWholeSeconds(expiry, 'expiry');
    return expiry;
  }
}
