import { digestKey } from '../core/keys.js';
import { HTTP_EVENT_STORE } from './http-events.js';
import { assertWholeNumberOption } from '../core/validate.js';
import type { DataRecord } from './envelope.js';
import { pushFlash, takeFlashFrom } from './flash.js';
import type { HeaderPair } from './headers.js';
import { renewStored, type Transform } from './session/commit-loop.js';
import type { StoreContext } from './session/store-context.js';
import { commitWork, removeStaleKeys, type CommitWork } from './session/commit-plan.js';
import type { CookieDecision } from './session/cookie-decision.js';
import { FieldOverlay, updateTransform } from './session/field-overlay.js';
import { assertFieldName, jsonCopy } from './session/json-copy.js';
import { ownExpiryFor } from './session/lifetime.js';
import { readStored, type Loaded } from './session/load.js';
import { restoreClaim } from './session/move-claim.js';
import { clearOwnerSessions, keepCurrentOption, listOwnerSessions, ownerIndex } from './session/owner-actions.js';
import { PendingEvents } from './session/pending-events.js';
import { regenerateRequest } from './session/regeneration.js';
import { SerialQueue } from './session/serial-queue.js';
import { currentKeyOf, destroyedState, loadedState, regeneratedState, shownOf, writtenState, type RequestState } from './session/request-state.js';
import { assertFits, EMPTY_SNAPSHOT } from './session/snapshot.js';
import { writeSession } from './session/write-session.js';
import type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionStatus } from './typed-session.js';

/**
 * The headers a response carries for the commit's `decision`, on the
 * transport the request used (its cookie or its session header); `loaded`
 * says what the request sent. Chosen per request, made once per engine.
 */
export type KeyResponder = (decision: CookieDecision, loaded: Loaded) => HeaderPair[];

/**
 * The typed session of one request and its commit, as wiring: where it
 * stands is one {@link RequestState} replaced whole by each step, its field
 * changes a {@link FieldOverlay}; each rule lives in its own file under
 * `./session/`.
 */
export class RequestSession<Data extends object = Record<string, unknown>> implements Session<Data> {
  readonly #store: StoreContext;
  /** What `load` found; a read-only request renews its expiry only while it is still the session shown. */
  readonly #loaded: Loaded;
  readonly #respond: KeyResponder;
  readonly #overlay = new FieldOverlay();
  readonly #pending: PendingEvents;
  #state: RequestState;
  readonly #queue = new SerialQueue();
  #commit: Promise<HeaderPair[]> | undefined;

  /** The session of a request whose key named `loaded` (see `loadSession`), answered by `respond`. */
  constructor(store: StoreContext, loaded: Loaded, respond: KeyResponder) {
    this.#store = store;
    this.#loaded = loaded;
    this.#respond = respond;
    this.#pending = new PendingEvents(store.events);
    this.#state = loadedState(loaded);
  }

  get status(): SessionStatus {
    return this.#state.status;
  }
  get isNew(): boolean {
    return this.#loaded.kind !== 'stored';
  }
  get expiresInSeconds(): number | undefined {
    const { expiresAtMs } = shownOf(this.#state);
    return expiresAtMs === undefined ? undefined : Math.max(0, Math.round((expiresAtMs - this.#store.options.nowMs()) / 1000));
  }
  get createdAt(): Date | undefined {
    const { createdAtMs } = shownOf(this.#state);
    return createdAtMs === undefined ? undefined : new Date(createdAtMs);
  }
  get keyDigest(): string | undefined {
    const { key } = this.#state.snapshot;
    return key === undefined ? undefined : digestKey(key);
  }
  get ownExpirySeconds(): number | undefined {
    return ownExpiryFor(this.#state.ownExpiry, shownOf(this.#state).ownExpirySeconds);
  }
  get owner(): string | undefined {
    return this.#state.regeneration?.owner ?? shownOf(this.#state).owner;
  }
  get authenticatedAt(): Date | undefined {
    const atMs = this.#authenticatedAtMs();
    return atMs === undefined ? undefined : new Date(atMs);
  }
  isFresh(maxAgeSeconds: number): boolean {
    assertWholeNumberOption(maxAgeSeconds, 'maxAgeSeconds', 0);
    const atMs = this.#authenticatedAtMs();
    return atMs !== undefined && this.#store.options.nowMs() - atMs <= maxAgeSeconds * 1000;
  }
  #authenticatedAtMs(): number | undefined {
    // As for `owner`: a pending regeneration decides what the new key will hold.
    return this.#state.regeneration?.authenticatedAtMs ?? shownOf(this.#state).authenticatedAtMs;
  }
  flash(type: string, message: unknown): number {
    if (this.#droppedLate('flash')) return 0;
    return pushFlash(this as unknown as Session, type, [message]);
  }
  takeFlash(type: string): unknown[];
  takeFlash(): Record<string, unknown[]>;
  takeFlash(type?: string): unknown[] | Record<string, unknown[]> {
    if (this.#droppedLate('takeFlash')) return type === undefined ? {} : [];
    return takeFlashFrom(this as unknown as Session, type);
  }
  get data(): Readonly<Partial<Data>> {
    return this.#overlay.apply(shownOf(this.#state).data) as Partial<Data>;
  }
  get<K extends keyof Data & string>(name: K): Data[K] | undefined {
    return this.#overlay.get(name, shownOf(this.#state).data) as Data[K] | undefined;
  }
  has(name: keyof Data & string): boolean {
    return this.get(name) !== undefined;
  }

  setExpirySeconds(expirySeconds: number | undefined): void {
    if (this.#droppedLate('setExpirySeconds')) return;
    if (expirySeconds !== undefined) assertWholeNumberOption(expirySeconds, 'expirySeconds', 1);
    this.#state = { ...this.#state, ownExpiry: { periodSeconds: expirySeconds, saved: false }, status: 'modified' };
  }

  reload(): Promise<void> {
    if (this.#commit !== undefined) return this.#lateCall();
    return this.#queue.run(async () => {
      const { key } = this.#state.snapshot;
      // Gone from the store (or moved by a parallel regeneration): this request starts from nothing.
      if (key !== undefined) this.#state = { ...this.#state, snapshot: (await readStored(this.#store, key, 'reload'))?.snapshot ?? EMPTY_SNAPSHOT };
      this.#overlay.clear();
    });
  }

  set<K extends keyof Data & string>(name: K, value: Data[K]): void {
    if (this.#droppedLate('set')) return;
    assertFieldName(name);
    if (value === undefined) return this.unset(name);
    const shown = shownOf(this.#state);
    this.#overlay.set(name, jsonCopy(value, 'session field', name), shown.data, (data) => assertFits(shown, data, this.ownExpirySeconds, this.#store));
    this.#state = { ...this.#state, status: 'modified' };
  }

  unset(name: keyof Data & string): void {
    if (this.#droppedLate('unset')) return;
    assertFieldName(name);
    this.#overlay.unset(name);
    this.#state = { ...this.#state, status: 'modified' };
  }

  update(fn: (data: Partial<Data>) => Partial<Data>): Promise<Partial<Data>> {
    if (this.#commit !== undefined) return this.#lateCall();
    const { transform, written } = updateTransform(this.#overlay, fn as (data: DataRecord) => unknown);
    return this.#queue.run(async () => {
      await this.#store.events.reported('update', this.#write(transform));
      this.#overlay.clear();
      this.#state = { ...this.#state, status: 'modified' };
      // A session created here stays whatever the commit does; a regeneration completes only at the commit.
      this.#pending.flush((event) => event.type === 'created');
      return written() as Partial<Data>;
    });
  }

  regenerate(options: RegenerateOptions = {}): void {
    if (this.#droppedLate('regenerate')) return;
    const request = regenerateRequest(options, this.#store.options.nowMs());
    if (request.owner !== undefined) ownerIndex(this.#store.options, 'regenerate({ owner })');
    // The changes made so far belong to the old session when it is not kept.
    if (!request.keepData) this.#overlay.clear();
    this.#state = regeneratedState(this.#state, request);
  }

  destroy(): void {
    if (this.#droppedLate('destroy')) return;
    this.#destroyNow();
  }

  logoutEverywhere(options: LogoutEverywhereOptions = {}): Promise<number> {
    if (this.#commit !== undefined) return this.#lateCall();
    const backend = ownerIndex(this.#store.options, 'logoutEverywhere()');
    const keepCurrent = keepCurrentOption(options);
    return this.#queue.run(async () => {
      // A pending regeneration's old key holds the data the new key takes: keep it until the commit moves it.
      const removed = await clearOwnerSessions(this.#store, backend, this.owner, keepCurrent ? currentKeyOf(this.#state) : undefined);
      // Only once the store call succeeded: a failure leaves this session as it was.
      if (!keepCurrent) this.#destroyNow();
      return removed;
    });
  }

  listOwnSessions(): Promise<OwnSession[]> {
    const backend = ownerIndex(this.#store.options, 'listOwnSessions()');
    return this.#queue.run(() => listOwnerSessions(this.#store, backend, this.owner, currentKeyOf(this.#state)));
  }

  /** `SessionContext.commit`: runs once (later calls share its promise); no change is accepted once it started. */
  commit(): Promise<HeaderPair[]> {
    this.#commit ??= this.#queue.run(() => {
      const work = commitWork(this.#state, this.#overlay, this.#loaded);
      if (work.kind !== 'none' || this.#state.staleKeys.length > 0) return this.#store.events.reported('commit', this.#commitNow(work));
      // Nothing to write, renew or remove: the headers as a value, not an async function's promise.
      this.#overlay.clear();
      return this.#headers();
    });
    return this.#commit;
  }

  /** `SessionContext.commitSync`: the commit done now when it needs no store call, else undefined with nothing done. */
  commitSync(): HeaderPair[] | undefined {
    if (this.#commit !== undefined || !this.#queue.idle || this.#state.staleKeys.length > 0) return undefined;
    if (commitWork(this.#state, this.#overlay, this.#loaded).kind !== 'none') return undefined;
    this.#overlay.clear();
    const headers = this.#headers();
    this.#commit = Promise.resolve(headers);
    return headers;
  }

  async #commitNow(work: CommitWork): Promise<HeaderPair[]> {
    const keyBefore = this.#state.snapshot.key;
    try {
      if (work.kind === 'write') await this.#write((stored) => ({ data: this.#overlay.apply(stored) }));
      const renewed = work.kind === 'renew' ? await renewStored(this.#store, work.loaded) : undefined;
      if (renewed !== undefined) this.#state = writtenState(this.#state, renewed);
      this.#overlay.clear();
      await removeStaleKeys(this.#store.options.backend, this.#state, keyBefore);
    } catch (error) {
      await restoreClaim(this.#store, this.#state.claim);
      throw error;
    }
    return this.#headers();
  }

  /** The events that became true with the commit, then the response's headers. */
  #headers(): HeaderPair[] {
    this.#pending.destroyed(this.#state.staleKeys);
    this.#pending.flush();
    return this.#respond(this.#state.cookie, this.#loaded);
  }

  /** Writes `transform(stored data)` where it belongs (see {@link writeSession}) and takes in what the write did. */
  async #write(transform: Transform): Promise<void> {
    const write = await writeSession(this.#store, this.#state, transform);
    this.#pending.wrote(write);
    this.#state = writtenState(this.#state, write.written, write);
  }

  #destroyNow(): void {
    this.#overlay.clear();
    this.#state = destroyedState(this.#state, this.#loaded.kind !== 'none' || this.#loaded.hadKey);
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
    const { events } = this.#store;
    if (events.enabled) {
      const key = currentKeyOf(this.#state);
      events.emit({ type: 'write-dropped', store: HTTP_EVENT_STORE, operation, ...(key === undefined ? {} : { keyDigest: events.digest(key) }) });
    }
    return true;
  }

  /** A store call made once the commit started: a rejection its caller handles, never a synchronous throw. */
  #lateCall(): Promise<never> {
    return Promise.reject(new Error('the session was already saved for this response; call this before the response is sent'));
  }
}
