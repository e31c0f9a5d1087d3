import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeStored } from '../../../src/backends/redis/stored-value.js';

// The head's grammar (decodeStored's TSDoc) as one regular expression: the reference the hand scanner must agree with.
const HEAD_GRAMMAR = /^(\d{1,16})(?:@([A-Za-z0-9_-]{1,64})@\d{1,16})?(?::[A-Za-z0-9_-]{1,32}){0,8}$/;

function reference(stored: string) {
  const marker = stored.indexOf('=');
  const parts = HEAD_GRAMMAR.exec(marker === -1 ? stored : stored.slice(0, marker));
  if (parts === null) return undefined;
  return { expiresAtMs: Number(parts[1]), value: marker === -1 ? null : stored.slice(marker + 1), ownerTag: parts[2] };
}

/** Runs of `characters` whose length is often a bound of the grammar (`most`) or one past it. */
const run = (characters: string, most: number) =>
  fc
    .oneof(fc.integer({ min: 1, max: most + 1 }), fc.constantFrom(1, most, most + 1))
    .chain((length) => fc.string({ unit: fc.constantFrom(...characters), minLength: length, maxLength: length }));
const digits = (most: number) => run('0123456789', most);
const tagLike = (most: number) => run('ABCXYZabcxyz0189_-', most);
/** Heads near the grammar's edges: lengths one past each bound, a stray character, the parts in any order. */
const part = fc.oneof(
  digits(16),
  fc.tuple(tagLike(64), digits(16)).map(([tag, covered]) => `@${tag}@${covered}`),
  tagLike(32).map((token) => `:${token}`),
  fc.constantFrom('@', ':', '', 'é', ' ', '\u0000', '+', '/'),
);
const stored = fc.tuple(fc.array(part, { maxLength: 12 }), fc.option(fc.string(), { nil: undefined })).map(([parts, value]) => parts.join('') + (value === undefined ? '' : `=${value}`));

describe('decodeStored', () => {
  it('accepts exactly the heads of the grammar, and reads their instant, owner tag and value', () => {
    fc.assert(
      fc.property(stored, (text) => {
        expect(decodeStored(text)).toEqual(reference(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads the strings the batch script writes, and refuses what it does not', () => {
    expect(decodeStored('1767225600000:tok1=v')).toEqual({ expiresAtMs: 1767225600000, value: 'v', ownerTag: undefined });
    expect(decodeStored(`1767225600000@${'a'.repeat(40)}@1767312000000:t1:t2:t3`)).toEqual({ expiresAtMs: 1767225600000, value: null, ownerTag: 'a'.repeat(40) });
    expect(decodeStored('1767225600000=x=y')).toEqual({ expiresAtMs: 1767225600000, value: 'x=y', ownerTag: undefined });
    expect(decodeStored(`1${':t'.repeat(9)}=v`)).toBeUndefined();
    expect(decodeStored('12345678901234567=v')).toBeUndefined();
    expect(decodeStored('{"a":1}')).toBeUndefined();
  });
});
