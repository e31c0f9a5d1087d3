import type { OwnerIndexBackend } from '../core/contract.js';
import type { SessionEvent } from '../core/events.js';
import { digestKey } from '../core/keys.js';
import { assertOwner, assertWholeNumberOption } from '../core/validate.js';
import { cookieHeaders, clearingHeaders, VARY_COOKIE, type HeaderPair } from './headers.js';
import { decodeEnvelope, encodeEnvelope, utf8Bytes, type DataRecord, type Envelope } from './envelope.js';
import { HTTP_EVENT_STORE, HttpEvents } from './http-events.js';
import { readSessionCookie, type CookieHeader } from './read-cookie.js';
import { SessionConflictError, SessionDataTooLargeError } from './session-errors.js';
import type { ResolvedSessionOptions } from './session-options.js';
import type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionStatus } from './typed-session.js';

/** A field this request removed. */
const UNSET = Symbol('unset');
type Change = { readonly value: unknown } | typeof UNSET;
/** A key to remove at commit; `destroyed` when `destroy()` asked for it (reported as a `destroyed` event). */
type StaleKey = { readonly key: string; readonly destroyed: boolean };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The typed session of one request and its commit. Adapters create it with
 * {@link RequestSession.load} before the handler runs and call
 * {@link RequestSession.commit} before the response head is written.
 *
 * State is tracked, never diffed: `#changes` holds the fields this request set
 * or unset, and only those are merged into the stored data. Every store
 * operation of one request runs in order through `#queue`.
 *
 * The owner is fixed per key (the backend files a key under its owner at
 * `generate`): `#owner` is the stored key's, `#pendingOwner` the one a
 * `regenerate({ owner })` gives the next key. A session that vanished during
 * the request (logged out elsewhere) loses its owner, so an in-flight request
 * can never bring a revoked login back.
 */
export class RequestSession<Data extends object = Record<string, unknown>> implements Session<Data> {
  readonly #options: ResolvedSessionOptions;
  readonly #events: HttpEvents;
  readonly #hadCookie: boolean;
  readonly #isNew: boolean;
  /** Key of the stored session this response points at; undefined while there is none. */
  #key: string | undefined;
  /** The stored value as last read or written under `#key` (the compare-and-set's expected value). */
  #raw: string | undefined;
  /** The data of `#raw`, or the data a new session starts from. */
  #stored: DataRecord = {};
  #createdAtMs: number | undefined;
  #expiresAtMs: number | undefined;
  /** This session's own idle period (`setExpirySeconds`), kept in its envelope; undefined: the configured one. */
  #ownExpirySeconds: number | undefined;
  /** `setExpirySeconds` was called in this request: a re-read keeps this request's period. */
  #ownExpiryChanged = false;
  /** Owner of the stored session under `#key`. */
  #owner: string | undefined;
  /** Owner of the next key this request creates, from `regenerate({ owner })`. */
  #pendingOwner: string | undefined;
  readonly #changes = new Map<string, Change>();
  /** After `regenerate()`: the old key, whose latest data the new session takes. */
  #regenerateFrom: string | undefined;
  /** Keys to remove from the store at commit (regenerated, destroyed, past their lifetime). */
  readonly #staleKeys: StaleKey[] = [];
  /** Events that become true only if the commit succeeds (or, for `created`, once `update()` resolved). */
  #pendingEvents: SessionEvent[] = [];
  /** Write even without field changes (a pending regeneration). */
  #forceWrite = false;
  /** A read that should renew the expiry (throttled by `touchAfterSeconds`). */
  #touchDue = false;
  #clearCookie = false;
  /** The cookie the response must carry: set by every successful write. */
  #cookie: { key: string; expirySeconds: number } | undefined;
  #status: SessionStatus = 'unmodified';
  #queue: Promise<unknown> = Promise.resolve();
  #commit: Promise<HeaderPair[]> | undefined;

  private constructor(options: ResolvedSessionOptions, hadCookie: boolean, loaded: { key: string; raw: string; envelope: Envelope; periodSeconds: number } | undefined) {
    this.#options = options;
    this.#events = new HttpEvents(options.onEvent);
    this.#hadCookie = hadCookie;
    this.#isNew = loaded === undefined;
    if (loaded === undefined) return;
    this.#key = loaded.key;
    this.#raw = loaded.raw;
    this.#stored = loaded.envelope.data;
    this.#owner = loaded.envelope.owner;
    this.#createdAtMs = loaded.envelope.createdAtMs;
    this.#ownExpirySeconds = loaded.envelope.expirySeconds;
    this.#expiresAtMs = options.nowMs() + loaded.periodSeconds * 1000;
    this.#touchDue = this.#writeExpirySeconds(loaded.envelope.createdAtMs) - loaded.periodSeconds >= options.touchAfterSeconds;
  }

  /**
   * Reads the session named by the request's `Cookie` header: one store read
   * when there is a well-formed session cookie, none otherwise. A hostile
   * cookie, a forged key, a value that is not a typed session, or a session
   * past its absolute lifetime all give a new, empty session. Rejects only on
   * a store failure (reported as an `error` event during `load`).
   */
  static async load<Data extends object>(options: ResolvedSessionOptions, cookieHeader: CookieHeader): Promise<RequestSession<Data>> {
    const cookie = readSessionCookie(cookieHeader, options.cookieName);
    if (cookie.kind !== 'key') return new RequestSession<Data>(options, cookie.kind === 'invalid', undefined);
    let result;
    try {
      result = await options.backend.get(cookie.key);
    } catch (error) {
      new HttpEvents(options.onEvent).failed('load', error);
      throw error;
    }
    const envelope = result.ok ? decodeEnvelope(result.value) : undefined;
    if (!result.ok || envelope === undefined) return new RequestSession<Data>(options, true, undefined);
    const { absoluteLifetimeSeconds } = options;
    if (absoluteLifetimeSeconds !== undefined && options.nowMs() >= envelope.createdAtMs + absoluteLifetimeSeconds * 1000) {
      const expired = new RequestSession<Data>(options, true, undefined);
      expired.#staleKeys.push({ key: cookie.key, destroyed: false });
      expired.#clearCookie = true;
      const events = expired.#events;
      if (events.enabled) events.emit({ type: 'expired-on-read', store: HTTP_EVENT_STORE, keyDigest: events.digest(cookie.key) });
      return expired;
    }
    return new RequestSession<Data>(options, true, { key: cookie.key, raw: result.value, envelope, periodSeconds: result.period });
  }

  get status(): SessionStatus {
    return this.#status;
  }

  get isNew(): boolean {
    return this.#isNew;
  }

  get expiresInSeconds(): number | undefined {
    if (this.#expiresAtMs === undefined) return undefined;
    return Math.max(0, Math.round((this.#expiresAtMs - this.#options.nowMs()) / 1000));
  }

  get createdAt(): Date | undefined {
    return this.#createdAtMs === undefined ? undefined : new Date(this.#createdAtMs);
  }

  get keyDigest(): string | undefined {
    return this.#key === undefined ? undefined : digestKey(this.#key);
  }

  get ownExpirySeconds(): number | undefined {
    return this.#ownExpirySeconds;
  }

  setExpirySeconds(expirySeconds: number | undefined): void {
    this.#assertOpen();
    if (expirySeconds !== undefined) assertWholeNumberOption(expirySeconds, 'expirySeconds', 1);
    this.#ownExpirySeconds = expirySeconds;
    this.#ownExpiryChanged = true;
    this.#forceWrite = true;
    this.#status = 'modified';
  }

  reload(): Promise<void> {
    this.#assertOpen();
    return this.#enqueue(async () => {
      const key = this.#key;
      if (key !== undefined) {
        const result = await this.#events.reported('reload', this.#options.backend.get(key));
        const envelope = result.ok ? decodeEnvelope(result.value) : undefined;
        if (!result.ok || envelope === undefined) this.#forget();
        else {
          this.#raw = result.value;
          this.#stored = envelope.data;
          this.#owner = envelope.owner;
          this.#createdAtMs = envelope.createdAtMs;
          if (result.ok) this.#expiresAtMs = this.#options.nowMs() + result.period * 1000;
          if (!this.#ownExpiryChanged) this.#ownExpirySeconds = envelope.expirySeconds;
        }
      }
      this.#changes.clear();
    });
  }

  get owner(): string | undefined {
    return this.#pendingOwner ?? this.#owner;
  }

  get data(): Readonly<Partial<Data>> {
    return this.#view() as Partial<Data>;
  }

  get<K extends keyof Data & string>(name: K): Data[K] | undefined {
    const change = this.#changes.get(name);
    if (change !== undefined) return change === UNSET ? undefined : (change.value as Data[K]);
    return Object.hasOwn(this.#stored, name) ? (this.#stored[name] as Data[K]) : undefined;
  }

  has(name: keyof Data & string): boolean {
    return this.get(name) !== undefined;
  }

  set<K extends keyof Data & string>(name: K, value: Data[K]): void {
    this.#assertOpen();
    assertFieldName(name);
    if (value === undefined) {
      this.unset(name);
      return;
    }
    const previous = this.#changes.get(name);
    this.#changes.set(name, { value: jsonCopy(value, `session field ${name}`) });
    try {
      this.#encode(this.#view());
    } catch (error) {
      if (previous === undefined) this.#changes.delete(name);
      else this.#changes.set(name, previous);
      throw error;
    }
    this.#status = 'modified';
  }

  unset(name: keyof Data & string): void {
    this.#assertOpen();
    assertFieldName(name);
    this.#changes.set(name, UNSET);
    this.#status = 'modified';
  }

  update(fn: (data: Partial<Data>) => Partial<Data>): Promise<Partial<Data>> {
    this.#assertOpen();
    if (typeof fn !== 'function') throw new TypeError('update() needs a function');
    return this.#enqueue(async () => {
      const written = await this.#events.reported(
        'update',
        this.#write((stored) => {
          const next: unknown = fn(structuredClone(this.#apply(stored)) as Partial<Data>);
          if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new TypeError('update() must return an object');
          return jsonCopy(next, 'session data') as DataRecord;
        }),
      );
      this.#changes.clear();
      this.#status = 'modified';
      // A session created here stays whatever the commit does; a regeneration completes only at the commit.
      this.#flushEvents((event) => event.type === 'created');
      return structuredClone(written) as Partial<Data>;
    });
  }

  regenerate(options: RegenerateOptions = {}): void {
    this.#assertOpen();
    if (typeof options !== 'object' || options === null) throw new TypeError('regenerate() options must be an object');
    const { owner, keepData = true } = options;
    if (typeof keepData !== 'boolean') throw new TypeError('regenerate() keepData must be a boolean');
    if (owner !== undefined) {
      this.#ownerBackend('regenerate({ owner })');
      assertOwner(owner);
      this.#pendingOwner = owner;
    } else if (!keepData) {
      this.#pendingOwner = undefined;
    }
    if (this.#key !== undefined) {
      this.#staleKeys.push({ key: this.#key, destroyed: false });
      this.#regenerateFrom = this.#key;
      this.#key = undefined;
      this.#raw = undefined;
      this.#cookie = undefined;
      this.#forceWrite = true;
      this.#touchDue = false;
      this.#status = 'modified';
    } else if (owner !== undefined) {
      // Logging in without a session (or after destroy()) still makes one, under its owner.
      this.#forceWrite = true;
      this.#status = 'modified';
    }
    if (!keepData) {
      // The old key is already listed for removal; the new one starts from nothing.
      this.#forget();
      this.#changes.clear();
    }
  }

  destroy(): void {
    this.#assertOpen();
    this.#destroyNow();
  }

  logoutEverywhere(options: LogoutEverywhereOptions = {}): Promise<number> {
    this.#assertOpen();
    const backend = this.#ownerBackend('logoutEverywhere()');
    if (typeof options !== 'object' || options === null) throw new TypeError('logoutEverywhere() options must be an object');
    const { keepCurrent = false } = options;
    if (typeof keepCurrent !== 'boolean') throw new TypeError('keepCurrent must be a boolean');
    return this.#enqueue(async () => {
      const owner = this.owner;
      let removed = 0;
      if (owner !== undefined) {
        // A pending regeneration's old key holds the data the new key takes: keep it until the commit moves it.
        const current = keepCurrent ? (this.#key ?? this.#regenerateFrom) : undefined;
        const startedMs = performance.now();
        removed = await this.#events.reported('logoutEverywhere', backend.clearByOwner(owner, current === undefined ? {} : { except: current }));
        this.#events.emit({ type: 'pruned', store: HTTP_EVENT_STORE, deletedCount: removed, durationMs: performance.now() - startedMs });
      }
      // Only once the store call succeeded: a failure leaves this session as it was.
      if (!keepCurrent) this.#destroyNow();
      return removed;
    });
  }

  listOwnSessions(): Promise<OwnSession[]> {
    const backend = this.#ownerBackend('listOwnSessions()');
    return this.#enqueue(async () => {
      const owner = this.owner;
      if (owner === undefined) return [];
      const current = this.#key ?? this.#regenerateFrom;
      const currentDigest = current === undefined ? undefined : this.#events.digest(current);
      const sessions = await this.#events.reported('listOwnSessions', backend.listByOwner(owner));
      return sessions.map(({ keyDigest, expiresInSeconds, createdAt }) => ({ keyDigest, expiresInSeconds, createdAt, current: keyDigest === currentDigest }));
    });
  }

  #destroyNow(): void {
    const hadSession = this.#key !== undefined || this.#staleKeys.length > 0;
    if (this.#key !== undefined) this.#staleKeys.push({ key: this.#key, destroyed: true });
    this.#forget();
    this.#pendingOwner = undefined;
    this.#ownExpirySeconds = undefined;
    this.#ownExpiryChanged = false;
    this.#changes.clear();
    this.#cookie = undefined;
    this.#forceWrite = false;
    this.#touchDue = false;
    this.#clearCookie = this.#hadCookie || hadSession;
    this.#status = 'destroyed';
  }

  /**
   * Saves what this request changed and returns the headers for the response:
   * `Set-Cookie` (when a session was written, renewed or destroyed), then
   * `Cache-Control: no-store` beside it, and `Vary: Cookie` always. Runs once;
   * later calls return the same promise, and the session accepts no change
   * once it has started. On rejection nothing is half-written: the old key
   * still holds its session and the response must not send a cookie.
   */
  commit(): Promise<HeaderPair[]> {
    this.#commit ??= this.#enqueue(() => this.#events.reported('commit', this.#commitNow()));
    return this.#commit;
  }

  async #commitNow(): Promise<HeaderPair[]> {
    const { backend } = this.#options;
    let generatedKey: string | undefined;
    // Unsetting fields of a session that does not exist yet creates nothing (lazy).
    const createsEmpty = this.#key === undefined && !this.#forceWrite && Object.keys(this.#apply({})).length === 0;
    if ((this.#changes.size > 0 || this.#forceWrite) && !createsEmpty) {
      const keyBefore = this.#key;
      await this.#write((stored) => this.#apply(stored));
      this.#changes.clear();
      if (this.#key !== keyBefore) generatedKey = this.#key;
    } else if (this.#touchDue && this.#key !== undefined && this.#raw !== undefined) {
      await this.#touch(this.#key, this.#raw);
    }
    try {
      for (const { key } of this.#staleKeys) await backend.clear(key);
    } catch (error) {
      // The client keeps its old cookie, whose session is still there: drop the new one.
      if (generatedKey !== undefined) await backend.clear(generatedKey).catch(() => undefined);
      throw error;
    }
    if (this.#events.enabled) {
      for (const { key, destroyed } of this.#staleKeys) {
        if (destroyed) this.#pendingEvents.push({ type: 'destroyed', store: HTTP_EVENT_STORE, keyDigest: this.#events.digest(key) });
      }
    }
    this.#flushEvents(() => true);
    return this.#headers();
  }

  /** Emits the pending events that `which` selects, in order, and keeps the others pending. */
  #flushEvents(which: (event: SessionEvent) => boolean): void {
    if (this.#pendingEvents.length === 0) return;
    const due = this.#pendingEvents.filter(which);
    this.#pendingEvents = this.#pendingEvents.filter((event) => !which(event));
    for (const event of due) this.#events.emit(event);
  }

  #headers(): HeaderPair[] {
    const { cookieName, cookie } = this.#options;
    if (this.#cookie !== undefined) {
      // A session given its own period ("remember me") outlives the browser even when cookies are discarded by default.
      const options = cookie.discard && this.#ownExpirySeconds !== undefined ? { ...cookie, discard: false } : cookie;
      return cookieHeaders(cookieName, { key: this.#cookie.key, value: '', expiryPeriod: this.#cookie.expirySeconds, modified: true }, options);
    }
    if (this.#clearCookie) return clearingHeaders(cookieName, cookie);
    return [VARY_COOKIE];
  }

  /**
   * Writes `transform(stored data)` under the session's key with a
   * compare-and-set, re-reading and retrying on a conflict; creates the
   * session (a new key) when there is none or it vanished meanwhile.
   */
  async #write(transform: (stored: DataRecord) => DataRecord): Promise<DataRecord> {
    const { backend, maxUpdateAttempts } = this.#options;
    for (let attempt = 1; ; attempt++) {
      const key = this.#key;
      if (key === undefined) return this.#create(transform);
      const data = transform(this.#stored);
      const expirySeconds = this.#writeExpirySeconds(this.#createdAtMs ?? this.#options.nowMs());
      if (expirySeconds <= 0) {
        // The absolute lifetime ran out during this request: what it writes goes to a new session.
        this.#staleKeys.push({ key, destroyed: false });
        this.#forget();
        continue;
      }
      const value = this.#encode(data);
      const result = await backend.compareAndSet(key, this.#raw ?? null, value, { expiry: expirySeconds });
      if (result === 'ok') {
        this.#wrote(key, value, data, expirySeconds);
        this.#forceWrite = false;
        return data;
      }
      if (result === 'NotFound') {
        // Expired or destroyed by another request: never revive it, start over with this request's changes only.
        this.#forget();
        continue;
      }
      if (attempt >= maxUpdateAttempts) throw new SessionConflictError(attempt);
      if (this.#events.enabled) this.#events.emit({ type: 'conflict-retried', store: HTTP_EVENT_STORE, keyDigest: this.#events.digest(key), attempt });
      await sleep(Math.random() * Math.min(100, 2 ** attempt));
      await this.#reread(key);
    }
  }

  async #create(transform: (stored: DataRecord) => DataRecord): Promise<DataRecord> {
    const { backend, nowMs } = this.#options;
    const from = this.#regenerateFrom;
    let base = this.#stored;
    let createdAtMs = this.#createdAtMs;
    let owner = this.#owner;
    if (from !== undefined) {
      const latest = await backend.get(from);
      const envelope = latest.ok ? decodeEnvelope(latest.value) : undefined;
      if (envelope === undefined) {
        // Removed meanwhile (logged out elsewhere): never revive it, start over with this request's changes only.
        base = {};
        createdAtMs = undefined;
        owner = undefined;
      } else {
        base = envelope.data;
        createdAtMs = envelope.createdAtMs;
        owner = envelope.owner;
        if (!this.#ownExpiryChanged) this.#ownExpirySeconds = envelope.expirySeconds;
      }
    }
    owner = this.#pendingOwner ?? owner;
    if (createdAtMs === undefined || this.#writeExpirySeconds(createdAtMs) <= 0) createdAtMs = nowMs();
    const data = transform(base);
    const expirySeconds = this.#writeExpirySeconds(createdAtMs);
    const value = this.#encode(data, createdAtMs, owner);
    const key = await backend.generate(owner === undefined ? { value, expiry: expirySeconds } : { value, expiry: expirySeconds, owner });
    this.#createdAtMs = createdAtMs;
    this.#owner = owner;
    this.#pendingOwner = undefined;
    this.#regenerateFrom = undefined;
    this.#forceWrite = false;
    this.#wrote(key, value, data, expirySeconds);
    if (this.#events.enabled) {
      const keyDigest = this.#events.digest(key);
      this.#pendingEvents.push(
        from === undefined
          ? { type: 'created', store: HTTP_EVENT_STORE, keyDigest, ...(owner === undefined ? {} : { owner }) }
          : { type: 'regenerated', store: HTTP_EVENT_STORE, fromDigest: this.#events.digest(from), toDigest: keyDigest },
      );
    }
    return data;
  }

  /** Renews the expiry without changing the value; a conflict means another request just renewed it. */
  async #touch(key: string, raw: string): Promise<void> {
    const expirySeconds = this.#writeExpirySeconds(this.#createdAtMs ?? this.#options.nowMs());
    if (expirySeconds <= 0) return;
    const result = await this.#options.backend.compareAndSet(key, raw, raw, { expiry: expirySeconds });
    if (result === 'ok') this.#wrote(key, raw, this.#stored, expirySeconds);
  }

  async #reread(key: string): Promise<void> {
    const result = await this.#options.backend.get(key);
    const envelope = result.ok ? decodeEnvelope(result.value) : undefined;
    if (!result.ok || envelope === undefined) {
      this.#forget();
      return;
    }
    this.#raw = result.value;
    this.#stored = envelope.data;
    this.#owner = envelope.owner;
    if (!this.#ownExpiryChanged) this.#ownExpirySeconds = envelope.expirySeconds;
  }

  #wrote(key: string, raw: string, data: DataRecord, expirySeconds: number): void {
    this.#key = key;
    this.#raw = raw;
    this.#stored = data;
    this.#cookie = { key, expirySeconds };
    this.#expiresAtMs = this.#options.nowMs() + expirySeconds * 1000;
    this.#touchDue = false;
  }

  /** The stored session is gone (destroyed, expired): the next write creates a new one from nothing. */
  #forget(): void {
    this.#key = undefined;
    this.#raw = undefined;
    this.#stored = {};
    this.#owner = undefined;
    this.#createdAtMs = undefined;
    this.#expiresAtMs = undefined;
    this.#regenerateFrom = undefined;
  }

  /** Seconds a write should give the session: the idle timeout, cut at the absolute lifetime. */
  #writeExpirySeconds(createdAtMs: number): number {
    const { backend, absoluteLifetimeSeconds, nowMs } = this.#options;
    const idleTimeoutSeconds = this.#ownExpirySeconds ?? this.#options.idleTimeoutSeconds ?? backend.defaultPeriod();
    if (absoluteLifetimeSeconds === undefined) return idleTimeoutSeconds;
    const leftSeconds = Math.floor((createdAtMs + absoluteLifetimeSeconds * 1000 - nowMs()) / 1000);
    return Math.min(idleTimeoutSeconds, leftSeconds);
  }

  /** The stored value for `data`; throws before any write when it is over the size limit. */
  #encode(data: DataRecord, createdAtMs = this.#createdAtMs ?? this.#options.nowMs(), owner = this.#owner): string {
    const value = encodeEnvelope({ createdAtMs, owner, data, expirySeconds: this.#ownExpirySeconds });
    const { maxDataBytes } = this.#options;
    // Each UTF-16 unit is at most 3 bytes of UTF-8, so short values skip the count.
    if (value.length * 3 > maxDataBytes) {
      const bytes = utf8Bytes(value);
      if (bytes > maxDataBytes) throw new SessionDataTooLargeError(bytes, maxDataBytes);
    }
    return value;
  }

  #view(): DataRecord {
    return this.#apply(this.#stored);
  }

  /** `stored` with this request's changes on top; a new object, `stored` is left alone. */
  #apply(stored: DataRecord): DataRecord {
    const result: DataRecord = { ...stored };
    for (const [name, change] of this.#changes) {
      if (change === UNSET) delete result[name];
      // defineProperty: a field called `__proto__` stays a field.
      else Object.defineProperty(result, name, { value: change.value, enumerable: true, writable: true, configurable: true });
    }
    return result;
  }

  #enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The backend's owner index; a `TypeError` naming `feature` unless `owners: true` was set up. */
  #ownerBackend(feature: string): OwnerIndexBackend {
    const backend = this.#options.ownerBackend;
    if (backend === undefined) throw new TypeError(`${feature} needs the session option owners: true (and a backend that keeps sessions by owner)`);
    return backend;
  }

  #assertOpen(): void {
    if (this.#commit !== undefined) throw new Error('the session was already saved for this response; change it before the response is sent');
  }
}

function assertFieldName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`session field name must be a string, got ${typeof name}`);
}

/** A deep copy through JSON, so the session holds exactly what the store will return. */
function jsonCopy(value: unknown, what: string): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${what} cannot be stored as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (text === undefined) throw new TypeError(`${what} cannot be stored as JSON (${typeof value})`);
  return JSON.parse(text);
}
