import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newWriteToken } from '../../src/core/keys.js';
import { digestKey, generateKey, isWellFormedKey } from '../../src/index.js';

describe('keys', () => {
  it('generateKey: 40 base64url characters, all distinct', () => {
    const keys = Array.from({ length: 10_000 }, generateKey);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('newWriteToken: one process prefix, then distinct tokens of 9 to 19 characters that hold no `:` or `=` (the Redis head)', () => {
    const tokens = Array.from({ length: 100_000 }, newWriteToken);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{9,19}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(new Set(tokens.map((token) => token.slice(0, 8))).size).toBe(1);
  });

  it('isWellFormedKey agrees with the definition: 1 to 40 base64 or base64url characters', () => {
    const definition = /^[A-Za-z0-9+/=_-]{1,40}$/;
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 45 }), fc.string({ unit: fc.constantFrom(...'AZaz09+/=_-. é\u0000'), maxLength: 45 })), (key) => {
        expect(isWellFormedKey(key)).toBe(definition.test(key));
      }),
      { numRuns: 5000 },
    );
  });

  it('digestKey: SHA-256 base64url cut to 40 characters, not the key', () => {
    const key = generateKey();
    expect(digestKey(key)).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(digestKey(key)).not.toBe(key);
    expect(digestKey('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIA');
  });
});
