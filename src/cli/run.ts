import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isBackendError } from '../core/errors.js';
import type { CliIo, Command, CommandResult } from './command.js';
import { importSessions } from './commands/import.js';
import { inspect } from './commands/inspect.js';
import { migrate } from './commands/migrate.js';
import { purge } from './commands/purge.js';
import { revoke } from './commands/revoke.js';
import { stats } from './commands/stats.js';
import { oneLine } from './drivers.js';
import { CliError, EXIT_CODE_NAMES, ExitCode, type ExitCodeValue } from './exit-codes.js';
import { COMMAND_HELP, TOP_HELP } from './help.js';
import { openPostgresStore } from './postgres-store.js';
import { openRedisStore } from './redis-store.js';
import type { CliStore } from './store.js';
import { resolveTarget, type StoreFlags } from './target.js';

const COMMANDS: Readonly<Record<string, Command>> = { migrate, purge, stats, inspect, revoke, import: importSessions };

const STORE_OPTIONS = ['database-url', 'redis-url', 'table', 'prefix', 'no-hash-keys', 'timeout-ms'];
const OUTPUT_OPTIONS = ['json', 'help', 'version', 'strict'];

/** Every option of every command (names without `--`), so that options may come before or after the command name. */
export const OPTIONS = {
  'database-url': { type: 'string' },
  'redis-url': { type: 'string' },
  table: { type: 'string' },
  prefix: { type: 'string' },
  'no-hash-keys': { type: 'boolean' },
  'timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
  strict: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  'batch-size': { type: 'string' },
  owner: { type: 'string' },
  except: { type: 'string' },
  from: { type: 'string' },
  'from-url': { type: 'string' },
  'from-table': { type: 'string' },
  'from-prefix': { type: 'string' },
  'dry-run': { type: 'boolean' },
  list: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/**
 * Runs `sessionkit` with `argv` (the arguments after the script) and resolves
 * to the exit code. Everything it prints goes through `io`; it never throws
 * and never prints a stack trace: each failure is one line on stderr (and a
 * JSON object on stdout with `--json`) and an exit code of {@link ExitCode}.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<ExitCodeValue> {
  // Known before parsing, so that a usage error is JSON too; what follows "--" is a key, never an option.
  const end = argv.indexOf('--');
  const json = (end === -1 ? argv : argv.slice(0, end)).includes('--json');
  let store: CliStore | undefined;
  try {
    const { values, positionals } = parse(argv);
    const [name, ...rest] = positionals;
    if (values.version === true) return print(io, json, { version: version() }, version());
    if (name === 'help' || name === undefined) {
      const topic = name === 'help' ? rest[0] : undefined;
      if (topic !== undefined && COMMAND_HELP[topic] === undefined) throw new CliError(ExitCode.usage, `no command ${JSON.stringify(topic)}: see sessionkit --help`);
      const text = topic === undefined ? TOP_HELP : COMMAND_HELP[topic]!;
      // Without a command, help goes to stderr with exit code 2: the script that ran it is broken.
      if (name === undefined && values.help !== true) {
        if (json) throw new CliError(ExitCode.usage, 'no command: see sessionkit --help');
        io.stderr.write(`${TOP_HELP}\n`);
        return ExitCode.usage;
      }
      return print(io, json, { help: text }, text);
    }
    const command = COMMANDS[name];
    if (command === undefined) throw new CliError(ExitCode.usage, `unknown command ${JSON.stringify(name)}: see sessionkit --help`);
    if (values.help === true) return print(io, json, { help: COMMAND_HELP[name] }, COMMAND_HELP[name]!);
    for (const option of Object.keys(values)) {
      if (!STORE_OPTIONS.includes(option) && !OUTPUT_OPTIONS.includes(option) && !command.options.includes(option)) {
        throw new CliError(ExitCode.usage, `${name} has no option --${option}: see sessionkit ${name} --help`);
      }
    }
    command.checkArguments(rest, values);
    const target = resolveTarget(values as StoreFlags, io.env);
    store = target.kind === 'postgres' ? await openPostgresStore(target) : await openRedisStore(target);
    // Checked before the command runs (a revoke may empty the store): a store with no session at all is most likely a wrong --table or --prefix.
    let empty = false;
    if (command.fillsStore !== true) {
      await store.ready();
      empty = await store.isEmpty();
    }
    const result: CommandResult = await command.run({ store, positionals: rest, values, json, io });
    // Written once the command succeeded, so that a failure stays one line on stderr.
    if (empty) io.stderr.write(`sessionkit: warning: ${emptyStoreWarning(store)}\n`);
    io.stdout.write(json ? `${JSON.stringify(result.json)}\n` : `${result.text}\n`);
    if (empty && values.strict === true && result.exitCode === ExitCode.ok) return ExitCode.notFound;
    return result.exitCode;
  } catch (error) {
    const failure = toCliError(error, store);
    io.stderr.write(`sessionkit: ${failure.message}\n`);
    if (json) io.stdout.write(`${JSON.stringify({ error: { code: EXIT_CODE_NAMES[failure.exitCode], exitCode: failure.exitCode, message: failure.message } })}\n`);
    return failure.exitCode;
  } finally {
    await store?.close().catch(() => undefined);
  }
}

function emptyStoreWarning(store: CliStore): string {
  const flag = store.kind === 'postgres' ? '--table' : '--prefix (a prefix usually ends with ":")';
  return `${store.where} holds no session at all: check ${flag}; --strict makes this exit 1`;
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new CliError(ExitCode.usage, unknownOptionMessage(error as Error), { cause: error });
    // parseArgs's hint (`--except=-XYZ`) is on a later line of its message, which one line would cut.
    // Only options that take a value can be ambiguous, and all of those have a long name only.
    const ambiguous = /^Option '(--[^']+)' argument is ambiguous/.exec((error as Error).message)?.[1];
    if (ambiguous !== undefined) throw new CliError(ExitCode.usage, `the value given to ${ambiguous} starts with "-", like an option: write ${ambiguous}=VALUE for a KEY that starts with "-"`, { cause: error });
    throw new CliError(ExitCode.usage, oneLine(error), { cause: error });
  }
}

/**
 * An unknown option in our words: parseArgs's own message is several
 * sentences about positionals that one line cuts mid-quote. A close option
 * name is offered; otherwise the hint for a key that starts with "-".
 */
function unknownOptionMessage(error: Error): string {
  const given = /Unknown option '([^']+)'/.exec(error.message)?.[1];
  if (given === undefined) return `${oneLine(error)} (a KEY that starts with "-" goes after "--")`;
  const name = given.replace(/^-+/, '').split('=', 1)[0]!;
  const closest = closestOption(name);
  if (closest !== undefined) return `unknown option ${given}: did you mean --${closest}?`;
  return `unknown option ${given}: see sessionkit --help (a KEY that starts with "-" goes after "--")`;
}

/** The option name nearest to `name` by edit distance, when a typo could explain the difference (at most 2 edits, and fewer than half its letters). */
export function closestOption(name: string): string | undefined {
  let best: { option: string; distance: number } | undefined;
  for (const option of Object.keys(OPTIONS)) {
    const distance = editDistance(name.toLowerCase(), option);
    if (best === undefined || distance < best.distance) best = { option, distance };
  }
  return best !== undefined && best.distance <= 2 && best.distance * 2 < Math.max(name.length, 2) ? best.option : undefined;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return rows[a.length]![b.length]!;
}

function print(io: CliIo, json: boolean, object: object, text: string): ExitCodeValue {
  io.stdout.write(json ? `${JSON.stringify(object)}\n` : `${text}\n`);
  return ExitCode.ok;
}

function version(): string {
  // src/cli/run.ts and dist/cli/run.js are both two levels below package.json.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The exit code and one-line message for anything a command threw. */
export function toCliError(error: unknown, store: CliStore | undefined): CliError {
  if (error instanceof CliError) return error;
  const where = store?.where ?? 'the store';
  if (isBackendError(error)) {
    // The driver's words, unless the backend's message already quotes them.
    const cause = error.cause === undefined || error.message.includes(oneLine(error.cause)) ? '' : `: ${oneLine(error.cause)}`;
    switch (error.code) {
      case 'unavailable':
        return new CliError(ExitCode.unreachable, `${where} is unreachable: ${error.message}${cause}`, { cause: error });
      case 'timeout':
        return new CliError(ExitCode.unreachable, `${where} did not answer in time (raise --timeout-ms): ${error.message}`, { cause: error });
      case 'schema_missing':
      case 'schema_outdated':
        return new CliError(ExitCode.needsMigration, `${withoutHint(error.message)}: run ${store?.migrateCommand ?? 'sessionkit migrate'}`, { cause: error });
      case 'query_failed':
        return new CliError(ExitCode.storeError, `${error.message}${cause}`, { cause: error });
      case 'closed':
        break;
    }
  }
  return new CliError(ExitCode.internal, `unexpected error, please report it: ${oneLine(error)}`, { cause: error });
}

/** A backend message without its own advice (written for library users: "run backend.ensureSchema() or …"), which the command replaces with the exact command line. */
function withoutHint(message: string): string {
  return message.replace(/[:;,]\s*(?:run|call|use)\b.*$/s, '');
}
