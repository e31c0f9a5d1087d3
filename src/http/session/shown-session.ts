import { digestKey } from '../../core/keys.js';
import { assertWholeNumberOption } from '../../core/validate.js';
import type { SessionStatus } from '../typed-session.js';
import { FieldOverlay } from './field-overlay.js';
import { ownExpiryFor } from './lifetime.js';
import type { Loaded } from './load.js';
import { loadedState, shownOf, type RequestState } from './request-state.js';
import type { StoreContext } from './store-context.js';

/**
 * The read side of a request's typed session: what it shows, from where the
 * request stands (one {@link RequestState}, replaced whole by each step) and
 * the field changes not yet written (a {@link FieldOverlay}).
 * `RequestSession` adds the steps that change them.
 */
export abstract class ShownSession<Data extends object> {
  protected state: RequestState;
  protected readonly overlay = new FieldOverlay();

  protected constructor(
    protected readonly store: StoreContext,
    /** What `load` found; a read-only request renews its expiry only while it is still the session shown. */
    protected readonly loaded: Loaded,
  ) {
    this.state = loadedState(loaded);
  }

  get status(): SessionStatus {
    return this.state.status;
  }
  get isNew(): boolean {
    return this.loaded.kind !== 'stored';
  }
  get expiresInSeconds(): number | undefined {
    const { expiresAtMs } = shownOf(this.state);
    return expiresAtMs === undefined ? undefined : Math.max(0, Math.round((expiresAtMs - this.store.options.nowMs()) / 1000));
  }
  get createdAt(): Date | undefined {
    const { createdAtMs } = shownOf(this.state);
    return createdAtMs === undefined ? undefined : new Date(createdAtMs);
  }
  get keyDigest(): string | undefined {
    const { key } = this.state.snapshot;
    return key === undefined ? undefined : digestKey(key);
  }
  get ownExpirySeconds(): number | undefined {
    return ownExpiryFor(this.state.ownExpiry, shownOf(this.state).ownExpirySeconds);
  }
  get owner(): string | undefined {
    return this.state.regeneration?.owner ?? shownOf(this.state).owner;
  }
  get authenticatedAt(): Date | undefined {
    const atMs = this.#authenticatedAtMs();
    return atMs === undefined ? undefined : new Date(atMs);
  }
  isFresh(maxAgeSeconds: number): boolean {
    assertWholeNumberOption(maxAgeSeconds, 'maxAgeSeconds', 0);
    const atMs = this.#authenticatedAtMs();
    return atMs !== undefined && this.store.options.nowMs() - atMs <= maxAgeSeconds * 1000;
  }
  #authenticatedAtMs(): number | undefined {
    // As for `owner`: a pending regeneration decides what the new key will hold.
    return this.state.regeneration?.authenticatedAtMs ?? shownOf(this.state).authenticatedAtMs;
  }
  get data(): Readonly<Partial<Data>> {
    return this.overlay.apply(shownOf(this.state).data) as Partial<Data>;
  }
  get<K extends keyof Data & string>(name: K): Data[K] | undefined {
    return this.overlay.get(name, shownOf(this.state).data) as Data[K] | undefined;
  }
  has(name: keyof Data & string): boolean {
    return this.get(name) !== undefined;
  }
}
