import { digestKey } from '../../core/keys.js';
import { assertOwner } from '../../core/validate.js';
import type { Command } from '../command.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { printable } from '../output.js';
import { checkKeyArgument, keyOfCookieValue, readKey } from './key-argument.js';

/** `sessionkit revoke KEY` and `sessionkit revoke --owner ID [--except KEY]`. */
export const revoke: Command = {
  options: ['owner', 'except'],
  checkArguments(positionals, values) {
    const owner = values.owner as string | undefined;
    const except = values.except as string | undefined;
    if (owner === undefined) {
      if (except !== undefined) throw new CliError(ExitCode.usage, '--except is only for revoke --owner');
      checkKeyArgument('revoke', positionals);
      return;
    }
    if (positionals.length > 0) throw new CliError(ExitCode.usage, 'revoke takes a KEY or --owner ID, not both');
    try {
      assertOwner(owner);
    } catch (error) {
      throw new CliError(ExitCode.usage, `--owner: ${(error as Error).message}`);
    }
    if (except !== undefined) {
      try {
        keyOfCookieValue(except);
      } catch (error) {
        throw new CliError(ExitCode.usage, `--except: ${(error as Error).message}`);
      }
    }
  },
  async run({ store, positionals, values, io }) {
    const owner = values.owner as string | undefined;
    const { backend } = store;
    if (owner === undefined) {
      const { key } = await readKey(positionals[0]!, io);
      await store.ready();
      const before = await backend.get(key);
      // Cleared even when NotFound: an expired row still in the table goes too.
      await backend.clear(key);
      const revoked = before.ok || before.error === 'NotSet';
      const keyDigest = digestKey(key);
      return {
        exitCode: revoked ? ExitCode.ok : ExitCode.notFound,
        json: { store: store.kind, keyDigest, revoked },
        text: revoked ? `Revoked the session with key digest ${keyDigest}.` : `No live session with key digest ${keyDigest}: nothing to revoke.`,
      };
    }
    await store.ready();
    const except = values.except === undefined ? undefined : keyOfCookieValue(values.except as string).key;
    const revoked = await backend.clearByOwner(owner, except === undefined ? {} : { except });
    const who = printable(owner);
    return {
      exitCode: revoked > 0 ? ExitCode.ok : ExitCode.notFound,
      json: { store: store.kind, owner, revoked, exceptKeyDigest: except === undefined ? null : digestKey(except) },
      text: revoked > 0 ? `Revoked ${revoked} session${revoked === 1 ? '' : 's'} of owner ${who}.` : `Owner ${who} has no live session: nothing to revoke.`,
    };
  },
};
