import { CliError, ExitCode } from './exit-codes.js';
import { shellWord } from './output.js';
import type { PostgresTarget } from './postgres-store.js';
import type { RedisTarget } from './redis-store.js';

/** The store options of every command, as given on the command line. */
export interface StoreFlags {
  'database-url'?: string;
  'redis-url'?: string;
  table?: string;
  prefix?: string;
  'no-hash-keys'?: boolean;
  'timeout-ms'?: string;
}

export type Target = ({ kind: 'postgres' } & PostgresTarget) | ({ kind: 'redis' } & RedisTarget);

const DEFAULT_TIMEOUT_MS = 5000;

/** Parses a whole number of at least `min` from a flag, or throws a usage error naming the flag. */
export function wholeNumberFlag(value: string | undefined, flag: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min) {
    throw new CliError(ExitCode.usage, `${flag} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

/**
 * Picks the store: a `--database-url` / `--redis-url` flag wins over the
 * environment; with no flag, exactly one of `DATABASE_URL` and `REDIS_URL`
 * must be set (both set is ambiguous, so it is a usage error, not a guess).
 */
export function resolveTarget(flags: StoreFlags, env: NodeJS.ProcessEnv): Target {
  const databaseFlag = flags['database-url'];
  const redisFlag = flags['redis-url'];
  if (databaseFlag !== undefined && redisFlag !== undefined) {
    throw new CliError(ExitCode.usage, '--database-url and --redis-url name two stores: give one');
  }
  let kind: 'postgres' | 'redis';
  let url: string;
  if (databaseFlag !== undefined) [kind, url] = ['postgres', databaseFlag];
  else if (redisFlag !== undefined) [kind, url] = ['redis', redisFlag];
  else {
    const databaseEnv = nonEmpty(env.DATABASE_URL);
    const redisEnv = nonEmpty(env.REDIS_URL);
    if (databaseEnv !== undefined && redisEnv !== undefined) {
      throw new CliError(ExitCode.usage, 'both DATABASE_URL and REDIS_URL are set: choose with --database-url or --redis-url');
    }
    if (databaseEnv !== undefined) [kind, url] = ['postgres', databaseEnv];
    else if (redisEnv !== undefined) [kind, url] = ['redis', redisEnv];
    else throw new CliError(ExitCode.usage, 'no store: set DATABASE_URL or REDIS_URL, or pass --database-url or --redis-url');
  }
  const hashKeys = flags['no-hash-keys'] !== true;
  const timeoutMs = wholeNumberFlag(flags['timeout-ms'], '--timeout-ms', DEFAULT_TIMEOUT_MS);
  if (kind === 'postgres') {
    if (flags.prefix !== undefined) throw new CliError(ExitCode.usage, '--prefix is for Redis; PostgreSQL takes --table');
    const migrateCommand = flags.table === undefined ? 'sessionkit migrate' : `sessionkit migrate --table ${shellWord(flags.table)}`;
    return { kind, url, table: flags.table ?? 'session', hashKeys, timeoutMs, migrateCommand };
  }
  if (flags.table !== undefined) throw new CliError(ExitCode.usage, '--table is for PostgreSQL; Redis takes --prefix');
  return { kind, url, prefix: flags.prefix ?? 'sessionkit:', hashKeys, timeoutMs };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
