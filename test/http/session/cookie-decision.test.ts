import { parseSetCookie } from 'cookie';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../../src/index.js';
import { resolveSessionOptions } from '../../../src/http/session-options.js';
import { CLEAR_COOKIE, isTouchDue, NO_COOKIE, responseHeaders, setCookie } from '../../../src/http/session/cookie-decision.js';

const options = resolveSessionOptions(new MemoryBackend(), { idleTimeoutSeconds: 100, touchAfterSeconds: 10, nowMs: () => 0 });

describe('cookie decisions', () => {
  it('none: only Vary: Cookie', () => {
    expect(responseHeaders(NO_COOKIE, options)).toEqual([['Vary', 'Cookie']]);
  });

  it('set: the key with Max-Age = the expiry given, beside Cache-Control: no-store and Vary', () => {
    const pairs = responseHeaders(setCookie('k'.repeat(40), 90), options);
    const line = pairs.find(([name]) => name === 'Set-Cookie')![1];
    expect(parseSetCookie(line)).toMatchObject({ name: 'sid', value: 'k'.repeat(40), maxAge: 90 });
    expect(pairs).toContainEqual(['Cache-Control', 'no-store']);
    expect(pairs).toContainEqual(['Vary', 'Cookie']);
  });

  it('set under discard: a session cookie, unless the session has its own period (then Max-Age stays)', () => {
    const discarding = resolveSessionOptions(new MemoryBackend(), { idleTimeoutSeconds: 100, cookie: { discard: true }, nowMs: () => 0 });
    const line = (ownPeriod: boolean) => responseHeaders(setCookie('k'.repeat(40), 90, ownPeriod), discarding).find(([name]) => name === 'Set-Cookie')![1];
    expect(parseSetCookie(line(false)).maxAge).toBeUndefined();
    expect(parseSetCookie(line(true)).maxAge).toBe(90);
  });

  it('clear: an expired, empty cookie', () => {
    const line = responseHeaders(CLEAR_COOKIE, options).find(([name]) => name === 'Set-Cookie')![1];
    expect(parseSetCookie(line)).toMatchObject({ name: 'sid', value: '', maxAge: 0 });
  });

  it('touch throttling: due once a renewal would add touchAfterSeconds or more', () => {
    expect(isTouchDue(options, 0, 91)).toBe(false);
    expect(isTouchDue(options, 0, 90)).toBe(true);
    expect(isTouchDue(options, 0, 0)).toBe(true);
  });

  it("touch throttling measures against the session's own period when it has one", () => {
    expect(isTouchDue(options, 0, 990, 1000)).toBe(true);
    expect(isTouchDue(options, 0, 995, 1000)).toBe(false);
  });

  it('touch throttling: never past the absolute lifetime (nothing to add)', () => {
    const capped = resolveSessionOptions(new MemoryBackend(), { idleTimeoutSeconds: 100, touchAfterSeconds: 10, absoluteLifetimeSeconds: 50, nowMs: () => 45_000 });
    expect(isTouchDue(capped, 0, 5)).toBe(false);
  });
});
