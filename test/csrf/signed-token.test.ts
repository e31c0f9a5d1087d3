import fc from 'fast-check';
import { parseSetCookie } from 'cookie';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CSRF_COOKIE_NAME, MIN_CSRF_SECRET_BYTES, signedCsrfTokens } from '../../src/csrf/index.js';

const SECRET = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);

/** Issues a token for a browser without cookies; returns the token and the `Cookie` header the browser then sends. */
function fresh(secrets: (string | Uint8Array)[] = [SECRET], cookieName?: string) {
  const tokens = signedCsrfTokens({ secrets, ...(cookieName !== undefined ? { cookieName } : {}) });
  const { token, setCookie } = tokens.issue(undefined);
  const parsed = parseSetCookie(setCookie!);
  return { tokens, token, cookie: `${parsed.name}=${parsed.value}`, nonce: parsed.value, setCookie: setCookie! };
}

describe('signedCsrfTokens: issue', () => {
  it('a request without the cookie gets a 43-character token and a browser-session nonce cookie (HttpOnly, SameSite=Lax, Path=/)', () => {
    const { token, setCookie, nonce } = fresh();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(setCookie).toBe(`${DEFAULT_CSRF_COOKIE_NAME}=${nonce}; Path=/; HttpOnly; SameSite=Lax`);
  });

  it('a request with a well-formed nonce cookie gets the same token back and no Set-Cookie', () => {
    const { tokens, token, cookie } = fresh();
    expect(tokens.issue(`sid=abc; ${cookie}`)).toEqual({ token, setCookie: undefined });
    expect(tokens.issue([cookie])).toEqual({ token, setCookie: undefined });
  });

  it('a malformed, oversized or conflicting nonce cookie is replaced by a new one', () => {
    const { tokens, cookie, nonce } = fresh();
    for (const header of [`${DEFAULT_CSRF_COOKIE_NAME}=short`, `${DEFAULT_CSRF_COOKIE_NAME}=${'x'.repeat(33)}`, `${cookie}; ${DEFAULT_CSRF_COOKIE_NAME}=${'y'.repeat(32)}`, `${cookie}; pad=${'z'.repeat(20_000)}`, '', null]) {
      const issued = tokens.issue(header);
      expect(issued.setCookie, String(header).slice(0, 80)).toBeDefined();
      expect(parseSetCookie(issued.setCookie!).value).not.toBe(nonce);
      expect(tokens.verify(issued.setCookie!.split(';')[0], issued.token)).toBe(true);
    }
  });

  it('two browsers get different nonces and tokens', () => {
    const a = fresh();
    const b = fresh();
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.token).not.toBe(b.token);
  });

  it('a __Host- cookie name makes the cookie Secure', () => {
    const { setCookie } = fresh([SECRET], '__Host-sessionkit.csrf');
    expect(setCookie).toMatch(/^__Host-sessionkit\.csrf=[A-Za-z0-9_-]{32}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
  });
});

describe('signedCsrfTokens: verify (each case a defined answer, never a throw)', () => {
  it('accepts the token with its own cookie, as a string header or node header lines', () => {
    const { tokens, token, cookie } = fresh();
    expect(tokens.verify(cookie, token)).toBe(true);
    expect(tokens.verify(`sid=x; ${cookie}; other=1`, token)).toBe(true);
    expect(tokens.verify([cookie], token)).toBe(true);
  });

  it("refuses it with another browser's cookie (wrong cookie)", () => {
    const a = fresh();
    const b = fresh();
    expect(a.tokens.verify(b.cookie, a.token)).toBe(false);
    expect(a.tokens.verify(a.cookie, b.token)).toBe(false);
  });

  it('refuses it without the cookie, or with the cookie sent twice with different values', () => {
    const { tokens, token, cookie } = fresh();
    for (const header of [undefined, null, '', 'sid=abc', [], `${cookie}; ${DEFAULT_CSRF_COOKIE_NAME}=${'y'.repeat(32)}`]) {
      expect(tokens.verify(header, token), JSON.stringify(header)).toBe(false);
    }
  });

  it('refuses a missing, non-string or malformed token', () => {
    const { tokens, token, cookie } = fresh();
    for (const given of [undefined, null, '', 42, {}, [token], token.slice(1), `${token}=`, ` ${token}`, `${token.slice(0, 42)}+`, Buffer.from(token)]) {
      expect(tokens.verify(cookie, given), String(given)).toBe(false);
    }
  });

  it('refuses every token with one character changed (tampered), the spare bits of the last one included', () => {
    const { tokens, token, cookie } = fresh();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 42 }), fc.constantFrom(...alphabet), (index, char) => {
        fc.pre(token[index] !== char);
        return !tokens.verify(cookie, token.slice(0, index) + char + token.slice(index + 1));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a token signed with another secret', () => {
    const { token, cookie } = fresh([OTHER]);
    expect(signedCsrfTokens({ secrets: [SECRET] }).verify(cookie, token)).toBe(false);
  });

  it('rotation: new secret first, old kept: old tokens still pass, new ones are signed with the new secret; dropping the old one refuses its tokens', () => {
    const old = fresh([SECRET]);
    const rotated = signedCsrfTokens({ secrets: [OTHER, SECRET] });
    expect(rotated.verify(old.cookie, old.token)).toBe(true);
    const reissued = rotated.issue(old.cookie);
    expect(reissued.setCookie).toBeUndefined();
    expect(reissued.token).not.toBe(old.token);
    expect(signedCsrfTokens({ secrets: [OTHER] }).verify(old.cookie, reissued.token)).toBe(true);
    expect(signedCsrfTokens({ secrets: [OTHER] }).verify(old.cookie, old.token)).toBe(false);
  });

  it('a secret as bytes signs the same as its UTF-8 string', () => {
    const { token, cookie } = fresh([Buffer.from(SECRET)]);
    expect(signedCsrfTokens({ secrets: [SECRET] }).verify(cookie, token)).toBe(true);
  });

  it('a token only verifies under the cookie name it was issued for', () => {
    const { token, nonce } = fresh();
    const renamed = signedCsrfTokens({ secrets: [SECRET], cookieName: 'other' });
    expect(renamed.verify(`${DEFAULT_CSRF_COOKIE_NAME}=${nonce}`, token)).toBe(false);
    expect(renamed.verify(`other=${nonce}`, token)).toBe(true);
  });

  it('arbitrary cookie headers and tokens: a boolean, never a throw', () => {
    const { tokens } = fresh();
    fc.assert(fc.property(fc.oneof(fc.string(), fc.constant(undefined), fc.array(fc.string())), fc.anything(), (header, token) => typeof tokens.verify(header, token) === 'boolean' && typeof tokens.issue(header).token === 'string'));
  });
});

describe('signedCsrfTokens: options', () => {
  it('refuses no secrets, a secret of the wrong type, and a bad cookie name or attribute with a TypeError', () => {
    for (const options of [undefined, null, {}, { secrets: [] }, { secrets: 'x'.repeat(40) }, { secrets: [42] }, { secrets: [SECRET], cookieName: 'bad name' }, { secrets: [SECRET], cookieName: '__Host-x', cookie: { secure: false } }]) {
      expect(() => signedCsrfTokens(options as never), JSON.stringify(options)).toThrow(TypeError);
    }
  });

  it(`refuses a secret shorter than ${MIN_CSRF_SECRET_BYTES} bytes with a RangeError naming it`, () => {
    expect(() => signedCsrfTokens({ secrets: [SECRET, 'x'.repeat(31)] })).toThrow(new RangeError('secrets[1] has 31 bytes; a CSRF secret needs at least 32'));
    expect(() => signedCsrfTokens({ secrets: [new Uint8Array(16)] })).toThrow(RangeError);
  });
});
