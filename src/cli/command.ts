import type { ExitCodeValue } from './exit-codes.js';
import type { ProgressStream } from './progress.js';
import type { CliStore } from './store.js';

/** The process's streams and environment, passed in so that nothing reads globals. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
  stdin: AsyncIterable<string | Buffer>;
  env: NodeJS.ProcessEnv;
}

/** What a command gets: the open store, its arguments and options, and the streams. */
export interface CommandContext {
  store: CliStore;
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  json: boolean;
  io: CliIo;
}

/** What a command answers: its exit code, the `--json` object, and the human text (lines for stdout). */
export interface CommandResult {
  exitCode: ExitCodeValue;
  json: object;
  text: string;
}

/** One subcommand of `sessionkit`. */
export interface Command {
  /** Options of this command beyond the store options (names as on the command line, without `--`). */
  readonly options: readonly string[];
  /**
   * True for the commands that fill a store (migrate, import): an empty store is what they expect, not a sign of a
   * wrong --table or --prefix. Every other command runs after `store.ready()`.
   */
  readonly fillsStore?: boolean;
  /** Checks the arguments before the store is opened, so that a usage error never waits for the network. */
  checkArguments(positionals: string[], values: CommandContext['values']): void;
  run(context: CommandContext): Promise<CommandResult>;
}
