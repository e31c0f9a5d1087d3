import { describe, expect, it } from 'vitest';
import { assertFieldName, jsonCopy } from '../../../src/http/session/json-copy.js';

describe('jsonCopy', () => {
  it('is a deep copy holding exactly what JSON keeps (a Date becomes its string, undefined fields go)', () => {
    const nested = { at: new Date(0), list: [1, { b: undefined }] };
    const copy = jsonCopy(nested, 'x') as { at: unknown; list: unknown[] };
    expect(copy).toEqual({ at: '1970-01-01T00:00:00.000Z', list: [1, {}] });
    expect(copy.list).not.toBe(nested.list);
  });

  it('a value JSON cannot hold is a TypeError naming it', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => jsonCopy(cyclic, 'session field a')).toThrow(/session field a cannot be stored as JSON/);
    expect(() => jsonCopy(10n, 'session field big')).toThrow(TypeError);
    expect(() => jsonCopy(() => 1, 'session field f')).toThrow(/\(function\)/);
  });

  it('assertFieldName accepts strings only', () => {
    expect(() => assertFieldName('a')).not.toThrow();
    expect(() => assertFieldName(1)).toThrow(/must be a string, got number/);
  });
});
