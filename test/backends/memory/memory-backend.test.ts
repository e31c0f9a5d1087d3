import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../../src/index.js';

/** A clock the test moves by hand, in milliseconds. */
function manualClock() {
  let nowMs = 0;
  return { nowMs: () => nowMs, advance: (seconds: number) => (nowMs += seconds * 1000) };
}

describe('MemoryBackend', () => {
  it('is bounded: when full, the session closest to expiry goes first', async () => {
    const clock = manualClock();
    const backend = new MemoryBackend({ maxSessions: 3, nowMs: clock.nowMs });
    const soon = await backend.generate({ expiry: 10, value: 'soon' });
    const later = await backend.generate({ expiry: 1000, value: 'later' });
    const latest = await backend.generate({ expiry: 2000, value: 'latest' });
    const fourth = await backend.generate({ expiry: 500, value: 'fourth' });
    expect(backend.size).toBe(3);
    expect(await backend.get(soon)).toEqual({ ok: false, error: 'NotFound' });
    for (const key of [later, latest, fourth]) expect((await backend.get(key)).ok).toBe(true);
    // A renewal moves a session away from eviction.
    await backend.set(fourth, 'renewed', { expiry: 5000 });
    await backend.generate({ value: 'fifth', expiry: 3000 });
    expect(await backend.get(later)).toEqual({ ok: false, error: 'NotFound' });
    expect(await backend.get(fourth)).toMatchObject({ ok: true, value: 'renewed' });
    await backend.close();
  });

  it('expired sessions are dropped before live ones when making room', async () => {
    const clock = manualClock();
    const backend = new MemoryBackend({ maxSessions: 2, nowMs: clock.nowMs });
    await backend.generate({ expiry: 5, value: 'expires' });
    const keeper = await backend.generate({ expiry: 100, value: 'keeper' });
    clock.advance(6);
    const newcomer = await backend.generate({ expiry: 50, value: 'newcomer' });
    expect(await backend.get(keeper)).toMatchObject({ ok: true, value: 'keeper' });
    expect(await backend.get(newcomer)).toMatchObject({ ok: true, value: 'newcomer' });
    await backend.close();
  });

  it('sweep drops expired sessions; period counts down on the clock', async () => {
    const clock = manualClock();
    const backend = new MemoryBackend({ nowMs: clock.nowMs });
    const keys = await Promise.all(Array.from({ length: 10 }, (_, i) => backend.generate({ expiry: i < 6 ? 60 : 600, value: 'v' })));
    clock.advance(30);
    expect(await backend.get(keys[0]!)).toMatchObject({ ok: true, period: 30 });
    clock.advance(31);
    expect(backend.sweep()).toBe(6);
    expect(backend.size).toBe(4);
    await backend.close();
  });

  it('stays within maxSessions under churn of generates, renewals and clears', async () => {
    const backend = new MemoryBackend({ maxSessions: 1000 });
    let newest: string[] = [];
    for (let round = 0; round < 50; round++) {
      newest = await Promise.all(Array.from({ length: 300 }, () => backend.generate({ value: 'x' })));
      for (const key of newest.slice(0, 100)) await backend.set(key, 'y');
      await Promise.all(newest.slice(200).map((key) => backend.clear(key)));
      expect(backend.size).toBeLessThanOrEqual(1000);
    }
    // The most recent sessions survive; eviction took the oldest.
    expect(await backend.get(newest[0]!)).toMatchObject({ ok: true, value: 'y' });
    expect(await backend.get(newest[150]!)).toMatchObject({ ok: true, value: 'x' });
    await backend.close();
  });

  it('bad options are TypeErrors at construction', () => {
    expect(() => new MemoryBackend({ maxSessions: 0 })).toThrow(TypeError);
    expect(() => new MemoryBackend({ sweepIntervalSeconds: 0.5 })).toThrow(TypeError);
    expect(() => new MemoryBackend({ defaultPeriodSeconds: Number.NaN })).toThrow(TypeError);
    expect(() => new MemoryBackend({ maxValueBytes: -1 })).toThrow(TypeError);
  });
});
