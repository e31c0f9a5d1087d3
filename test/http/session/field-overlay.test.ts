import { describe, expect, it } from 'vitest';
import { FieldOverlay } from '../../../src/http/session/field-overlay.js';

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

  it("set's undo restores exactly the previous change (or none)", () => {
    const overlay = new FieldOverlay();
    overlay.unset('a');
    const undoSet = overlay.set('a', 1);
    undoSet();
    expect(overlay.apply({ a: 'stored' })).toEqual({});
    const undoFirst = overlay.set('b', 1);
    undoFirst();
    expect(overlay.size).toBe(1);
  });

  it('clear forgets every change', () => {
    const overlay = new FieldOverlay();
    overlay.set('a', 1);
    overlay.clear();
    expect(overlay.size).toBe(0);
    expect(overlay.apply({ a: 0 })).toEqual({ a: 0 });
  });
});
