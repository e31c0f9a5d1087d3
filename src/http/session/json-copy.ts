/** Throws a `TypeError` unless `name` is a string (a field name from untyped code). */
export function assertFieldName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`session field name must be a string, got ${typeof name}`);
}

/**
 * A deep copy through JSON, so the session holds exactly what the store will
 * return. `what` (followed by `name` when given) names the value in the
 * `TypeError`; the message is built only then, off the `set` path.
 */
export function jsonCopy(value: unknown, what: string, name?: string): unknown {
  // A string, a boolean, null or a finite number other than -0 comes back from JSON as it went in:
  // no text to make and parse for the commonest field values.
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      break;
    case 'object':
      if (value === null) return value;
      break;
  }
  return JSON.parse(jsonText(value, what, name));
}

/** The JSON text of `value`; a `TypeError` naming it as {@link jsonCopy} does when JSON cannot hold it. */
export function jsonText(value: unknown, what: string, name?: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    if (name !== undefined) what = `${what} ${name}`;
    throw new TypeError(`${what} cannot be stored as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (text === undefined) throw new TypeError(`${name === undefined ? what : `${what} ${name}`} cannot be stored as JSON (${typeof value})`);
  return text;
}

/**
 * A deep copy of data that came through JSON already (stored data, a
 * {@link jsonCopy}): the same result as `JSON.parse(JSON.stringify(value))`
 * for such data, copied member by member with no text made and parsed.
 */
export function cloneJsonData<T>(value: T): T {
  // A string, number, boolean or null is its own copy.
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJsonData) as T;
  const copy: Record<string, unknown> = {};
  for (const name of Object.keys(value)) {
    const field = cloneJsonData((value as Record<string, unknown>)[name]);
    // As JSON.parse makes it: a field called `__proto__` stays a field.
    if (name === '__proto__') Object.defineProperty(copy, name, { value: field, enumerable: true, writable: true, configurable: true });
    else copy[name] = field;
  }
  return copy as T;
}
