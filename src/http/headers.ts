import { serializeCookie, type ResolvedCookieOptions } from './cookie-options.js';

/** One response header as `[name, value]`; `Set-Cookie` may appear more than once in a list. */
export type HeaderPair = [name: string, value: string];

/** The header every session-dependent response carries, so caches key on the cookie. */
export const VARY_COOKIE: HeaderPair = ['Vary', 'Cookie'];

/** Beside every `Set-Cookie` (and every session header that carries a key): a response that hands out a key must not be cached. Shared, like {@link VARY_COOKIE}: never mutate a pair. */
export const NO_STORE: HeaderPair = ['Cache-Control', 'no-store'];

/**
 * The response headers for `session` with options already resolved (adapters
 * resolve once, at setup): `Set-Cookie` only when `session.modified`, with
 * `Max-Age` = its `expiryPeriod` (none with `discard`); a cleared session
 * (`expiryPeriod <= 0`) gets {@link resolvedClearHeaders}; `Cache-Control:
 * no-store` beside any `Set-Cookie`; `Vary: Cookie` always. ocaml-session's
 * `toCookieHeaders` is this with options resolved per call.
 */
export function resolvedCookieHeaders(
  cookieName: string,
  session: { readonly key: string; readonly expiryPeriod: number; readonly modified: boolean },
  options: ResolvedCookieOptions,
): HeaderPair[] {
  if (!session.modified) return [VARY_COOKIE];
  if (session.expiryPeriod <= 0) return resolvedClearHeaders(cookieName, options);
  const maxAge = options.discard ? undefined : session.expiryPeriod;
  return [['Set-Cookie', serializeCookie(cookieName, session.key, maxAge, options)], NO_STORE, VARY_COOKIE];
}

/** Headers that make the browser drop the cookie `cookieName`, with options already resolved (ocaml-session's `clearHeaders` resolves per call). */
export function resolvedClearHeaders(cookieName: string, options: ResolvedCookieOptions): HeaderPair[] {
  return [['Set-Cookie', serializeCookie(cookieName, '', 0, options)], NO_STORE, VARY_COOKIE];
}

/** Where {@link applySessionHeaders} writes: a response's header map, whatever the framework. */
export interface HeaderTarget {
  /** The current value of `name` (case-insensitive); several values may come joined or as an array. */
  get(name: string): string | readonly string[] | number | null | undefined;
  /** Replaces `name`. */
  set(name: string, value: string): void;
  /** Adds one more `name` line (used for `Set-Cookie`, which must not be joined). */
  append(name: string, value: string): void;
}

/**
 * Writes `pairs` onto a response without clobbering what the handler set:
 * `Set-Cookie` is appended, `Vary` gains `Cookie` unless it already lists it
 * (or is `*`), `Cache-Control` is set only when absent, anything else is set.
 */
export function applySessionHeaders(target: HeaderTarget, pairs: readonly HeaderPair[]): void {
  for (const [name, value] of pairs) {
    // The names sessionkit itself writes skip the lower-casing.
    const lower = KNOWN_NAMES[name] ?? name.toLowerCase();
    if (lower === 'set-cookie') {
      target.append(name, value);
    } else if (lower === 'vary') {
      const merged = mergeVary(target.get(name), value);
      if (merged !== undefined) target.set(name, merged);
    } else if (lower === 'cache-control') {
      const current = target.get(name);
      if (current === undefined || current === null || current === '') target.set(name, value);
    } else {
      target.set(name, value);
    }
  }
}

const KNOWN_NAMES: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  'Set-Cookie': 'set-cookie',
  Vary: 'vary',
  'Cache-Control': 'cache-control',
});

/** The `Vary` value after adding `field`, or undefined when `current` already covers it. */
export function mergeVary(current: string | readonly string[] | number | null | undefined, field: string): string | undefined {
  // Most responses have no Vary yet.
  if (current === undefined || current === null || current === '') return field;
  const text = Array.isArray(current) ? current.join(', ') : current === undefined || current === null ? '' : String(current);
  if (text.trim() === '') return field;
  const fields = text.split(',').map((part) => part.trim().toLowerCase());
  if (fields.includes('*') || fields.includes(field.toLowerCase())) return undefined;
  return `${text}, ${field}`;
}
