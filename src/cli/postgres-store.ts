import type { Pool } from 'pg';
import { describeTarget, poolConfigFor } from '../backends/postgres/connect.js';
import { PostgresBackend } from '../backends/postgres/postgres-backend.js';
import type { TableDescription } from '../backends/postgres/table-report.js';
import { isBackendError } from '../core/errors.js';
import { loadDriver, oneLine } from './drivers.js';
import { CliError, ExitCode } from './exit-codes.js';
import type { CliStore, MigrateReport, OwnerStats, StatsReport } from './store.js';
import { checkDatabaseUrl } from './store-url.js';
import { shellWord } from './output.js';

/** How the command reaches a PostgreSQL table. */
export interface PostgresTarget {
  /** A `postgresql://` URI or a libpq `key=value` string. */
  url: string;
  table: string;
  hashKeys: boolean;
  timeoutMs: number;
  /** The `sessionkit migrate` command line that fits the flags given (e.g. with `--table`), for hints. */
  migrateCommand: string;
}

/** Columns every sessionkit table has (ocaml-session's); connect-pg-simple's table has `sid`, `sess` and `expire` instead. */
const SESSION_COLUMNS = ['session_key', 'expire_date', 'session_data'];
const CONNECT_PG_SIMPLE_COLUMNS = ['sid', 'sess', 'expire'];
/** Columns and indexes `migrate` may add to an existing table, for its report (the rest of a table is the user's). */
const ADDED_BY_MIGRATE = /^(owner|created_at)$/;

/**
 * Opens a small pool (the command runs one statement at a time), checks that
 * the server answers, and wraps it in a {@link PostgresBackend}: every query
 * the command makes is one of the backend's. Rejects with a `CliError`: 2 for
 * a bad URL or table name, 3 when the server cannot be reached, 4 when `pg`
 * is not installed.
 */
export async function openPostgresStore(target: PostgresTarget): Promise<CliStore> {
  let config: ReturnType<typeof poolConfigFor>;
  checkDatabaseUrl(target.url);
  try {
    config = poolConfigFor({ conninfo: target.url, timeoutMs: target.timeoutMs, max: 2 });
  } catch (error) {
    throw new CliError(ExitCode.usage, `DATABASE_URL: ${oneLine(error)}`, { cause: error });
  }
  const where = describeTarget(config);
  const pg = await loadDriver<typeof import('pg')>('pg');
  const PoolClass = (pg.default ?? pg).Pool;
  const pool: Pool = new PoolClass(config);
  // An idle connection dropped by the server must not crash the command; the next query reports it.
  pool.on('error', () => undefined);
  let backend: PostgresBackend;
  try {
    // A one-shot command: the fleet's own instances prune, and `purge` does it on demand.
    backend = new PostgresBackend(pool, { table: target.table, hashKeys: target.hashKeys, timeoutMs: target.timeoutMs, pruneIntervalSeconds: false });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new CliError(ExitCode.usage, `--table: ${oneLine(error)}`, { cause: error });
  }
  const table = backend.table;
  // The first statement tells whether the server answers at all: any failure here is "cannot reach" (exit 3).
  try {
    await backend.describeTable();
  } catch (error) {
    await backend.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    const cause = isBackendError(error) && error.cause !== undefined ? error.cause : error;
    throw new CliError(ExitCode.unreachable, `cannot reach PostgreSQL at ${where}: ${reason(cause)}`, { cause: error });
  }

  /** The table as the catalog describes it, refused when it is some other program's table. */
  const sessionTable = async (): Promise<TableDescription> => {
    const description = await backend.describeTable();
    if (description.exists) checkIsSessionTable(description);
    return description;
  };
  const checkIsSessionTable = ({ columns }: TableDescription) => {
    const missing = SESSION_COLUMNS.filter((name) => !columns.includes(name));
    if (missing.length === 0) return;
    if (CONNECT_PG_SIMPLE_COLUMNS.every((name) => columns.includes(name))) {
      const own = shellWord(`${target.table.split('.').pop()!.replaceAll('"', '')}_sessionkit`);
      const from = shellWord(target.table);
      throw new CliError(
        ExitCode.storeError,
        `table ${table} in ${where} is connect-pg-simple's (sid, sess, expire), not a sessionkit table: keep it, and copy its sessions into a table of sessionkit's own with: sessionkit migrate --table ${own} && sessionkit import --from connect-pg-simple --from-table ${from} --table ${own}`,
      );
    }
    throw new CliError(ExitCode.storeError, `table ${table} in ${where} is not a sessionkit table (it has no ${missing.join(', ')} column): name sessionkit's table with --table`);
  };

  return {
    kind: 'postgres',
    where: `PostgreSQL ${where}, table ${table}`,
    backend,

    migrateCommand: target.migrateCommand,

    async isEmpty() {
      return (await backend.describeTable()).empty;
    },

    async ready() {
      if (!(await sessionTable()).exists) {
        throw new CliError(ExitCode.needsMigration, `table ${table} does not exist in ${where}: run ${target.migrateCommand}`);
      }
    },

    async migrate(): Promise<MigrateReport> {
      const before = await sessionTable();
      await backend.ensureSchema();
      if (!before.exists) return { store: 'postgres', action: 'created', added: [] };
      const after = await backend.describeTable();
      const added = [
        ...after.columns.filter((name) => ADDED_BY_MIGRATE.test(name) && !before.columns.includes(name)).sort().map((name) => `column ${name}`),
        ...after.indexes.filter((name) => !before.indexes.includes(name)).map((name) => `index ${name}`),
      ];
      return { store: 'postgres', action: added.length > 0 ? 'upgraded' : 'unchanged', added };
    },

    countExpired() {
      return backend.countExpired();
    },

    purge(batchSizeRows, onBatch) {
      return backend.purgeExpired({ batchSize: batchSizeRows, onBatch });
    },

    async stats(): Promise<StatsReport> {
      const notes: string[] = [];
      const [live, expired, sizes] = await Promise.all([backend.countLive(), backend.countExpired(), backend.storageBytes()]);
      let owners: OwnerStats | null = null;
      if (await backend.hasOwnerColumns()) {
        const perOwner = await backend.sessionsPerOwner();
        owners = { ...perOwner, sessionsWithoutOwner: live - perOwner.sessionsWithOwner };
      } else {
        notes.push(`no owner column in ${table}: run ${target.migrateCommand} for sessions per owner`);
      }
      return {
        store: 'postgres',
        live,
        expired,
        owners,
        sizeBytes: { table: sizes.tableBytes, indexes: sizes.indexBytes, total: sizes.totalBytes },
        notes,
      };
    },

    async ownerOf(key) {
      if (!(await backend.hasOwnerColumns())) return undefined;
      const found = await backend.sessionOwner(key);
      if (found === undefined) return undefined;
      return { owner: found.owner, createdAt: found.createdAt === null ? null : found.createdAt.toISOString() };
    },

    async close() {
      await backend.close();
      await pool.end().catch(() => undefined);
    },
  };
}

/** A driver error in a few words: the socket error's code, or the server's own message. */
function reason(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // AggregateError (several addresses tried) has an empty message but a code.
  if (typeof message === 'string' && message.trim() !== '') return oneLine(error);
  return typeof code === 'string' ? code : oneLine(error);
}
