import { CliError, ExitCode } from './exit-codes.js';

/** The libpq keys the command passes on to the pool (the options of `connect()` in `sessionkit/postgres`). */
export const CONNINFO_KEYS = ['host', 'hostaddr', 'port', 'dbname', 'user', 'password', 'options', 'sslmode', 'requiressl'] as const;

/** One `key = value` pair; a value is a bare word or single-quoted with backslash escapes. */
const PAIR = /\s*([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|([^\s']+))/y;

/**
 * Checks a PostgreSQL address before anything connects: a `postgresql://`
 * URI must parse, and a libpq `key=value` string must consist of pairs only,
 * with known keys and closed quotes. A typo there would otherwise reach the
 * server as defaults (`localhost`, no user) and fail as "unreachable".
 * Throws a usage `CliError` (exit 2); the message never repeats a password.
 */
export function checkDatabaseUrl(url: string): void {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    if (!URL.canParse(url)) throw new CliError(ExitCode.usage, 'DATABASE_URL is not a valid postgresql:// URL');
    return;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new CliError(ExitCode.usage, `DATABASE_URL must be a postgresql:// URL or a libpq key=value string, not a ${url.slice(0, url.indexOf(':'))}:// URL`);
  }
  PAIR.lastIndex = 0;
  let pairs = 0;
  let end = 0; // a failed sticky match resets lastIndex: where the last pair ended is kept here
  let match: RegExpExecArray | null;
  while ((match = PAIR.exec(url)) !== null) {
    pairs += 1;
    end = PAIR.lastIndex;
    const key = match[1]!;
    if (!(CONNINFO_KEYS as readonly string[]).includes(key)) {
      throw new CliError(ExitCode.usage, `DATABASE_URL: unknown connection option ${JSON.stringify(key)} (known: ${CONNINFO_KEYS.join(', ')})`);
    }
  }
  const rest = url.slice(end).trim();
  if (rest !== '' || pairs === 0) {
    const why = /^\s*[A-Za-z_]+\s*=\s*'/.test(rest) ? 'a quoted value is not closed' : `expected key=value at ${JSON.stringify(rest.split(/\s/, 1)[0]!.split('=', 1)[0])}`;
    throw new CliError(ExitCode.usage, `DATABASE_URL is neither a postgresql:// URL nor a libpq key=value string: ${why}`);
  }
}

/**
 * The database number of a `redis://` or `rediss://` URL (0 when it names
 * none). Another scheme, a URL that does not parse, or a path that is not a
 * database number is a usage `CliError` (exit 2). Whether the server has that
 * many databases is checked once connected.
 */
export function redisDatabaseOf(url: string): number {
  if (!URL.canParse(url)) throw new CliError(ExitCode.usage, 'REDIS_URL is not a valid URL');
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new CliError(ExitCode.usage, `REDIS_URL must be a redis:// or rediss:// URL, not ${parsed.protocol}//`);
  }
  const path = parsed.pathname.replace(/^\//, '');
  if (path === '') return 0;
  if (!/^\d{1,5}$/.test(path)) throw new CliError(ExitCode.usage, `REDIS_URL: the path must be a database number, got ${JSON.stringify(path)}`);
  return Number(path);
}
