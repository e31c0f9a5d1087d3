import { describe, expect, it } from 'vitest';
import { FieldOverlay, updateTransform } from '../../../src/http/session/field-overlay.js';

describe('FieldOverlay', () => {
  it('applies sets and unsets on top of the stored data without changing it', () => {
    const stored = Object.freeze({ a: 1, b: 2 });
    const overlay = new FieldOverlay();
    overlay.set('a', 10);
    overlay.unset('b');
    overlay.set('c', 3);
    expect(overlay.apply(stored)).toEqual({ a: 10, c: 3 });
    expect(stored).toEqual({ a: 1, b: 2 });
    expect(overlay.size).toBe(3);
  });

  it('get: the change if any, else the stored own property (never an inherited one)', () => {
    const overlay = new FieldOverlay();
    overlay.unset('a');
    expect(overlay.get('a', { a: 1 })).toBeUndefined();
    expect(overlay.get('b', { b: 2 })).toBe(2);
    expect(overlay.get('toString', {})).toBeUndefined();
  });

  it('a field named __proto__ stays a field', () => {
    const overlay = new FieldOverlay();
    overlay.set('__proto__', 'x');
    const applied = overlay.apply({});
    expect(Object.keys(applied)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(applied)).toBe(Object.prototype);
  });

  it('a set whose check throws is undone: exactly the previous change (or none) is left, and the error goes to the caller', () => {
    const overlay = new FieldOverlay();
    overlay.unset('a');
    const tooBig = new TypeError('too big');
    const refuse = () => {
      throw tooBig;
    };
    expect(() => overlay.set('a', 1, { a: 'stored' }, refuse)).toThrow(tooBig);
    expect(overlay.apply({ a: 'stored' })).toEqual({});
    expect(() => overlay.set('b', 1, {}, refuse)).toThrow(tooBig);
    expect(overlay.size).toBe(1);
    const seen: unknown[] = [];
    overlay.set('b', 2, { c: 3 }, (data) => seen.push(data));
    expect(seen).toEqual([{ b: 2, c: 3 }]);
  });

  it('updateTransform hands fn a copy of the stored data with the changes on top, and takes back only a JSON object', () => {
    const overlay = new FieldOverlay();
    overlay.set('a', 1);
    const stored = { b: { deep: true } };
    const { transform, written } = updateTransform(overlay, (data) => {
      (data.b as { deep: boolean }).deep = false;
      return { ...data, at: new Date(0) };
    });
    expect(transform(stored).data).toEqual({ a: 1, b: { deep: false }, at: '1970-01-01T00:00:00.000Z' });
    expect(written()).toEqual({ a: 1, b: { deep: false }, at: '1970-01-01T00:00:00.000Z' });
    expect(stored).toEqual({ b: { deep: true } });
    for (const bad of [null, [], 'x', 3]) expect(() => updateTransform(overlay, () => bad).transform(stored)).toThrow(/must return an object/);
  });

  it('clear forgets every change', () => {
    const overlay = new FieldOverlay();
    overlay.set('a', 1);
    overlay.clear();
    expect(overlay.size).toBe(0);
    expect(overlay.apply({ a: 0 })).toEqual({ a: 0 });
  });
});
