import { describe, expect, it } from 'vitest';
import { keyOfCookieValue, MAX_COOKIE_VALUE_CHARS } from '../../src/cli/commands/key-argument.js';
import { CliError } from '../../src/cli/exit-codes.js';
import { storeKeyOfSessionId } from '../../src/adapters/express-session/session-id.js';

/** The exit code and message a value is refused with. */
function refusal(value: string): { exitCode: number; message: string } {
  try {
    keyOfCookieValue(value);
  } catch (error) {
    if (error instanceof CliError) return { exitCode: error.exitCode, message: error.message };
    throw error;
  }
  throw new Error(`${value} was accepted`);
}

describe('the KEY of inspect and revoke: the cookie value as the browser holds it', () => {
  it('a key as it is', () => {
    expect(keyOfCookieValue('bm90LWEtc2Vzc2lvbg')).toEqual({ key: 'bm90LWEtc2Vzc2lvbg' });
  });

  it('a key URL-encoded (+, / and = as the cookie package writes them) is decoded, and the report says so', () => {
    expect(keyOfCookieValue('ab%2Bcd%2Fef%3D')).toEqual({ key: 'ab+cd/ef=', note: 'the value was URL-decoded' });
  });

  it("express-session's signed cookie, encoded (s%3A…) or not: the id before the signature, with a note that the signature is not checked", () => {
    const signature = 'Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1enF1dXo';
    for (const value of [`s%3AkD3v_Zq-9wXyQ1m2n3o4p5r6s7t8u9v0.${signature}`, `s:kD3v_Zq-9wXyQ1m2n3o4p5r6s7t8u9v0.${signature}`, `s%3AkD3v_Zq-9wXyQ1m2n3o4p5r6s7t8u9v0.${encodeURIComponent(`${signature}+/`)}`]) {
      const { key, note } = keyOfCookieValue(value);
      expect(key).toBe('kD3v_Zq-9wXyQ1m2n3o4p5r6s7t8u9v0');
      expect(note).toMatch(/express-session's signed cookie .*the signature is not checked/);
    }
  });

  it("a signed cookie whose id cannot be a key (a genid of the app's own) names the key SessionkitStore keeps it under", () => {
    const id = '{3f2c-uuid}';
    expect(keyOfCookieValue(`s%3A${encodeURIComponent(id)}.c2lnbmF0dXJl`).key).toBe(storeKeyOfSessionId(id));
  });

  it('the longest value taken is a signed cookie of a longest key, all of it percent-encoded', () => {
    const encoded = (text: string) => [...text].map((char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');
    const longest = `s%3A${encoded('k'.repeat(40))}.${encoded('s'.repeat(43))}`;
    expect(longest).toHaveLength(MAX_COOKIE_VALUE_CHARS);
    expect(keyOfCookieValue(longest).key).toBe('k'.repeat(40));
  });

  it.each([
    ['%-escapes that do not decode', 'abc%E0%A4%A', /its %-escapes do not decode/],
    ['a signed cookie without an id', 's%3A.sig', /signed cookie \(s:…\) but holds no session id/],
    ['a signed cookie without a signature', 's:abc', /signed cookie \(s:…\) but holds no session id/],
    ['a value with characters no key has', 'not a key!', /not a session key/],
    ['a decoded value with characters no key has', 'a%20b', /not a session key/],
  ])('%s: a usage error (exit 2)', (_, value, message) => {
    const { exitCode, message: text } = refusal(value);
    expect(exitCode).toBe(2);
    expect(text).toMatch(message);
  });
});
