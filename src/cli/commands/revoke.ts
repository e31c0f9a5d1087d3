import { digestKey } from '../../core/keys.js';
import { assertOwner } from '../../core/validate.js';
import type { Command, CommandResult } from '../command.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { CliStore } from '../store.js';
import { formatSeconds, printable, table } from '../output.js';
import { metadataFields, metadataRows } from './inspect.js';
import { checkKeyArgument, keyOfCookieValue, readKey } from './key-argument.js';

/** `sessionkit revoke KEY`, `sessionkit revoke --owner ID [--except KEY]` and `sessionkit revoke --owner ID --list`. */
export const revoke: Command = {
  options: ['owner', 'except', 'list'],
  checkArguments(positionals, values) {
    const owner = values.owner as string | undefined;
    const except = values.except as string | undefined;
    if (values.list === true && (owner === undefined || except !== undefined)) throw new CliError(ExitCode.usage, '--list is only for revoke --owner ID, without --except');
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
    if (values.list === true) return listOwner(store, owner);
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

/** `revoke --owner ID --list`: the owner's live sessions with what each records, oldest first; revokes nothing. */
async function listOwner(store: CliStore, owner: string): Promise<CommandResult> {
  const listed = await store.backend.listByOwner(owner);
  const sessions = listed.map(({ keyDigest, createdAt, expiresInSeconds, value }) => ({ keyDigest, createdAt: createdAt.toISOString(), expiresInSeconds, ...metadataFields(value) }));
  const who = printable(owner);
  const blocks = sessions.map((session) =>
    [`Session with key digest ${session.keyDigest}`, table([['created at', session.createdAt], ['expires in', `${session.expiresInSeconds} s (${formatSeconds(session.expiresInSeconds)})`], ...metadataRows(session)])].join('\n'),
  );
  return {
    exitCode: sessions.length > 0 ? ExitCode.ok : ExitCode.notFound,
    json: { store: store.kind, owner, sessions },
    text: sessions.length > 0 ? `Owner ${who} has ${sessions.length} live session${sessions.length === 1 ? '' : 's'} (nothing revoked):\n${blocks.join('\n')}` : `Owner ${who} has no live session.`,
  };
}
