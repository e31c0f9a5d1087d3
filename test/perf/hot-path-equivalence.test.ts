// The request path's shortcuts give exactly what the straightforward code
// gives: the cookie written by hand against the `cookie` package, the envelope
// written out against JSON.stringify of the object, the JSON copy of a
// primitive against the round trip, the remembered digest against SHA-256.
import { createHash } from 'node:crypto';
import { stringifySetCookie } from 'cookie';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestKey, generateKey } from '../../src/core/keys.js';
import { resolveCookieOptions, serializeCookie, type CookieOptions } from '../../src/http/cookie-options.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../src/http/envelope.js';
import { applySessionHeaders, mergeVary, type HeaderPair } from '../../src/http/headers.js';
import { jsonCopy } from '../../src/http/session/json-copy.js';
import { headerTarget } from '../http/support/header-target.js';

const cookieOptions: fc.Arbitrary<CookieOptions> = fc.record(
  {
    discard: fc.boolean(),
    path: fc.constantFrom('/', '/app', '/a/b'),
    domain: fc.constantFrom('example.com', 'sub.example.org'),
    secure: fc.boolean(),
    httpOnly: fc.boolean(),
    sameSite: fc.constantFrom('lax', 'strict', 'none'),
    partitioned: fc.boolean(),
  },
  { requiredKeys: [] },
);
const cookieName = fc.constantFrom('sid', '__Host-sid', '__Secure-s', 'a.b_c');

/** What serializeCookie wrote before it remembered the attributes: the package, every time. */
function packageCookie(name: string, value: string, maxAge: number | undefined, options: CookieOptions & { path?: string }) {
  const resolved = resolveCookieOptions(name, options);
  return stringifySetCookie({ name, value, maxAge: maxAge === undefined ? undefined : Math.max(0, Math.trunc(maxAge)), ...resolved });
}

describe('serializeCookie', () => {
  it('writes what the cookie package writes, for keys, empty values and other values, with and without Max-Age', () => {
    fc.assert(
      fc.property(
        cookieName,
        cookieOptions,
        fc.oneof(fc.constant(''), fc.constant(generateKey()), fc.string({ maxLength: 40 }), fc.stringMatching(/^[A-Za-z0-9+/=_-]{1,40}$/)),
        fc.option(fc.oneof(fc.integer({ min: -10, max: 10 ** 9 }), fc.double({ min: -5, max: 1e6, noNaN: true })), { nil: undefined }),
        (name, options, value, maxAge) => {
          if (name.startsWith('__Host-')) {
            delete options.domain;
            options.path = '/';
          }
          let resolved;
          try {
            resolved = resolveCookieOptions(name, options);
          } catch {
            // Options the resolver refuses (partitioned without secure…) never reach serializeCookie.
            return;
          }
          let expected: string | Error;
          try {
            expected = packageCookie(name, value, maxAge, options);
          } catch (error) {
            expected = error as Error;
          }
          // Twice: the second call uses the remembered attributes.
          for (let i = 0; i < 2; i++) {
            if (expected instanceof Error) expect(() => serializeCookie(name, value, maxAge, resolved)).toThrow(TypeError);
            else expect(serializeCookie(name, value, maxAge, resolved)).toBe(expected);
          }
        },
      ),
    );
  });

  it('follows the name it is given when one resolved options object serves two names', () => {
    const resolved = resolveCookieOptions('sid', {});
    expect(serializeCookie('sid', 'abc', 60, resolved)).toBe('sid=abc; Max-Age=60; Path=/; HttpOnly; SameSite=Lax');
    expect(serializeCookie('other', 'abc', 60, resolved)).toBe('other=abc; Max-Age=60; Path=/; HttpOnly; SameSite=Lax');
    expect(serializeCookie('sid', 'abc', undefined, resolved)).toBe('sid=abc; Path=/; HttpOnly; SameSite=Lax');
  });

  it('reads options that are not frozen afresh on every call', () => {
    const options = { ...resolveCookieOptions('sid', {}) };
    expect(serializeCookie('sid', 'k', 1, options)).toBe('sid=k; Max-Age=1; Path=/; HttpOnly; SameSite=Lax');
    (options as { path: string }).path = '/x';
    expect(serializeCookie('sid', 'k', 1, options)).toBe('sid=k; Max-Age=1; Path=/x; HttpOnly; SameSite=Lax');
  });

  it('rejects a Max-Age that is not a number, as the package does', () => {
    const resolved = resolveCookieOptions('sid', {});
    expect(() => serializeCookie('sid', 'k', Number.NaN, resolved)).toThrow(TypeError);
    expect(() => serializeCookie('sid', 'k', Number.POSITIVE_INFINITY, resolved)).toThrow(TypeError);
  });
});

/** The envelope encoding before it was written out by hand. */
function referenceEncode({ createdAtMs, owner, data, ownPeriodSeconds: expirySeconds, authenticatedAtMs, lastSeenAtMs, userAgent, clientAddress }: Envelope): string {
  return JSON.stringify({ createdAtMs, owner, data, expirySeconds, authenticatedAtMs, lastSeenAtMs, userAgent, clientAddress });
}

const ENVELOPE_ORDER = ['createdAtMs', 'owner', 'data', 'ownPeriodSeconds', 'authenticatedAtMs', 'lastSeenAtMs', 'userAgent', 'clientAddress'];

const envelope: fc.Arbitrary<Envelope> = fc.record(
  {
    createdAtMs: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.double(), fc.constant(-0)),
    owner: fc.string({ maxLength: 20 }),
    data: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })),
    ownPeriodSeconds: fc.oneof(fc.integer({ min: -5, max: 10 ** 7 }), fc.double()),
    authenticatedAtMs: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.double()),
    lastSeenAtMs: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.double()),
    userAgent: fc.string({ maxLength: 30 }),
    clientAddress: fc.constantFrom('127.0.0.1', '::1', '2001:db8::"\\'),
  },
  { requiredKeys: ['createdAtMs', 'data'] },
);

describe('encodeEnvelope and decodeEnvelope', () => {
  it('write the same text as JSON.stringify of the envelope object', () => {
    fc.assert(fc.property(envelope, (e) => {
      expect(encodeEnvelope(e)).toBe(referenceEncode(e));
    }), { numRuns: 500 });
  });

  it('read back what they wrote, with absent fields left out', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        const decoded = decodeEnvelope(encodeEnvelope(e));
        const valid =
          Number.isFinite(e.createdAtMs) &&
          (e.owner === undefined || e.owner.length > 0) &&
          (e.ownPeriodSeconds === undefined || (Number.isSafeInteger(e.ownPeriodSeconds) && e.ownPeriodSeconds > 0)) &&
          (e.authenticatedAtMs === undefined || Number.isFinite(e.authenticatedAtMs)) &&
          (e.lastSeenAtMs === undefined || Number.isFinite(e.lastSeenAtMs));
        if (!valid) {
          expect(decoded).toBeUndefined();
          return;
        }
        const expected: Record<string, unknown> = { createdAtMs: JSON.parse(JSON.stringify(e.createdAtMs)), data: JSON.parse(JSON.stringify(e.data)) };
        if (e.owner !== undefined) expected.owner = e.owner;
        if (e.ownPeriodSeconds !== undefined) expected.ownPeriodSeconds = e.ownPeriodSeconds;
        for (const name of ['authenticatedAtMs', 'lastSeenAtMs', 'userAgent', 'clientAddress'] as const) {
          if (e[name] !== undefined) expected[name] = JSON.parse(JSON.stringify(e[name]));
        }
        expect(decoded).toStrictEqual(expected);
        expect(Object.keys(decoded!)).toEqual(Object.keys(expected).sort((a, b) => ENVELOPE_ORDER.indexOf(a) - ENVELOPE_ORDER.indexOf(b)));
      }),
      { numRuns: 500 },
    );
  });

  it('answer undefined for what is not an envelope', () => {
    for (const text of ['', ' ', 'null', '[]', '"x"', '{"moved":true}', '{"createdAtMs":"1","data":{}}', '{"createdAtMs":1,"data":[]}', '{"createdAtMs":1,"data":{},"owner":""}', '{"createdAtMs":1,"data":{},"expirySeconds":0}', '{"createdAtMs":1,"data":{},"lastSeenAtMs":"1"}', '{"createdAtMs":1,"data":{},"userAgent":1}', '{"createdAtMs":1,"data":{},"clientAddress":[]}', '{']) {
      expect(decodeEnvelope(text)).toBeUndefined();
    }
    expect(decodeEnvelope(' {"createdAtMs":1,"data":{}}')).toStrictEqual({ createdAtMs: 1, data: {} });
  });
});

describe('jsonCopy', () => {
  it('gives what a JSON round trip gives, for any value JSON can hold', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.double(), fc.string(), fc.constant(-0), fc.date()), (value) => {
        expect(jsonCopy(value, 'v')).toStrictEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('still rejects what JSON cannot hold', () => {
    expect(() => jsonCopy(undefined, 'v')).toThrow(TypeError);
    expect(() => jsonCopy(10n, 'v')).toThrow(TypeError);
    expect(() => jsonCopy(() => 1, 'v')).toThrow(TypeError);
  });
});

describe('digestKey', () => {
  const sha = (key: string) => createHash('sha256').update(key).digest('base64url').slice(0, 40);

  it('is the SHA-256 of the key, whether remembered or not, across more keys than it remembers', () => {
    const keys = Array.from({ length: 2500 }, (_, i) => (i % 3 === 0 ? generateKey() : `k${i}`));
    for (const key of [...keys, ...keys.reverse()]) expect(digestKey(key)).toBe(sha(key));
  });

  it('digests long inputs (owners) too', () => {
    fc.assert(fc.property(fc.string({ minLength: 41, maxLength: 300 }), (text) => {
          expect(digestKey(text)).toBe(sha(text));
        }));
  });
});

describe('applySessionHeaders', () => {
  const target = headerTarget;

  it('appends Set-Cookie, merges Vary, keeps a Cache-Control the handler set, whatever the case of the names', () => {
    const pairs: HeaderPair[] = [['Set-Cookie', 'sid=a'], ['Cache-Control', 'no-store'], ['Vary', 'Cookie'], ['set-cookie', 'x=1'], ['VARY', 'Cookie'], ['X-Other', '1']];
    const t = target({ 'set-cookie': ['old=1'], 'cache-control': 'private', vary: 'Accept' });
    applySessionHeaders(t, pairs);
    expect(Object.fromEntries(t.headers)).toStrictEqual({ 'set-cookie': ['old=1', 'sid=a', 'x=1'], 'cache-control': 'private', vary: 'Accept, Cookie', 'x-other': '1' });
    const empty = target();
    applySessionHeaders(empty, [['Cache-Control', 'no-store'], ['Vary', 'Cookie']]);
    expect(Object.fromEntries(empty.headers)).toStrictEqual({ 'cache-control': 'no-store', vary: 'Cookie' });
  });

  it('mergeVary leaves a Vary that covers the field, and starts one that is empty', () => {
    expect(mergeVary(undefined, 'Cookie')).toBe('Cookie');
    expect(mergeVary(null, 'Cookie')).toBe('Cookie');
    expect(mergeVary('', 'Cookie')).toBe('Cookie');
    expect(mergeVary('  ', 'Cookie')).toBe('Cookie');
    expect(mergeVary([], 'Cookie')).toBe('Cookie');
    expect(mergeVary('*', 'Cookie')).toBeUndefined();
    expect(mergeVary('accept, cookie', 'Cookie')).toBeUndefined();
    expect(mergeVary(['Accept', 'Origin'], 'Cookie')).toBe('Accept, Origin, Cookie');
  });
});
