/**
 * What backends report through their `onEvent` option. Keys never appear in
 * events; errors here are ones no caller awaits (background pruning).
 */
export type SessionEvent =
  | { type: 'pruned'; store: string; deletedCount: number; durationMs: number }
  | { type: 'error'; store: string; during: 'prune' | 'idle-connection'; error: unknown };

/** Receives {@link SessionEvent}s; it must not throw (what it throws is ignored). */
export type SessionEventListener = (event: SessionEvent) => void;

/** Calls `listener` without letting its failure reach the caller. */
export function emitEvent(listener: SessionEventListener | undefined, event: SessionEvent): void {
  if (listener === undefined) return;
  try {
    listener(event);
  } catch {
    // A faulty listener must not break the operation that reported the event.
  }
}
