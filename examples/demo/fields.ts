// The fields of a POST body (a form or a JSON object), read within bounds: the
// body size is capped before this runs (the app's body limit); JSON nesting is
// checked before it is parsed, so no body makes parsing expensive.

/** Largest request body the demo reads, in bytes: far more than any of its forms needs. */
export const MAX_BODY_BYTES = 16 * 1024;
/** Deepest JSON nesting accepted (the demo's bodies are flat objects). */
export const MAX_JSON_DEPTH = 8;

/** A body's fields: strings from a form, any JSON value from a JSON object. */
export type Fields = Readonly<Record<string, unknown>>;

/** Why a body could not be read: answered 400. */
export class MalformedBodyError extends Error {
  override readonly name = 'MalformedBodyError';
}

/**
 * The fields of `body` as `contentType` says: URL-encoded form, JSON object,
 * or none for anything else (an empty body included). Throws a
 * `MalformedBodyError` for JSON that is invalid, nested deeper than
 * {@link MAX_JSON_DEPTH}, or not an object.
 */
export function parseFields(contentType: string, body: string): Fields {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(body));
  if (type !== 'application/json') return {};
  if (jsonDepth(body) > MAX_JSON_DEPTH) throw new MalformedBodyError(`JSON nested deeper than ${MAX_JSON_DEPTH}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new MalformedBodyError('invalid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new MalformedBodyError('the JSON body must be an object');
  return parsed as Fields;
}

/** Deepest bracket nesting of a JSON text, strings skipped; one pass, no parsing. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/**
 * A user name as typed, trimmed, or undefined when it is not one: not a
 * string, empty, longer than `maxChars`, with a control character (NUL
 * included) or a lone surrogate (not Unicode text, and no store keeps it).
 */
export function userName(value: unknown, maxChars: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > maxChars) return undefined;
  if (!trimmed.isWellFormed() || /[\u0000-\u001f\u007f]/.test(trimmed)) return undefined;
  return trimmed;
}
