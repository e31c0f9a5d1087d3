/**
 * The exit codes of the `sessionkit` command, documented in docs/cli.md.
 * Scripts may rely on them: they only ever gain new values, never change.
 */
export const ExitCode = {
  /** The command did what was asked (also: purge found nothing to delete). */
  ok: 0,
  /** inspect / revoke: no live session matched the key or the owner; with `--strict`, the table or prefix holds no session at all. */
  notFound: 1,
  /** Bad command line: unknown command or flag, missing argument, no store URL, malformed key. */
  usage: 2,
  /** The store could not be reached, refused the connection, or did not answer within `--timeout-ms`. */
  unreachable: 3,
  /** The driver for the store (`pg` or `ioredis`) is not installed. */
  driverMissing: 4,
  /** The store is not ready for this command: the table is missing or needs `sessionkit migrate`. */
  needsMigration: 5,
  /** The store answered with an error (permissions, a table not made by sessionkit, ...). */
  storeError: 6,
  /** import: every other session was copied, but some were skipped (too large, expiring too far ahead, not a JSON object, an id that cannot be a key); the summary counts them by reason. */
  skipped: 7,
  /** A bug in sessionkit: please report it with the message. */
  internal: 70,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A short machine-readable name for each exit code, used in `--json` error objects: its name in {@link ExitCode}, in snake case (`driverMissing`: `driver_missing`). */
export const EXIT_CODE_NAMES = Object.fromEntries(
  Object.entries(ExitCode).map(([name, code]) => [code, name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)]),
) as Readonly<Record<ExitCodeValue, string>>;

/**
 * A failure the command reports as one line on stderr (never a stack trace)
 * and the exit code it stands for.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCodeValue;

  constructor(exitCode: ExitCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}
