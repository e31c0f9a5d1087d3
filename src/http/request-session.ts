import { assertWholeNumberOption } from '../core/validate.js';
import type { DataRecord } from './envelope.js';
import { pushFlash, takeFlashFrom } from './flash.js';
import type { HeaderPair } from './headers.js';
import { renewStored, type Transform } from './session/commit-loop.js';
import type { StoreContext } from './session/store-context.js';
import { commitWork, removeStaleKeys, type CommitWork } from './session/commit-plan.js';
import type { CookieDecision } from './session/cookie-decision.js';
import { updateTransform } from './session/field-overlay.js';
import { assertFieldName, jsonCopy } from './session/json-copy.js';
import { readStored, type Loaded } from './session/load.js';
import { restoreClaim } from './session/move-claim.js';
import { clearOwnerSessions, keepCurrentOption, listOwnerSessions, ownerIndex } from './session/owner-actions.js';
import { PendingEvents } from './session/pending-events.js';
import { regenerateRequest } from './session/regeneration.js';
import { SerialQueue } from './session/serial-queue.js';
import { currentKeyOf, destroyedState, regeneratedState, shownOf, writtenState } from './session/request-state.js';
import { ShownSession } from './session/shown-session.js';
import { assertFits, EMPTY_SNAPSHOT } from './session/snapshot.js';
import { writeSession } from './session/write-session.js';
import type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session } from './typed-session.js';

/**
 * The typed session of one request and its commit, as wiring: the steps
 * that change what {@link ShownSession} shows, each rule in its own file
 * under `./session/`.
 */
export class RequestSession<Data extends object = Record<string, unknown>> extends ShownSession<Data> implements Session<Data> {
  readonly #respond: (decision: CookieDecision, loaded: Loaded) => HeaderPair[];
  readonly #pending: PendingEvents;
  readonly #queue = new SerialQueue();
  #commit: Promise<HeaderPair[]> | undefined;

  /** The session of a request whose key named `loaded` (see `loadSession`), its headers made by `respond`. */
  constructor(store: StoreContext, loaded: Loaded, respond: (decision: CookieDecision, loaded: Loaded) => HeaderPair[]) {
    super(store, loaded);
    this.#respond = respond;
    this.#pending = new PendingEvents(store.events);
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
  setExpirySeconds(expirySeconds: number | undefined): void {
    if (this.#droppedLate('setExpirySeconds')) return;
    if (expirySeconds !== undefined) assertWholeNumberOption(expirySeconds, 'expirySeconds', 1);
    this.state = { ...this.state, ownExpiry: { periodSeconds: expirySeconds, saved: false }, status: 'modified' };
  }

  reload(): Promise<void> {
    return this.#storeStep(async () => {
      const { key } = this.state.snapshot;
      // Gone from the store (or moved by a parallel regeneration): this request starts from nothing.
      if (key !== undefined) this.state = { ...this.state, snapshot: (await readStored(this.store, key, 'reload'))?.snapshot ?? EMPTY_SNAPSHOT };
      this.overlay.clear();
    });
  }

  set<K extends keyof Data & string>(name: K, value: Data[K]): void {
    if (this.#droppedLate('set')) return;
    assertFieldName(name);
    if (value === undefined) return this.unset(name);
    const shown = shownOf(this.state);
    this.overlay.set(name, jsonCopy(value, 'session field', name), shown.data, (data) => assertFits(shown, data, this.ownExpirySeconds, this.store));
    this.state = { ...this.state, status: 'modified' };
  }

  unset(name: keyof Data & string): void {
    if (this.#droppedLate('unset')) return;
    assertFieldName(name);
    this.overlay.unset(name);
    this.state = { ...this.state, status: 'modified' };
  }

  update(fn: (data: Partial<Data>) => Partial<Data>): Promise<Partial<Data>> {
    const { transform, written } = updateTransform(this.overlay, fn as (data: DataRecord) => unknown);
    return this.#storeStep(async () => {
      await this.store.events.reported('update', this.#write(transform));
      this.overlay.clear();
      this.state = { ...this.state, status: 'modified' };
      // A session created here stays whatever the commit does; a regeneration completes only at the commit.
      this.#pending.flush((event) => event.type === 'created');
      return written() as Partial<Data>;
    });
  }

  regenerate(options: RegenerateOptions = {}): void {
    if (this.#droppedLate('regenerate')) return;
    const request = regenerateRequest(options, this.store.options.nowMs());
    if (request.owner !== undefined) ownerIndex(this.store.options, 'regenerate({ owner })');
    // The changes made so far belong to the old session when it is not kept.
    if (!request.keepData) this.overlay.clear();
    this.state = regeneratedState(this.state, request);
  }

  destroy(): void {
    if (this.#droppedLate('destroy')) return;
    this.#destroyNow();
  }

  logoutEverywhere(options: LogoutEverywhereOptions = {}): Promise<number> {
    const backend = ownerIndex(this.store.options, 'logoutEverywhere()');
    const keepCurrent = keepCurrentOption(options);
    return this.#storeStep(async () => {
      // A pending regeneration's old key holds the data the new key takes: keep it until the commit moves it.
      const removed = await clearOwnerSessions(this.store, backend, this.owner, keepCurrent ? currentKeyOf(this.state) : undefined);
      // Only once the store call succeeded: a failure leaves this session as it was.
      if (!keepCurrent) this.#destroyNow();
      return removed;
    });
  }

  listOwnSessions(): Promise<OwnSession[]> {
    const backend = ownerIndex(this.store.options, 'listOwnSessions()');
    return this.#queue.run(() => listOwnerSessions(this.store, backend, this.owner, currentKeyOf(this.state)));
  }

  /** `SessionContext.commit`: runs once (later calls share its promise); no change is accepted once it started. */
  commit(): Promise<HeaderPair[]> {
    this.#commit ??= this.#queue.run(() => {
      const work = this.#storeWork();
      return work === undefined ? this.#headers() : this.store.events.reported('commit', this.#commitNow(work));
    });
    return this.#commit;
  }

  /** `SessionContext.commitSync`: the commit done now when it needs no store call, else undefined with nothing done. */
  commitSync(): HeaderPair[] | undefined {
    if (this.#commit !== undefined || !this.#queue.idle || this.#storeWork() !== undefined) return undefined;
    const headers = this.#headers();
    this.#commit = Promise.resolve(headers);
    return headers;
  }

  /** What the commit asks of the store; undefined for nothing to write, renew or remove (its headers then come as a value, not a promise). */
  #storeWork(): CommitWork | undefined {
    const work = commitWork(this.state, this.overlay, this.loaded);
    return work.kind === 'none' && this.state.staleKeys.length === 0 ? undefined : work;
  }

  async #commitNow(work: CommitWork): Promise<HeaderPair[]> {
    const keyBefore = this.state.snapshot.key;
    try {
      if (work.kind === 'write') await this.#write((stored) => ({ data: this.overlay.apply(stored) }));
      const renewed = work.kind === 'renew' ? await renewStored(this.store, work.loaded) : undefined;
      if (renewed !== undefined) this.state = writtenState(this.state, renewed);
      this.overlay.clear();
      await removeStaleKeys(this.store.options.backend, this.state, keyBefore);
    } catch (error) {
      await restoreClaim(this.store, this.state.claim);
      throw error;
    }
    return this.#headers();
  }

  /** The commit's end: the field changes taken in, the events that became true with it, then the response's headers. */
  #headers(): HeaderPair[] {
    this.overlay.clear();
    this.#pending.destroyed(this.state.staleKeys);
    this.#pending.flush();
    return this.#respond(this.state.cookie, this.loaded);
  }

  /** Writes `transform(stored data)` where it belongs (see {@link writeSession}) and takes in what the write did. */
  async #write(transform: Transform): Promise<void> {
    const write = await writeSession(this.store, this.state, transform);
    this.#pending.wrote(write);
    this.state = writtenState(this.state, write.written, write);
  }

  #destroyNow(): void {
    this.overlay.clear();
    this.state = destroyedState(this.state, this.loaded.kind !== 'none' || this.loaded.hadKey);
  }

  /**
   * True (and a `write-dropped` event) once the commit started: the response is decided, so the change is
   * dropped, as express-session, @fastify/session, @hono/session and koa-session drop it. Never a throw:
   * such writes run from timers and callbacks, where a throw would end the process.
   */
  #droppedLate(operation: string): boolean {
    if (this.#commit === undefined) return false;
    this.store.events.writeDropped(operation, currentKeyOf(this.state));
    return true;
  }

  /** Runs `step` in this request's order; once the commit started, a rejection its caller handles, never a synchronous throw. */
  #storeStep<T>(step: () => T | Promise<T>): Promise<T> {
    if (this.#commit !== undefined) return Promise.reject(new Error('the session was already saved for this response; call this before the response is sent'));
    return this.#queue.run(step);
  }
}
