import { describe, expect, it } from 'vitest';
import { decodeStored } from '../../../src/backends/redis/stored-value.js';

const INSTANT = '1767225600000';
const TAG = 'a'.repeat(40);

describe('decodeStored', () => {
  it('reads the strings the batch script writes: instant, owner tag, tokens, value', () => {
    expect(decodeStored(`${INSTANT}:tok1={"n":1}`)).toEqual({ expiresAtMs: 1767225600000, value: '{"n":1}', ownerTag: undefined });
    expect(decodeStored(`${INSTANT}@${TAG}@1767312000000:t1:t2:t3`)).toEqual({ expiresAtMs: 1767225600000, value: null, ownerTag: TAG });
    // Only the first `=` ends the head; strings written before tokens existed read as before.
    expect(decodeStored(`${INSTANT}=x=y`)).toEqual({ expiresAtMs: 1767225600000, value: 'x=y', ownerTag: undefined });
    expect(decodeStored(INSTANT)).toEqual({ expiresAtMs: 1767225600000, value: null, ownerTag: undefined });
  });

  it('takes each part up to its bound and refuses one past it', () => {
    const accepted = [`${'9'.repeat(16)}=v`, `1@${'b'.repeat(64)}@${'9'.repeat(16)}=v`, `1:${'c'.repeat(32)}=v`, `1${':t'.repeat(8)}=v`, '1@A-_z@2:Z-9_=v'];
    const refused = [`${'9'.repeat(17)}=v`, `1@${'b'.repeat(65)}@2=v`, `1@b@${'9'.repeat(17)}=v`, `1:${'c'.repeat(33)}=v`, `1${':t'.repeat(9)}=v`];
    for (const text of accepted) expect(decodeStored(text), text).toBeDefined();
    for (const text of refused) expect(decodeStored(text), text).toBeUndefined();
  });

  it('refuses what sessionkit did not write: no instant, a stray character, parts out of order', () => {
    for (const text of ['={"a":1}', '{"a":1}', '', 'x1=v', '1 =v', '1:t+=v', '1:=v', '1@@2=v', '1@b=v', '1:t@b@2=v', '1@b@2@c@3=v', `1:é=v`]) {
      expect(decodeStored(text), text).toBeUndefined();
    }
  });
});
