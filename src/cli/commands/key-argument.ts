import { isWellFormedKey, KEY_LENGTH } from '../../core/keys.js';
import type { CliIo } from '../command.js';
import { CliError, ExitCode } from '../exit-codes.js';

/** Checks the KEY argument of inspect / revoke: one key, or `-` for stdin. */
export function checkKeyArgument(command: string, positionals: string[]): void {
  if (positionals.length === 0) throw new CliError(ExitCode.usage, `${command} needs a KEY (the session cookie's value), or - to read it from stdin`);
  if (positionals.length > 1) throw new CliError(ExitCode.usage, `${command} takes one KEY, got ${positionals.length} arguments`);
  const [key] = positionals as [string];
  if (key !== '-') checkKeyShape(key);
}

/**
 * The most characters of stdin that can hold a key and its line end (a
 * longest key, then `\r\n`): reading stops there, so a wrong file or an
 * endless stream is rejected at once instead of being read to its end.
 */
export const MAX_KEY_LINE_CHARS = KEY_LENGTH + 2;

/** The key: the argument, or the first line of stdin for `-` (read no further than {@link MAX_KEY_LINE_CHARS}). */
export async function readKey(argument: string, io: CliIo): Promise<string> {
  if (argument !== '-') return argument;
  let input = '';
  // Breaking out of the loop ends the stream (for await calls its return()): nothing more is read.
  for await (const chunk of io.stdin) {
    input += chunk.toString();
    if (input.includes('\n') || input.length > MAX_KEY_LINE_CHARS) break;
  }
  const newline = input.indexOf('\n');
  if (newline === -1 ? input.length > MAX_KEY_LINE_CHARS : newline > MAX_KEY_LINE_CHARS) {
    throw new CliError(ExitCode.usage, `stdin does not start with a session key: no line end within ${MAX_KEY_LINE_CHARS} characters (a key is at most ${KEY_LENGTH})`);
  }
  const key = (newline === -1 ? input : input.slice(0, newline)).trim();
  checkKeyShape(key);
  return key;
}

/** A key that cannot be a session is a usage error here: the operator pasted the wrong thing. */
function checkKeyShape(key: string): void {
  if (!isWellFormedKey(key)) {
    throw new CliError(ExitCode.usage, 'KEY is not a session key: expected 1 to 40 base64url characters (the session cookie\'s value)');
  }
}
