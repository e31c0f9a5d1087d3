/** The help texts: `sessionkit --help` and `sessionkit <command> --help`. */
import { fileURLToPath } from 'node:url';

/**
 * The command's documentation where this copy of sessionkit is: src/cli/ in
 * the repository and dist/cli/ in the package are both two levels below the
 * docs/ folder that the package ships, so the path printed exists wherever the
 * command runs.
 */
export const CLI_DOCS_PATH = fileURLToPath(new URL('../../docs/cli.md', import.meta.url));

const STORE_OPTIONS = `Store (a flag overrides the environment):
  --database-url URL   PostgreSQL: a postgresql:// URI or a libpq key=value string  [env DATABASE_URL]
  --redis-url URL      Redis: a redis:// or rediss:// URL                          [env REDIS_URL]
  --table NAME         PostgreSQL table, name or schema.name (default: session)
  --prefix PREFIX      Redis key prefix (default: sessionkit:)
  --no-hash-keys       the store holds keys as they are (the backend's hashKeys: false)
  --timeout-ms N       give up on the store after N milliseconds (default: 5000)

Output:
  --json               print one JSON object on stdout, also for errors
  --strict             exit 1 when the table or prefix holds no session at all (else a warning)
  -h, --help           show this help`;

const EXIT_CODES = `Exit codes:
  0  done                       4  driver (pg / ioredis) not installed
  1  no live session matched    5  table missing or outdated (run migrate)
  2  usage error                6  the store answered with an error
  3  store unreachable/timeout  7  import: some sessions skipped
                                70 bug in sessionkit`;

export const TOP_HELP = `sessionkit: manage the sessions of a sessionkit store (PostgreSQL or Redis)

Usage: sessionkit <command> [options]

Commands:
  migrate              create the session table, or add what newer versions need
  purge                delete expired sessions in batches
  stats                live and expired sessions, sessions per owner, storage size
  inspect KEY          show one session: value and seconds left, NotSet or NotFound
  revoke KEY           end one session
  revoke --owner ID    end every session of an owner ("log out everywhere")
  revoke --owner ID --list   list an owner's sessions (last seen, user agent, address)
  import --from SRC    copy live connect-pg-simple / connect-redis sessions in
  help [COMMAND]       show the help of a command

${STORE_OPTIONS}
  --version            print the version

${EXIT_CODES}

Run sessionkit <command> --help for a command's options. Documentation: ${CLI_DOCS_PATH}`;

/** Help of each command, by name: what it does and its own options, then the options and exit codes of every command. */
export const COMMAND_HELP: Readonly<Record<string, string>> = withCommonParts({
  import: `Usage: sessionkit import --from connect-pg-simple|connect-redis [options]

Copies every live express-session session that connect-pg-simple or
connect-redis stored (data and expiry) into the sessionkit store, under its
own id, so that express-session with SessionkitStore answers the cookies
users already hold. A session already in the store is left as it is: the
command is idempotent, and an interrupted run is resumed by running it again.
An id that cannot be a key goes under the key SessionkitStore makes of it.
A session the store cannot hold (not a JSON object, larger than
maxValueBytes, expiring beyond 2^31 s or never) is skipped, counted by
reason, and left in the source; the rest is copied and the exit code is 7.
Progress goes to stderr.

Source:
  --from NAME          connect-pg-simple or connect-redis
  --from-url URL       where the source is (default: the store's own
                       DATABASE_URL / REDIS_URL when of the same kind)
  --from-table NAME    connect-pg-simple's table (default: session)
  --from-prefix PREFIX connect-redis's key prefix (default: sess:)
  --batch-size N       sessions read per round trip (default: 500)
  --dry-run            count what would be copied; write nothing`,

  migrate: `Usage: sessionkit migrate [options]

Creates the session table if it is missing (session_key as primary key, an
index on expire_date) and adds what later versions need to an existing table
(the owner and created_at columns, the owner index). Additive and idempotent:
nothing is dropped or rewritten, several processes may run it at once, and a
table made with ocaml-session's DDL keeps working. Redis has no schema: the
command checks that Redis answers and says there is nothing to migrate.`,

  purge: `Usage: sessionkit purge [--batch-size N] [options]

Deletes expired sessions from the PostgreSQL table, at most N rows per
statement so that no statement holds locks for long. It counts the expired
rows first, then shows a progress bar on a terminal (stderr) and plain
progress lines otherwise (none with --json). Purging nothing is success.
Redis deletes expired sessions itself: the command reports 0 and says why.

Options:
  --batch-size N       most rows one DELETE removes (default: 1000)`,

  stats: `Usage: sessionkit stats [options]

Live and expired sessions, sessions per owner (owners, p50, p90, p99 and max
sessions of one owner), and storage size in bytes. PostgreSQL counts the
whole table (one sequential scan: raise --timeout-ms on a large table). Redis
counts the session keys under the prefix with SCAN, sums their MEMORY USAGE,
and reports the server's used memory; it keeps no expired sessions.`,

  inspect: `Usage: sessionkit inspect KEY [options]
       sessionkit inspect - [options]        (reads KEY from stdin)

Shows the session whose cookie value is KEY: Set (with its value and the
seconds left), NotSet (live, no value) or NotFound (exit code 1), what a
typed session records of its last request (time, user agent, address), and its
owner and creation time (PostgreSQL after migrate; on Redis, the owner a
typed session names in its value, else the owner's digest). The key is hashed as the
backend hashes it (unless --no-hash-keys); output shows only its digest.
A key on the command line is visible to other local users (ps) and lands in
shell history: prefer "-" and stdin. A key that starts with "-" goes after
"--": sessionkit inspect -- -abc...`,

  revoke: `Usage: sessionkit revoke KEY [options]
       sessionkit revoke - [options]                     (reads KEY from stdin)
       sessionkit revoke --owner ID [--except KEY] [options]
       sessionkit revoke --owner ID --list [options]

Ends the session whose cookie value is KEY, or every session of owner ID
("log out everywhere"), except the session of --except KEY if given.
With --list, ends nothing: lists the owner's live sessions, oldest first,
each with its key digest, creation time, seconds left and what a typed
session records of its last request (time, user agent and address, where
the application records them).
Exit code 1 when no live session matched (an expired row is still removed).
Revoking by owner works on Redis, and on PostgreSQL once the table has
the owner column (sessionkit migrate; exit code 5 before).

Options:
  --owner ID           revoke every session of this owner
  --except KEY         with --owner: keep this session (e.g. your own)
  --list               with --owner: list the sessions, revoke nothing`,
});

function withCommonParts(help: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(help).map(([name, text]) => [name, `${text}\n\n${STORE_OPTIONS}\n\n${EXIT_CODES}`]));
}
