import { parseSetCookie } from 'cookie';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKey } from '../../src/index.js';
import { applySessionHeaders, mergeVary, readSessionCookie, type CookieOptions, type HeaderPair } from '../../src/http/index.js';
import { clearHeaders, toCookieHeaders, type HttpSession } from '../../src/ocaml-session/index.js';
import { headerTarget } from './support/header-target.js';

const key = generateKey();
const session = (overrides: Partial<HttpSession> = {}): HttpSession => ({ key, value: 'v', expiryPeriod: 3600, modified: true, ...overrides });
const setCookieOf = (pairs: HeaderPair[]) => pairs.filter(([name]) => name === 'Set-Cookie').map(([, value]) => value);

describe('toCookieHeaders', () => {
  it('sends Set-Cookie with Max-Age = period and the defaults Path=/, HttpOnly, SameSite=Lax, plus no-store and Vary', () => {
    const pairs = toCookieHeaders('sid', session());
    expect(pairs).toEqual([
      ['Set-Cookie', `sid=${key}; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax`],
      ['Cache-Control', 'no-store'],
      ['Vary', 'Cookie'],
    ]);
  });

  it('sends only Vary: Cookie when the session is unmodified', () => {
    expect(toCookieHeaders('sid', session({ modified: false }))).toEqual([['Vary', 'Cookie']]);
  });

  it('discard makes a browser-session cookie (no Max-Age)', () => {
    const [cookie] = setCookieOf(toCookieHeaders('sid', session(), { discard: true }));
    expect(cookie).toBe(`sid=${key}; Path=/; HttpOnly; SameSite=Lax`);
  });

  it('a cleared session gets an empty value and Max-Age=0, even with discard', () => {
    const [cookie] = setCookieOf(toCookieHeaders('sid', session({ value: '', expiryPeriod: 0 }), { discard: true }));
    expect(cookie).toBe('sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax');
  });

  it('writes every attribute asked for', () => {
    const [cookie] = setCookieOf(
      toCookieHeaders('app', session(), { path: '/app', domain: 'example.com', secure: true, httpOnly: false, sameSite: 'none', partitioned: true }),
    );
    expect(parseSetCookie(cookie!)).toEqual({
      name: 'app',
      value: key,
      maxAge: 3600,
      path: '/app',
      domain: 'example.com',
      secure: true,
      partitioned: true,
      sameSite: 'none',
    });
  });

  it('__Host- forces Secure, Path=/ and no Domain', () => {
    const [cookie] = setCookieOf(toCookieHeaders('__Host-sid', session()));
    expect(cookie).toBe(`__Host-sid=${key}; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax`);
  });

  it('__Secure- forces Secure', () => {
    const [cookie] = setCookieOf(toCookieHeaders('__Secure-sid', session(), { path: '/x' }));
    expect(cookie).toContain('; Secure');
    expect(cookie).toContain('Path=/x');
  });

  it.each<[string, CookieOptions]>([
    ['__Host-sid', { secure: false }],
    ['__Host-sid', { path: '/app' }],
    ['__Host-sid', { domain: 'example.com' }],
    ['__host-sid', { domain: 'example.com' }],
    ['__Secure-sid', { secure: false }],
    ['sid', { sameSite: 'none' }],
    ['sid', { partitioned: true }],
  ])('%s with %j is a TypeError', (name, options) => {
    expect(() => toCookieHeaders(name, session(), options)).toThrow(TypeError);
  });
});

describe('clearHeaders', () => {
  it('expires the cookie with the same path and domain', () => {
    expect(clearHeaders('sid', { path: '/app', domain: 'example.com' })).toEqual([
      ['Set-Cookie', 'sid=; Max-Age=0; Domain=example.com; Path=/app; HttpOnly; SameSite=Lax'],
      ['Cache-Control', 'no-store'],
      ['Vary', 'Cookie'],
    ]);
  });

  it('keeps Secure on a __Host- cookie, or the browser would refuse the deletion', () => {
    expect(setCookieOf(clearHeaders('__Host-sid'))[0]).toBe('__Host-sid=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax');
  });
});

describe('applySessionHeaders', () => {
  const target = headerTarget;

  it('appends Set-Cookie, merges Vary and keeps a Cache-Control the handler set', () => {
    const t = target({ 'Set-Cookie': 'other=1', Vary: 'Accept-Encoding', 'Cache-Control': 'private, max-age=0' });
    applySessionHeaders(t, toCookieHeaders('sid', session()));
    expect(t.headers.get('set-cookie')).toEqual(['other=1', `sid=${key}; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax`]);
    expect(t.headers.get('vary')).toBe('Accept-Encoding, Cookie');
    expect(t.headers.get('cache-control')).toBe('private, max-age=0');
  });

  it('sets Cache-Control: no-store when the response has none', () => {
    const t = target({});
    applySessionHeaders(t, toCookieHeaders('sid', session()));
    expect(t.headers.get('cache-control')).toBe('no-store');
    expect(t.headers.get('vary')).toBe('Cookie');
  });

  it('mergeVary leaves * and an existing Cookie alone', () => {
    expect(mergeVary('*', 'Cookie')).toBeUndefined();
    expect(mergeVary('accept, cookie', 'Cookie')).toBeUndefined();
    expect(mergeVary(['Accept', 'Origin'], 'Cookie')).toBe('Accept, Origin, Cookie');
    expect(mergeVary(undefined, 'Cookie')).toBe('Cookie');
  });
});

describe('readSessionCookie: lenient in', () => {
  it('finds the key among other cookies', () => {
    expect(readSessionCookie(`a=1; sid=${key}; b=2`, 'sid')).toEqual({ kind: 'key', key });
    expect(readSessionCookie([`a=1`, `sid=${key}`], 'sid')).toEqual({ kind: 'key', key });
  });

  it('absent without a cookie of that name', () => {
    expect(readSessionCookie(undefined, 'sid')).toEqual({ kind: 'absent' });
    expect(readSessionCookie(null, 'sid')).toEqual({ kind: 'absent' });
    expect(readSessionCookie('', 'sid')).toEqual({ kind: 'absent' });
    expect(readSessionCookie('sidx=1; xsid=2', 'sid')).toEqual({ kind: 'absent' });
  });

  it.each([
    ['duplicated name with different values (cookie tossing)', `sid=${key}; sid=${generateKey()}`],
    ['malformed value', 'sid=not a key!'],
    ['empty value', 'sid='],
    ['non-ASCII value', 'sid=caf\u00e9\u00e9\u00e9'],
    ['percent-encoded value', `sid=${encodeURIComponent('a/b+c=')}%41`],
    ['over-long value', `sid=${'a'.repeat(41)}`],
    ['oversized header', `sid=${key}; pad=${'x'.repeat(20_000)}`],
  ])('invalid: %s', (_label, header) => {
    expect(readSessionCookie(header, 'sid')).toEqual({ kind: 'invalid' });
  });

  it('the same value sent twice is still the key', () => {
    expect(readSessionCookie(`sid=${key}; sid=${key}`, 'sid')).toEqual({ kind: 'key', key });
  });

  it('property: any string, any name, never throws and only ever yields a well-formed key', () => {
    const hostile = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 50 }))).map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join(';')),
      fc.constantFrom('sid', '=', ';;;', 'sid=;sid', '"sid"="x"', 'sid=\u0000', 'sid=\uD800', `sid=${key};`.repeat(3000)),
    );
    fc.assert(
      fc.property(hostile, fc.constantFrom('sid', '__Host-sid', 'a'), (header, name) => {
        const result = readSessionCookie(header, name);
        if (result.kind === 'key') expect(result.key).toMatch(/^[A-Za-z0-9+/=_-]{1,40}$/);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('cookie options: strict out', () => {
  it('property: an invalid option value always throws a TypeError', () => {
    const invalidOption = fc.oneof(
      fc.record({ path: fc.oneof(fc.string().filter((p) => !p.startsWith('/')), fc.constant('/a;b'), fc.constant('/\u0000'), fc.integer()) }),
      fc.record({ domain: fc.oneof(fc.constant(''), fc.constant('exa mple.com'), fc.constant('a;b'), fc.constant('-bad-.com'), fc.integer()) }),
      fc.record({ sameSite: fc.oneof(fc.string().filter((s) => !['lax', 'strict', 'none'].includes(s)), fc.boolean(), fc.integer()) }),
      fc.record({ secure: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }),
      fc.record({ httpOnly: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }),
      fc.record({ partitioned: fc.oneof(fc.string({ minLength: 1 }), fc.integer(), fc.constant(null)) }),
      fc.record({ discard: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }),
      fc.record({ sameSite: fc.constant('none'), secure: fc.constant(false) }),
    );
    fc.assert(
      fc.property(invalidOption, (options) => {
        expect(() => toCookieHeaders('sid', session(), options as CookieOptions)).toThrow(TypeError);
        expect(() => clearHeaders('sid', options as CookieOptions)).toThrow(TypeError);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: an invalid cookie name always throws a TypeError', () => {
    const badName = fc.oneof(fc.constant(''), fc.string().filter((n) => !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n)));
    fc.assert(
      fc.property(badName, (name) => {
        expect(() => toCookieHeaders(name, session())).toThrow(TypeError);
      }),
    );
  });

  it('does not mutate the options it is given', () => {
    const options = Object.freeze({ path: '/' });
    expect(() => toCookieHeaders('__Host-sid', session(), options)).not.toThrow();
  });
});
