import { cookieHeaders, clearingHeaders, VARY_COOKIE, type HeaderPair } from './headers.js';
import { decodeEnvelope, encodeEnvelope, utf8Bytes, type DataRecord, type Envelope } from './envelope.js';
import { readSessionCookie, type CookieHeader } from './read-cookie.js';
import { SessionConflictError, SessionDataTooLargeError } from './session-errors.js';
import type { ResolvedSessionOptions } from './session-options.js';
import type { Session, SessionStatus } from './typed-session.js';

/** A field this request removed. */
const UNSET = Symbol('unset');
type Change = { readonly value: unknown } | typeof UNSET;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The typed session of one request and its commit. Adapters create it with
 * {@link RequestSession.load} before the handler runs and call
 * {@link RequestSession.commit} before the response head is written.
 *
 * State is tracked, never diffed: `#changes` holds the fields this request set
 * or unset, and only those are merged into the stored data. Every store
 * operation of one request runs in order through `#queue`.
 */
export class RequestSession<Data extends object = Record<string, unknown>> implements Session<Data> {
  readonly #options: ResolvedSessionOptions;
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
  readonly #changes = new Map<string, Change>();
  /** After `regenerate()`: the old key, whose latest data the new session takes. */
  #regenerateFrom: string | undefined;
  /** Keys to remove from the store at commit (regenerated, destroyed, past their lifetime). */
  readonly #staleKeys: string[] = [];
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
    this.#hadCookie = hadCookie;
    this.#isNew = loaded === undefined;
    if (loaded === undefined) return;
    this.#key = loaded.key;
    this.#raw = loaded.raw;
    this.#stored = loaded.envelope.data;
    this.#createdAtMs = loaded.envelope.createdAtMs;
    this.#expiresAtMs = options.nowMs() + loaded.periodSeconds * 1000;
    this.#touchDue = this.#writeExpirySeconds(loaded.envelope.createdAtMs) - loaded.periodSeconds >= options.touchAfterSeconds;
  }

  /**
   * Reads the session named by the request's `Cookie` header: one store read
   * when there is a well-formed session cookie, none otherwise. A hostile
   * cookie, a forged key, a value that is not a typed session, or a session
   * past its absolute lifetime all give a new, empty session. Rejects only on
   * a store failure.
   */
  static async load<Data extends object>(options: ResolvedSessionOptions, cookieHeader: CookieHeader): Promise<RequestSession<Data>> {
    const cookie = readSessionCookie(cookieHeader, options.cookieName);
    if (cookie.kind !== 'key') return new RequestSession<Data>(options, cookie.kind === 'invalid', undefined);
    const result = await options.backend.get(cookie.key);
    const envelope = result.ok ? decodeEnvelope(result.value) : undefined;
    if (!result.ok || envelope === undefined) return new RequestSession<Data>(options, true, undefined);
    const { absoluteLifetimeSeconds } = options;
    if (absoluteLifetimeSeconds !== undefined && options.nowMs() >= envelope.createdAtMs + absoluteLifetimeSeconds * 1000) {
      const expired = new RequestSession<Data>(options, true, undefined);
      expired.#staleKeys.push(cookie.key);
      expired.#clearCookie = true;
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
      const written = await this.#write((stored) => {
        const next: unknown = fn(structuredClone(this.#apply(stored)) as Partial<Data>);
        if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new TypeError('update() must return an object');
        return jsonCopy(next, 'session data') as DataRecord;
      });
      this.#changes.clear();
      this.#status = 'modified';
      return structuredClone(written) as Partial<Data>;
    });
  }

  regenerate(): void {
    this.#assertOpen();
    if (this.#key === undefined) return;
    this.#staleKeys.push(this.#key);
    this.#regenerateFrom = this.#key;
    this.#key = undefined;
    this.#raw = undefined;
    this.#cookie = undefined;
    this.#forceWrite = true;
    this.#touchDue = false;
    this.#status = 'modified';
  }

  destroy(): void {
    this.#assertOpen();
    const hadSession = this.#key !== undefined || this.#staleKeys.length > 0;
    if (this.#key !== undefined) this.#staleKeys.push(this.#key);
    this.#forget();
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
    this.#commit ??= this.#enqueue(() => this.#commitNow());
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
      for (const key of this.#staleKeys) await backend.clear(key);
    } catch (error) {
      // The client keeps its old cookie, whose session is still there: drop the new one.
      if (generatedKey !== undefined) await backend.clear(generatedKey).catch(() => undefined);
      throw error;
    }
    return this.#headers();
  }

  #headers(): HeaderPair[] {
    const { cookieName, cookie } = this.#options;
    if (this.#cookie !== undefined) {
      return cookieHeaders(cookieName, { key: this.#cookie.key, value: '', expiryPeriod: this.#cookie.expirySeconds, modified: true }, cookie);
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
        this.#staleKeys.push(key);
        this.#forget();
        continue;
      }
      const value = this.#encode(data);
      const result = await backend.compareAndSet(key, this.#raw ?? null, value, { expiry: expirySeconds });
      if (result === 'ok') {
        this.#wrote(key, value, data, expirySeconds);
        return data;
      }
      if (result === 'NotFound') {
        // Expired or destroyed by another request: never revive it, start over with this request's changes only.
        this.#forget();
        continue;
      }
      if (attempt >= maxUpdateAttempts) throw new SessionConflictError(attempt);
      await sleep(Math.random() * Math.min(100, 2 ** attempt));
      await this.#reread(key);
    }
  }

  async #create(transform: (stored: DataRecord) => DataRecord): Promise<DataRecord> {
    const { backend, nowMs } = this.#options;
    let base = this.#stored;
    let createdAtMs = this.#createdAtMs;
    if (this.#regenerateFrom !== undefined) {
      const latest = await backend.get(this.#regenerateFrom);
      const envelope = latest.ok ? decodeEnvelope(latest.value) : undefined;
      if (envelope !== undefined) {
        base = envelope.data;
        createdAtMs = envelope.createdAtMs;
      }
    }
    if (createdAtMs === undefined || this.#writeExpirySeconds(createdAtMs) <= 0) createdAtMs = nowMs();
    const data = transform(base);
    const expirySeconds = this.#writeExpirySeconds(createdAtMs);
    const value = this.#encode(data, createdAtMs);
    const key = await backend.generate({ value, expiry: expirySeconds });
    this.#createdAtMs = createdAtMs;
    this.#regenerateFrom = undefined;
    this.#forceWrite = false;
    this.#wrote(key, value, data, expirySeconds);
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
    this.#createdAtMs = undefined;
    this.#expiresAtMs = undefined;
    this.#regenerateFrom = undefined;
  }

  /** Seconds a write should give the session: the idle timeout, cut at the absolute lifetime. */
  #writeExpirySeconds(createdAtMs: number): number {
    const { backend, idleTimeoutSeconds = backend.defaultPeriod(), absoluteLifetimeSeconds, nowMs } = this.#options;
    if (absoluteLifetimeSeconds === undefined) return idleTimeoutSeconds;
    const leftSeconds = Math.floor((createdAtMs + absoluteLifetimeSeconds * 1000 - nowMs()) / 1000);
    return Math.min(idleTimeoutSeconds, leftSeconds);
  }

  /** The stored value for `data`; throws before any write when it is over the size limit. */
  #encode(data: DataRecord, createdAtMs = this.#createdAtMs ?? this.#options.nowMs()): string {
    const value = encodeEnvelope({ createdAtMs, data });
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
