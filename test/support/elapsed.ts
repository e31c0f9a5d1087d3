// A loaded CI machine can stall a test for seconds between any two awaits.
// Bounds on periods and durations follow a stopwatch instead of assuming that
// the steps of a test are under a second apart.

export { expectPeriodWithin, secondsOfSlack, stopwatch } from '../../src/testkit/period-checks.js';

/**
 * Watches the event loop's lag until the returned function is called, which
 * gives the longest lag seen in milliseconds. A timer cannot fire while the
 * loop is blocked, so a bound on how long a timed-out operation takes gets
 * this much more room, and no more.
 */
export function watchEventLoopLag(): () => number {
  const tickMs = 10;
  let longestMs = 0;
  let lastMs = performance.now();
  const timer = setInterval(() => {
    const nowMs = performance.now();
    longestMs = Math.max(longestMs, nowMs - lastMs - tickMs);
    lastMs = nowMs;
  }, tickMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    return Math.max(longestMs, performance.now() - lastMs - tickMs, 0);
  };
}

/** How a piece of work settled, how long it took, and the longest event-loop stall meanwhile. */
export interface TimedOutcome<T> {
  value: T | undefined;
  error: unknown;
  ms: number;
  lagMs: number;
}

/** Awaits `work` without throwing and reports how it settled and how long it took (see {@link watchEventLoopLag}). */
export async function settleTimed<T>(work: Promise<T>): Promise<TimedOutcome<T>> {
  const started = performance.now();
  const lag = watchEventLoopLag();
  try {
    const value = await work;
    return { value, error: undefined, ms: performance.now() - started, lagMs: lag() };
  } catch (error) {
    return { value: undefined, error, ms: performance.now() - started, lagMs: lag() };
  }
}
