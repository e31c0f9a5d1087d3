import { isWellFormedKey } from '../../core/keys.js';
import type { CliIo } from '../command.js';
import { CliError, ExitCode } from '../exit-codes.js';

/** Checks the KEY argument of inspect / revoke: one key, or `-` for stdin. */
export function checkKeyArgument(command: string, positionals: string[]): void {
  if (positionals.length === 0) throw new CliError(ExitCode.usage, `${command} needs a KEY (the session cookie's value), or - to read it from stdin`);
  if (positionals.length > 1) throw new CliError(ExitCode.usage, `${command} takes one KEY, got ${positionals.length} arguments`);
  const [key] = positionals as [string];
  if (key !== '-') checkKeyShape(key);
}

/** The key: the argument, or the first line of stdin for `-`. */
export async function readKey(argument: string, io: CliIo): Promise<string> {
  if (argument !== '-') return argument;
  let input = '';
  for await (const chunk of io.stdin) {
    input += chunk.toString();
    if (input.includes('\n')) break;
  }
  const key = (input.split('\n', 1)[0] ?? '').trim();
  checkKeyShape(key);
  return key;
}

/** A key that cannot be a session is a usage error here: the operator pasted the wrong thing. */
function checkKeyShape(key: string): void {
  if (!isWellFormedKey(key)) {
    throw new CliError(ExitCode.usage, 'KEY is not a session key: expected 1 to 40 base64url characters (the session cookie\'s value)');
  }
}
