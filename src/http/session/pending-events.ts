import type { SessionEvent } from '../../core/events.js';
import { HTTP_EVENT_STORE, type HttpEvents } from '../http-events.js';
import type { StaleKey } from './request-state.js';
import type { SessionWrite } from './write-session.js';

/**
 * Events that become true only later: a `regenerated` or `destroyed` once
 * the commit succeeded, a `created` once the write that created the key is
 * done. Queued in order, emitted by {@link flush}; nothing is built when
 * nobody listens.
 */
export class PendingEvents {
  readonly #events: HttpEvents;
  #pending: SessionEvent[] = [];

  constructor(events: HttpEvents) {
    this.#events = events;
  }

  /** Queues, for a write that created a key, its `created` event (with its owner), or `regenerated` when it moved from another key. */
  wrote(write: SessionWrite): void {
    const events = this.#events;
    if (!write.created || !events.enabled) return;
    const { snapshot: { key, owner } } = write.written;
    const { fromKey } = write;
    const keyDigest = events.digest(key);
    this.#pending.push(
      fromKey === undefined
        ? { type: 'created', store: HTTP_EVENT_STORE, keyDigest, ...(owner === undefined ? {} : { owner }) }
        : { type: 'regenerated', store: HTTP_EVENT_STORE, fromDigest: events.digest(fromKey), toDigest: keyDigest },
    );
  }

  /** Queues the `destroyed` event of each key `destroy()` removed. */
  destroyed(staleKeys: readonly StaleKey[]): void {
    if (!this.#events.enabled) return;
    for (const { key, destroyed } of staleKeys) {
      if (destroyed) this.#pending.push({ type: 'destroyed', store: HTTP_EVENT_STORE, keyDigest: this.#events.digest(key) });
    }
  }

  /** Emits the pending events `which` selects (all by default), in order, and keeps the others pending. */
  flush(which: (event: SessionEvent) => boolean = () => true): void {
    if (this.#pending.length === 0) return;
    const due = this.#pending.filter(which);
    this.#pending = this.#pending.filter((event) => !which(event));
    for (const event of due) this.#events.emit(event);
  }
}
