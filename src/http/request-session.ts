import type { OwnerIndexBackend } from '../core/contract.js';
import type { SessionEvent } from '../core/events.js';
import { digestKey } from '../core/keys.js';
import { assertOwner, assertWholeNumberOption } from '../core/validate.js';
import { decodeEnvelope, type DataRecord } from './envelope.js';
import type { HeaderPair } from './headers.js';
import { HTTP_EVENT_STORE, HttpEvents } from './http-events.js';
import { readSessionCookie, type CookieHeader } from './read-cookie.js';
import type { ResolvedSessionOptions } from './session-options.js';
import { createSession, updateStored, type NewSessionBase, type StoreContext, type Transform, type Written } from './session/commit-loop.js';
import { CLEAR_COOKIE, isTouchDue, NO_COOKIE, responseHeaders, setCookie, type CookieDecision } from './session/cookie-decision.js';
import { FieldOverlay } from './session/field-overlay.js';
import { assertFieldName, jsonCopy } from './session/json-copy.js';
import { isPastLifetime, ownExpiryFor, writeExpirySeconds, type OwnExpiryChange } from './session/lifetime.js';
import { claimOldKey, restoreClaim, type MoveClaim } from './session/move-claim.js';
import { nextRegeneration, regenerationBase, shownSnapshot, type Regeneration } from './session/regeneration.js';
import { EMPTY_SNAPSHOT, encodeWithin, storedSnapshot, type Snapshot, type StoredSnapshot } from './session/snapshot.js';
import type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionStatus } from './typed-session.js';

/** A key to remove at commit; `destroyed` when `destroy()` asked for it (reported as a `destroyed` event). */
type StaleKey = { readonly key: string; readonly destroyed: boolean };

const GONE: MoveClaim = Object.freeze({ kind: 'gone' });

/**
 * The typed session of one request and its commit. Adapters create it with
 * {@link RequestSession.load} before the handler runs and call
 * {@link RequestSession.commit} before the response head is written.
 *
 * This class wires the parts in `./session/`: the stored session is one
 * {@link Snapshot} value replaced whole by each read or write, this
 * request's field changes a {@link FieldOverlay}, a pending `regenerate()`
 * one {@link Regeneration} value, a `setExpirySeconds` one
 * {@link OwnExpiryChange} value, the response cookie one
 * {@link CookieDecision}; the compare-and-set loop, the old key's claim and
 * the lifetime rules live in their own files. Every store operation of one
 * request runs in order through `#queue`.
 *
 * A session that vanished during the request (logged out elsewhere) loses
 * its owner, so an in-flight request can never bring a revoked login back.
 */
export class RequestSession<Data extends object = Record<string, unknown>> implements Session<Data> {
  readonly #options: ResolvedSessionOptions;
  readonly #events: HttpEvents;
  readonly #store: StoreContext;
  readonly #hadCookie: boolean;
  /** The snapshot `load` read; a read-only request renews its expiry only while it is still the current one. */
  readonly #loaded: Snapshot;
  /** Whether `#loaded` is due for an expiry renewal (throttled by `touchAfterSeconds`). */
  readonly #touchDue: boolean;
  /** The stored session this response points at (empty while there is none, and during a regeneration). */
  #snapshot: Snapshot;
  readonly #overlay = new FieldOverlay();
  #regeneration: Regeneration | undefined;
  /** This request's `setExpirySeconds`, if any (cleared only by `destroy()`). */
  #ownExpiry: OwnExpiryChange | undefined;
  /** The old key a regeneration claimed, to put back if the commit fails. */
  #claim: MoveClaim = GONE;
  /** Keys to remove from the store at commit (regenerated, destroyed, past their lifetime). */
  readonly #staleKeys: StaleKey[] = [];
  /** Events that become true only if the commit succeeds (or, for `created`, once `update()` resolved). */
  #pendingEvents: SessionEvent[] = [];
  #cookie: CookieDecision = NO_COOKIE;
  #status: SessionStatus = 'unmodified';
  #queue: Promise<unknown> = Promise.resolve();
  #commit: Promise<HeaderPair[]> | undefined;

  private constructor(options: ResolvedSessionOptions, hadCookie: boolean, loaded: { snapshot: StoredSnapshot; periodSeconds: number } | undefined) {
    this.#options = options;
    this.#events = new HttpEvents(options.onEvent);
    this.#store = { options, events: this.#events };
    this.#hadCookie = hadCookie;
    this.#loaded = loaded?.snapshot ?? EMPTY_SNAPSHOT;
    this.#snapshot = this.#loaded;
    this.#touchDue = loaded !== undefined && isTouchDue(options, loaded.snapshot.createdAtMs, loaded.periodSeconds, loaded.snapshot.ownExpirySeconds);
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
    if (isPastLifetime(options, envelope.createdAtMs)) {
      const expired = new RequestSession<Data>(options, true, undefined);
      expired.#staleKeys.push({ key: cookie.key, destroyed: false });
      expired.#cookie = CLEAR_COOKIE;
      const events = expired.#events;
      if (events.enabled) events.emit({ type: 'expired-on-read', store: HTTP_EVENT_STORE, keyDigest: events.digest(cookie.key) });
      return expired;
    }
    const snapshot = storedSnapshot(cookie.key, result.value, envelope, options.nowMs(), result.period);
    return new RequestSession<Data>(options, true, { snapshot, periodSeconds: result.period });
  }

  get status(): SessionStatus {
    return this.#status;
  }

  get isNew(): boolean {
    return this.#loaded.key === undefined;
  }

  get expiresInSeconds(): number | undefined {
    const { expiresAtMs } = this.#shown();
    if (expiresAtMs === undefined) return undefined;
    return Math.max(0, Math.round((expiresAtMs - this.#options.nowMs()) / 1000));
  }

  get createdAt(): Date | undefined {
    const { createdAtMs } = this.#shown();
    return createdAtMs === undefined ? undefined : new Date(createdAtMs);
  }

  get keyDigest(): string | undefined {
    const { key } = this.#snapshot;
    return key === undefined ? undefined : digestKey(key);
  }

  get ownExpirySeconds(): number | undefined {
    return ownExpiryFor(this.#ownExpiry, this.#shown().ownExpirySeconds);
  }

  setExpirySeconds(expirySeconds: number | undefined): void {
    if (this.#droppedLate('setExpirySeconds')) return;
    if (expirySeconds !== undefined) assertWholeNumberOption(expirySeconds, 'expirySeconds', 1);
    this.#ownExpiry = { expirySeconds, saved: false };
    this.#status = 'modified';
  }

  reload(): Promise<void> {
    if (this.#commit !== undefined) return this.#lateCall();
    return this.#enqueue(async () => {
      const { key } = this.#snapshot;
      if (key !== undefined) {
        const result = await this.#events.reported('reload', this.#options.backend.get(key));
        const envelope = result.ok ? decodeEnvelope(result.value) : undefined;
        // Gone from the store (or moved by a parallel regeneration): this request starts from nothing.
        this.#snapshot = result.ok && envelope !== undefined ? storedSnapshot(key, result.value, envelope, this.#options.nowMs(), result.period) : EMPTY_SNAPSHOT;
      }
      this.#overlay.clear();
    });
  }

  get owner(): string | undefined {
    return this.#regeneration?.owner ?? this.#shown().owner;
  }

  get data(): Readonly<Partial<Data>> {
    return this.#overlay.apply(this.#shown().data) as Partial<Data>;
  }

  get<K extends keyof Data & string>(name: K): Data[K] | undefined {
    return this.#overlay.get(name, this.#shown().data) as Data[K] | undefined;
  }

  has(name: keyof Data & string): boolean {
    return this.get(name) !== undefined;
  }

  set<K extends keyof Data & string>(name: K, value: Data[K]): void {
    if (this.#droppedLate('set')) return;
    assertFieldName(name);
    if (value === undefined) {
      this.unset(name);
      return;
    }
    const undo = this.#overlay.set(name, jsonCopy(value, `session field ${name}`));
    const shown = this.#shown();
    try {
      const data = this.#overlay.apply(shown.data);
      encodeWithin({ createdAtMs: shown.createdAtMs ?? this.#options.nowMs(), owner: shown.owner, data, expirySeconds: this.ownExpirySeconds }, this.#options.maxDataBytes);
    } catch (error) {
      undo();
      throw error;
    }
    this.#status = 'modified';
  }

  unset(name: keyof Data & string): void {
    if (this.#droppedLate('unset')) return;
    assertFieldName(name);
    this.#overlay.unset(name);
    this.#status = 'modified';
  }

  update(fn: (data: Partial<Data>) => Partial<Data>): Promise<Partial<Data>> {
    if (this.#commit !== undefined) return this.#lateCall();
    if (typeof fn !== 'function') throw new TypeError('update() needs a function');
    return this.#enqueue(async () => {
      const written = await this.#events.reported(
        'update',
        this.#write((stored) => {
          const next: unknown = fn(structuredClone(this.#overlay.apply(stored)) as Partial<Data>);
          if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new TypeError('update() must return an object');
          return jsonCopy(next, 'session data') as DataRecord;
        }),
      );
      this.#overlay.clear();
      this.#status = 'modified';
      // A session created here stays whatever the commit does; a regeneration completes only at the commit.
      this.#flushEvents((event) => event.type === 'created');
      return structuredClone(written) as Partial<Data>;
    });
  }

  regenerate(options: RegenerateOptions = {}): void {
    if (this.#droppedLate('regenerate')) return;
    if (typeof options !== 'object' || options === null) throw new TypeError('regenerate() options must be an object');
    const { owner, keepData = true } = options;
    if (typeof keepData !== 'boolean') throw new TypeError('regenerate() keepData must be a boolean');
    if (owner !== undefined) {
      this.#ownerBackend('regenerate({ owner })');
      assertOwner(owner);
    }
    // The changes made so far belong to the old session when it is not kept.
    if (!keepData) this.#overlay.clear();
    const next = nextRegeneration(this.#regeneration, this.#snapshot, { owner, keepData });
    if (next === undefined) return;
    const { key } = this.#snapshot;
    if (key !== undefined) {
      this.#staleKeys.push({ key, destroyed: false });
      this.#snapshot = EMPTY_SNAPSHOT;
    }
    this.#regeneration = next;
    this.#status = 'modified';
  }

  destroy(): void {
    if (this.#droppedLate('destroy')) return;
    this.#destroyNow();
  }

  logoutEverywhere(options: LogoutEverywhereOptions = {}): Promise<number> {
    if (this.#commit !== undefined) return this.#lateCall();
    const backend = this.#ownerBackend('logoutEverywhere()');
    if (typeof options !== 'object' || options === null) throw new TypeError('logoutEverywhere() options must be an object');
    const { keepCurrent = false } = options;
    if (typeof keepCurrent !== 'boolean') throw new TypeError('keepCurrent must be a boolean');
    return this.#enqueue(async () => {
      const owner = this.owner;
      let removed = 0;
      if (owner !== undefined) {
        // A pending regeneration's old key holds the data the new key takes: keep it until the commit moves it.
        const current = keepCurrent ? this.#currentKey() : undefined;
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
      const current = this.#currentKey();
      const currentDigest = current === undefined ? undefined : this.#events.digest(current);
      const sessions = await this.#events.reported('listOwnSessions', backend.listByOwner(owner));
      return sessions.map(({ keyDigest, expiresInSeconds, createdAt }) => ({ keyDigest, expiresInSeconds, createdAt, current: keyDigest === currentDigest }));
    });
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
    try {
      await this.#save();
    } catch (error) {
      // A regeneration that claimed its old key puts it back: the client keeps that cookie.
      await restoreClaim(this.#store, this.#claim);
      throw error;
    }
    if (this.#events.enabled) {
      for (const { key, destroyed } of this.#staleKeys) {
        if (destroyed) this.#pendingEvents.push({ type: 'destroyed', store: HTTP_EVENT_STORE, keyDigest: this.#events.digest(key) });
      }
    }
    this.#flushEvents(() => true);
    return responseHeaders(this.#cookie, this.#options);
  }

  /** The commit's store work: the pending write (or a due renewal), then the removal of stale keys. */
  async #save(): Promise<void> {
    const { backend } = this.#options;
    let generatedKey: string | undefined;
    // A new own period is saved even when no field changed: its expiry restarts now.
    const periodUnsaved = this.#ownExpiry?.saved === false;
    const pendingWrite = this.#overlay.size > 0 || this.#regeneration !== undefined || periodUnsaved;
    // Unsetting fields of a session that does not exist yet creates nothing (lazy).
    const createsEmpty = this.#snapshot.key === undefined && this.#regeneration === undefined && !periodUnsaved && Object.keys(this.#overlay.apply({})).length === 0;
    if (pendingWrite && !createsEmpty) {
      const keyBefore = this.#snapshot.key;
      await this.#write((stored) => this.#overlay.apply(stored));
      this.#overlay.clear();
      if (this.#snapshot.key !== keyBefore) generatedKey = this.#snapshot.key;
    } else if (this.#touchDue && this.#snapshot === this.#loaded && this.#loaded.key !== undefined) {
      await this.#touch(this.#loaded);
    }
    try {
      for (const { key } of this.#staleKeys) await backend.clear(key);
    } catch (error) {
      // The client keeps its old cookie, whose session is still there: drop the new one.
      if (generatedKey !== undefined) await backend.clear(generatedKey).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Writes `transform(stored data)`: a compare-and-set on the stored session,
   * or a new session when there is none, it vanished meanwhile, or a
   * regeneration is pending.
   */
  async #write(transform: Transform): Promise<DataRecord> {
    const snapshot = this.#snapshot;
    if (snapshot.key !== undefined) {
      const outcome = await updateStored(this.#store, snapshot, transform, this.#ownExpiry);
      if (outcome.kind === 'written') return this.#wrote(outcome);
      // The absolute lifetime ran out during this request: its key goes, what it writes goes to a new session.
      if (outcome.pastLifetime) this.#staleKeys.push({ key: snapshot.key, destroyed: false });
      // Expired or destroyed elsewhere: never revive it, start over with this request's changes only.
      this.#snapshot = EMPTY_SNAPSHOT;
    }
    return this.#create(transform);
  }

  async #create(transform: Transform): Promise<DataRecord> {
    const regeneration = this.#regeneration;
    if (regeneration === undefined) {
      const written = await createSession(this.#store, this.#withOwnExpiry({ data: {}, createdAtMs: undefined, owner: undefined }), transform);
      this.#pendingCreated(written, undefined);
      return this.#wrote(written);
    }
    // Of parallel regenerations of one session, only the one that claims the old key goes on.
    const claim = regeneration.from === undefined ? GONE : await claimOldKey(this.#store, regeneration.from);
    let written: Written;
    try {
      written = await createSession(this.#store, this.#withOwnExpiry(regenerationBase(regeneration, claim)), transform);
    } catch (error) {
      await restoreClaim(this.#store, claim);
      throw error;
    }
    this.#claim = claim;
    this.#regeneration = undefined;
    this.#pendingCreated(written, regeneration.from?.key);
    return this.#wrote(written);
  }

  /** Queues the `created` (or, moving from `fromKey`, `regenerated`) event of a new key. */
  #pendingCreated({ snapshot: { key, owner } }: Written, fromKey: string | undefined): void {
    if (!this.#events.enabled) return;
    const keyDigest = this.#events.digest(key);
    this.#pendingEvents.push(
      fromKey === undefined
        ? { type: 'created', store: HTTP_EVENT_STORE, keyDigest, ...(owner === undefined ? {} : { owner }) }
        : { type: 'regenerated', store: HTTP_EVENT_STORE, fromDigest: this.#events.digest(fromKey), toDigest: keyDigest },
    );
  }

  /** Renews the expiry without changing the value; a conflict means another request just renewed it. */
  async #touch(loaded: StoredSnapshot): Promise<void> {
    const expirySeconds = writeExpirySeconds(this.#options, loaded.createdAtMs, loaded.ownExpirySeconds);
    if (expirySeconds <= 0) return;
    const result = await this.#options.backend.compareAndSet(loaded.key, loaded.raw, loaded.raw, { expiry: expirySeconds });
    if (result === 'ok') this.#wrote({ snapshot: { ...loaded, expiresAtMs: this.#options.nowMs() + expirySeconds * 1000 }, expirySeconds });
  }

  #wrote({ snapshot, expirySeconds }: Written): DataRecord {
    this.#snapshot = snapshot;
    this.#cookie = setCookie(snapshot.key, expirySeconds, snapshot.ownExpirySeconds !== undefined);
    // The stored session now holds this request's period (a renewal runs only once it does).
    if (this.#ownExpiry?.saved === false) this.#ownExpiry = { ...this.#ownExpiry, saved: true };
    return snapshot.data;
  }

  /** `base` with the own period a new key gets: this request's `setExpirySeconds`, else the one `base` carries over. */
  #withOwnExpiry(base: NewSessionBase): NewSessionBase {
    return { ...base, ownExpirySeconds: ownExpiryFor(this.#ownExpiry, base.ownExpirySeconds) };
  }

  #destroyNow(): void {
    const { key } = this.#snapshot;
    const hadSession = key !== undefined || this.#staleKeys.length > 0;
    if (key !== undefined) this.#staleKeys.push({ key, destroyed: true });
    this.#snapshot = EMPTY_SNAPSHOT;
    this.#regeneration = undefined;
    this.#ownExpiry = undefined;
    this.#overlay.clear();
    this.#cookie = this.#hadCookie || hadSession ? CLEAR_COOKIE : NO_COOKIE;
    this.#status = 'destroyed';
  }

  /** The stored session this request shows: the old one while a regeneration that keeps its data is pending. */
  #shown(): Snapshot {
    return shownSnapshot(this.#snapshot, this.#regeneration);
  }

  /** The key that names this request's session in the store: its own, or the one a pending regeneration moves from. */
  #currentKey(): string | undefined {
    return this.#snapshot.key ?? this.#regeneration?.from?.key;
  }

  /** Emits the pending events that `which` selects, in order, and keeps the others pending. */
  #flushEvents(which: (event: SessionEvent) => boolean): void {
    if (this.#pendingEvents.length === 0) return;
    const due = this.#pendingEvents.filter(which);
    this.#pendingEvents = this.#pendingEvents.filter((event) => !which(event));
    for (const event of due) this.#events.emit(event);
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

  /**
   * True (and a `write-dropped` event) for a change made once the commit
   * started: the response is decided, so the change is dropped, as
   * express-session, @fastify/session, @hono/session and koa-session drop it.
   * Never a throw: such writes run from timers and callbacks, where a throw
   * would end the process.
   */
  #droppedLate(operation: string): boolean {
    if (this.#commit === undefined) return false;
    if (this.#events.enabled) {
      const key = this.#currentKey();
      this.#events.emit({ type: 'write-dropped', store: HTTP_EVENT_STORE, operation, ...(key === undefined ? {} : { keyDigest: this.#events.digest(key) }) });
    }
    return true;
  }

  /** A store call made once the commit started: a rejection its caller handles, never a synchronous throw. */
  #lateCall(): Promise<never> {
    return Promise.reject(new Error('the session was already saved for this response; call this before the response is sent'));
  }
}
