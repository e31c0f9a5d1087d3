import { splitSignedSessionId, storeKeyOfSessionId } from '../../adapters/express-session/session-id.js';
import { isWellFormedKey, KEY_LENGTH } from '../../core/keys.js';
import type { CliIo } from '../command.js';
import { CliError, ExitCode } from '../exit-codes.js';

/** Checks the KEY argument of inspect / revoke: one key, or `-` for stdin. */
export function checkKeyArgument(command: string, positionals: string[]): void {
  if (positionals.length === 0) throw new CliError(ExitCode.usage, `${command} needs a KEY (the session cookie's value), or - to read it from stdin`);
  if (positionals.length > 1) throw new CliError(ExitCode.usage, `${command} takes one KEY, got ${positionals.length} arguments`);
  const [key] = positionals as [string];
  if (key !== '-') keyOfCookieValue(key);
}

/**
 * The longest cookie value taken for a key: express-session's signed form,
 * `s%3A` + a key + `.` + a 43-character signature, every character of both
 * percent-encoded.
 */
export const MAX_COOKIE_VALUE_CHARS = 4 + 3 * KEY_LENGTH + 1 + 3 * 43;

/**
 * The most characters of stdin that can hold a cookie value and its line end
 * (`\r\n`): reading stops there, so a wrong file or an endless stream is
 * rejected at once instead of being read to its end.
 */
export const MAX_KEY_LINE_CHARS = MAX_COOKIE_VALUE_CHARS + 2;

/** A key as the command got it. */
export interface KeyArgument {
  key: string;
  /** How the value given names the key, when not as the key itself (for the report). */
  note?: string;
}

const SIGNED_NOTE =
  "the value is express-session's signed cookie (s:<id>.<signature>): the session id before the signature is looked up, and the signature is not checked (the command has no secret)";

/**
 * The session key in a cookie value as the browser holds it: the key itself,
 * the key URL-encoded (`%2B` for `+`, …), or express-session's signed cookie
 * `s:<id>.<signature>` (in the browser `s%3A<id>.<signature>`), whose id
 * names the key `SessionkitStore` and `sessionkit import` use
 * (`storeKeyOfSessionId`: the id itself, or a key made from an id that
 * cannot be one). Anything else is a
 * usage error: the operator pasted the wrong thing.
 */
export function keyOfCookieValue(value: string): KeyArgument {
  let decoded = value;
  if (value.includes('%')) {
    try {
      decoded = decodeURIComponent(value);
    } catch {
      throw new CliError(ExitCode.usage, 'KEY is not a session key: its %-escapes do not decode (paste the session cookie\'s value as the browser shows it)');
    }
  }
  if (decoded.startsWith('s:')) {
    const signed = splitSignedSessionId(decoded);
    if (signed === undefined) throw new CliError(ExitCode.usage, "KEY looks like express-session's signed cookie (s:…) but holds no session id before its signature");
    // Where SessionkitStore (and sessionkit import) keep the session of that id.
    return { key: storeKeyOfSessionId(signed.id), note: SIGNED_NOTE };
  }
  if (!isWellFormedKey(decoded)) throw new CliError(ExitCode.usage, "KEY is not a session key: expected 1 to 40 base64url characters (the session cookie's value)");
  return decoded === value ? { key: decoded } : { key: decoded, note: 'the value was URL-decoded' };
}

/** The key: the argument, or the first line of stdin for `-` (read no further than {@link MAX_KEY_LINE_CHARS}). */
export async function readKey(argument: string, io: CliIo): Promise<KeyArgument> {
  if (argument !== '-') return keyOfCookieValue(argument);
  let input = '';
  // Breaking out of the loop ends the stream (for await calls its return()): nothing more is read.
  for await (const chunk of io.stdin) {
    input += chunk.toString();
    if (input.includes('\n') || input.length > MAX_KEY_LINE_CHARS) break;
  }
  const newline = input.indexOf('\n');
  if (newline === -1 ? input.length > MAX_KEY_LINE_CHARS : newline > MAX_KEY_LINE_CHARS) {
    throw new CliError(ExitCode.usage, `stdin does not start with a session key: no line end within ${MAX_KEY_LINE_CHARS} characters (a cookie value is at most ${MAX_COOKIE_VALUE_CHARS})`);
  }
  return keyOfCookieValue((newline === -1 ? input : input.slice(0, newline)).trim());
}
