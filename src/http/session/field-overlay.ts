import type { DataRecord } from '../envelope.js';
import type { Transform } from './commit-loop.js';
import { cloneJsonData, jsonText } from './json-copy.js';

/** A field this request removed. */
const UNSET = Symbol('unset');
type Change = { readonly value: unknown } | typeof UNSET;

/**
 * The fields one request set or unset, on top of whatever is stored: state is
 * tracked, never diffed, so only these fields are merged into the stored data
 * at the commit and parallel requests writing other fields keep theirs.
 * Values are kept as given: the caller copies them (through JSON) first.
 */
export class FieldOverlay {
  // Made by the first change: most requests change no field one by one (a read, or `update(fn)`).
  #changes: Map<string, Change> | undefined;

  /** Number of fields changed. */
  get size(): number {
    return this.#changes?.size ?? 0;
  }

  /**
   * Records `name` = `value`, then runs `check` on the data it would make of
   * `stored`: when `check` throws, the change is undone and the error
   * rethrown (a field that would not fit the store is never recorded).
   */
  set(name: string, value: unknown, stored: DataRecord = {}, check: (data: DataRecord) => void = () => undefined): void {
    const changes = (this.#changes ??= new Map());
    const previous = changes.get(name);
    changes.set(name, { value });
    try {
      check(this.apply(stored));
    } catch (error) {
      if (previous === undefined) changes.delete(name);
      else changes.set(name, previous);
      throw error;
    }
  }

  /** Records that `name` is removed. */
  unset(name: string): void {
    (this.#changes ??= new Map()).set(name, UNSET);
  }

  /** The field as this request sees it: its own change if any, else `stored`'s own property. */
  get(name: string, stored: DataRecord): unknown {
    const change = this.#changes?.get(name);
    if (change !== undefined) return change === UNSET ? undefined : change.value;
    return Object.hasOwn(stored, name) ? stored[name] : undefined;
  }

  /** `stored` with the changes on top: a new object, `stored` is left alone. */
  apply(stored: DataRecord): DataRecord {
    const result: DataRecord = { ...stored };
    if (this.#changes === undefined) return result;
    for (const [name, change] of this.#changes) {
      if (change === UNSET) delete result[name];
      // defineProperty: a field called `__proto__` stays a field.
      else Object.defineProperty(result, name, { value: change.value, enumerable: true, writable: true, configurable: true });
    }
    return result;
  }

  /** Forgets every change (they were written, or a fresh start drops them). */
  clear(): void {
    this.#changes?.clear();
  }
}

/**
 * The transform `update(fn)` writes: `fn` of a copy of the stored data with
 * `overlay`'s changes on top, which must return an object, copied through
 * JSON. It may run once per compare-and-set attempt; `written()` is a copy of
 * what its last run made (the data written, once the write succeeded), parsed
 * from the text the write stored rather than serialized again. A `TypeError`
 * at once when `fn` is not a function.
 */
export function updateTransform(overlay: FieldOverlay, fn: (data: DataRecord) => unknown): { transform: Transform; written: () => DataRecord } {
  if (typeof fn !== 'function') throw new TypeError('update() needs a function');
  let text = '{}';
  const transform: Transform = (stored) => {
    // With no field changed, the copy alone is what `fn` gets (apply's own copy would be thrown away).
    const next = fn(cloneJsonData(overlay.size === 0 ? stored : overlay.apply(stored)));
    if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new TypeError('update() must return an object');
    text = jsonText(next, 'session data');
    return { data: JSON.parse(text) as DataRecord, text };
  };
  return { transform, written: () => JSON.parse(text) as DataRecord };
}
