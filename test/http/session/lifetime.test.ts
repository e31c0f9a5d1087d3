import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../../src/index.js';
import { isPastLifetime, ownExpiryFor, writeTtlSeconds } from '../../../src/http/session/lifetime.js';

const backend = new MemoryBackend();
const at = (nowMs: number) => () => nowMs;

describe('lifetime', () => {
  it("without an absolute lifetime a write gets the idle timeout, or the backend's default period when unset", () => {
    expect(writeTtlSeconds({ backend, idleTimeoutSeconds: 60, absoluteLifetimeSeconds: undefined, nowMs: at(0) }, 0)).toBe(60);
    expect(writeTtlSeconds({ backend, idleTimeoutSeconds: undefined, absoluteLifetimeSeconds: undefined, nowMs: at(0) }, 0)).toBe(backend.defaultPeriod());
  });

  it('the absolute lifetime cuts the expiry, in whole seconds rounded down, down to zero or below once over', () => {
    const options = { backend, idleTimeoutSeconds: 60, absoluteLifetimeSeconds: 100 };
    expect(writeTtlSeconds({ ...options, nowMs: at(10_000) }, 0)).toBe(60);
    expect(writeTtlSeconds({ ...options, nowMs: at(70_500) }, 0)).toBe(29);
    expect(writeTtlSeconds({ ...options, nowMs: at(100_000) }, 0)).toBe(0);
    expect(writeTtlSeconds({ ...options, nowMs: at(130_000) }, 0)).toBeLessThan(0);
  });

  it("a session's own period replaces the idle timeout, and is still cut at the absolute lifetime", () => {
    const options = { backend, idleTimeoutSeconds: 60, absoluteLifetimeSeconds: undefined, nowMs: at(0) };
    expect(writeTtlSeconds(options, 0, 86_400)).toBe(86_400);
    expect(writeTtlSeconds(options, 0, undefined)).toBe(60);
    expect(writeTtlSeconds({ ...options, absoluteLifetimeSeconds: 1000, nowMs: at(400_000) }, 0, 86_400)).toBe(600);
  });

  it("ownExpiryFor: this request's setExpirySeconds wins over the stored period, even when it goes back to undefined", () => {
    expect(ownExpiryFor(undefined, 30)).toBe(30);
    expect(ownExpiryFor({ periodSeconds: 90, saved: false }, 30)).toBe(90);
    expect(ownExpiryFor({ periodSeconds: undefined, saved: true }, 30)).toBeUndefined();
  });

  it('isPastLifetime: from the exact end on; never without a lifetime', () => {
    expect(isPastLifetime({ absoluteLifetimeSeconds: 100, nowMs: at(99_999) }, 0)).toBe(false);
    expect(isPastLifetime({ absoluteLifetimeSeconds: 100, nowMs: at(100_000) }, 0)).toBe(true);
    expect(isPastLifetime({ absoluteLifetimeSeconds: undefined, nowMs: at(1e15) }, 0)).toBe(false);
  });
});
