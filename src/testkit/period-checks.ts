// A loaded CI machine can stall a test for seconds between any two awaits:
// a period is checked against a stopwatch instead of assuming that the steps
// of a test are under a second apart.
import { expect } from 'vitest';

/** Starts a stopwatch; the returned function gives the seconds since. */
export function stopwatch(): () => number {
  const startedMs = performance.now();
  return () => (performance.now() - startedMs) / 1000;
}

/** The whole seconds a clock-bound reading may lag by after `elapsedSeconds()` of the test: the time passed, rounded up. */
export function secondsOfSlack(elapsedSeconds: () => number): number {
  return Math.ceil(elapsedSeconds() + 0.01);
}

/**
 * Checks a whole-second period reported for an expiry of `givenSeconds` set
 * while the stopwatch ran: an integer, never more than given, and less by no
 * more than the time that has passed (rounded up). When the steps are under a
 * second apart this is as strict as expecting `givenSeconds` itself.
 */
export function expectPeriodWithin(period: number, givenSeconds: number, elapsedSeconds: () => number): void {
  expect(Number.isInteger(period)).toBe(true);
  expect(period).toBeLessThanOrEqual(givenSeconds);
  expect(period).toBeGreaterThanOrEqual(givenSeconds - secondsOfSlack(elapsedSeconds));
}
