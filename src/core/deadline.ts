/**
 * Milliseconds from now to `deadlineMs` (`performance.now()` clock) for a
 * timer: whole, rounded up (the rounding never cuts a wait short), at
 * least 0. Node keeps one timer list per duration: timers of whole
 * milliseconds share the list of theirs, while each fractional duration makes
 * a list of its own (a new list, a priority-queue insert, a keyed add and
 * delete). Measured on the Redis counter app, whose batches set two timers
 * each: about 16,000 instructions a request.
 */
export function msUntil(deadlineMs: number): number {
  return Math.max(0, Math.ceil(deadlineMs - performance.now()));
}
