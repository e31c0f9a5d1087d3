import type { Pool, PoolConfig } from 'pg';
import { poolConfigFor } from '../backends/postgres/connect.js';
import { toBackendError } from '../backends/postgres/failures.js';
import { PostgresBackend } from '../backends/postgres/postgres-backend.js';
import { digestKey } from '../core/keys.js';
import { loadDriver, oneLine } from './drivers.js';
import { CliError, ExitCode } from './exit-codes.js';
import type { CliStore, MigrateReport, OwnerStats, StatsReport } from './store.js';
import { checkDatabaseUrl } from './store-url.js';

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

/** Host, port and database of a pool configuration, without the password. */
export function describePostgres(config: PoolConfig): string {
  if (config.connectionString !== undefined) {
    try {
      const url = new URL(config.connectionString);
      return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
    } catch {
      return 'the DATABASE_URL server';
    }
  }
  return `${config.host ?? process.env.PGHOST ?? 'localhost'}:${config.port ?? process.env.PGPORT ?? 5432}/${config.database ?? process.env.PGDATABASE ?? ''}`;
}

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/**
 * Opens a small pool (the command runs one statement at a time), checks that
 * the server answers, and wraps it in a {@link PostgresBackend}. Rejects with
 * a `CliError`: 2 for a bad URL or table name, 3 when the server cannot be
 * reached, 4 when `pg` is not installed.
 */
export async function openPostgresStore(target: PostgresTarget): Promise<CliStore> {
  let config: PoolConfig;
  let backendTable: string;
  checkDatabaseUrl(target.url);
  try {
    config = poolConfigFor({ conninfo: target.url, timeoutMs: target.timeoutMs, max: 2 });
  } catch (error) {
    throw new CliError(ExitCode.usage, `DATABASE_URL: ${oneLine(error)}`, { cause: error });
  }
  const where = describePostgres(config);
  const pg = await loadDriver<typeof import('pg')>('pg');
  const PoolClass = (pg.default ?? pg).Pool;
  const pool: Pool = new PoolClass(config);
  // An idle connection dropped by the server must not crash the command; the next query reports it.
  pool.on('error', () => undefined);
  let backend: PostgresBackend;
  try {
    // A one-shot command: the fleet's own instances prune, and `purge` does it on demand.
    backend = new PostgresBackend(pool, { table: target.table, hashKeys: target.hashKeys, timeoutMs: target.timeoutMs, pruneIntervalSeconds: false });
    backendTable = backend.table;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new CliError(ExitCode.usage, `--table: ${oneLine(error)}`, { cause: error });
  }
  await checkReachable(pool, where, target.timeoutMs);

  // The operator queries (counts, sizes, schema) are no part of the backend: their failures are mapped as the backend maps its own.
  const query = async <Row>(text: string, params: unknown[] = []): Promise<Row[]> => {
    try {
      return (await pool.query(text, params)).rows as Row[];
    } catch (error) {
      throw toBackendError(error, 'a sessionkit command query');
    }
  };
  const tableExists = async () => (await query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [backendTable]))[0]?.present === true;
  const ownerColumns = async () => {
    const rows = await query<{ name: string }>(
      `SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname IN ('owner', 'created_at') AND NOT attisdropped`,
      [backendTable],
    );
    return new Set(rows.map((row) => row.name));
  };
  const indexes = async () => {
    const rows = await query<{ name: string }>(`SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = to_regclass($1)`, [backendTable]);
    return new Set(rows.map((row) => row.name));
  };

  return {
    kind: 'postgres',
    where: `PostgreSQL ${where}, table ${backendTable}`,
    backend,

    migrateCommand: target.migrateCommand,

    async isEmpty() {
      return (await query<{ empty: boolean }>(`SELECT NOT EXISTS (SELECT 1 FROM ${backendTable}) AS empty`))[0]?.empty === true;
    },

    async ready() {
      if (!(await tableExists())) {
        throw new CliError(ExitCode.needsMigration, `table ${backendTable} does not exist in ${where}: run ${target.migrateCommand}`);
      }
    },

    async migrate(): Promise<MigrateReport> {
      const existed = await tableExists();
      const columnsBefore = existed ? await ownerColumns() : new Set<string>();
      const indexesBefore = existed ? await indexes() : new Set<string>();
      await backend.ensureSchema();
      if (!existed) return { store: 'postgres', action: 'created', added: [] };
      const added = [...(await ownerColumns())].filter((name) => !columnsBefore.has(name)).sort().map((name) => `column ${name}`);
      for (const name of [...(await indexes())].sort()) if (!indexesBefore.has(name)) added.push(`index ${name}`);
      return { store: 'postgres', action: added.length > 0 ? 'upgraded' : 'unchanged', added };
    },

    async countExpired() {
      const [row] = await query<{ count: string }>(`SELECT count(*) AS count FROM ${backendTable} WHERE expire_date <= now()`);
      return Number(row?.count ?? 0);
    },

    purge(batchSizeRows, onBatch) {
      return backend.purgeExpired({ batchSize: batchSizeRows, onBatch });
    },

    async stats(): Promise<StatsReport> {
      const notes: string[] = [];
      const [counts] = await query<{ live: string; expired: string }>(
        `SELECT count(*) FILTER (WHERE expire_date > now()) AS live, count(*) FILTER (WHERE expire_date <= now()) AS expired FROM ${backendTable}`,
      );
      let owners: OwnerStats | null = null;
      if ((await ownerColumns()).size === 2) {
        const [row] = await query<Record<string, string | null>>(
          `SELECT count(*) AS owners, coalesce(sum(n), 0) AS with_owner,
                  percentile_disc(0.5) WITHIN GROUP (ORDER BY n) AS p50,
                  percentile_disc(0.9) WITHIN GROUP (ORDER BY n) AS p90,
                  percentile_disc(0.99) WITHIN GROUP (ORDER BY n) AS p99,
                  max(n) AS max
             FROM (SELECT count(*) AS n FROM ${backendTable} WHERE owner IS NOT NULL AND expire_date > now() GROUP BY owner) AS per_owner`,
        );
        const live = Number(counts?.live ?? 0);
        const withOwner = num(row?.with_owner) ?? 0;
        owners = {
          owners: num(row?.owners) ?? 0,
          sessionsWithOwner: withOwner,
          sessionsWithoutOwner: live - withOwner,
          p50: num(row?.p50),
          p90: num(row?.p90),
          p99: num(row?.p99),
          max: num(row?.max),
        };
      } else {
        notes.push(`no owner column in ${backendTable}: run ${target.migrateCommand} for sessions per owner`);
      }
      const [size] = await query<Record<string, string>>(
        `SELECT pg_table_size(to_regclass($1)) AS table_bytes, pg_indexes_size(to_regclass($1)) AS index_bytes, pg_total_relation_size(to_regclass($1)) AS total_bytes`,
        [backendTable],
      );
      return {
        store: 'postgres',
        live: Number(counts?.live ?? 0),
        expired: Number(counts?.expired ?? 0),
        owners,
        sizeBytes: { table: Number(size?.table_bytes ?? 0), indexes: Number(size?.index_bytes ?? 0), total: Number(size?.total_bytes ?? 0) },
        notes,
      };
    },

    async ownerOf(key) {
      if ((await ownerColumns()).size !== 2) return undefined;
      const storedKey = target.hashKeys ? digestKey(key) : key;
      const [row] = await query<{ owner: string | null; created_at: Date | null }>(
        `SELECT owner, created_at FROM ${backendTable} WHERE session_key = $1::char(40) AND expire_date > now() LIMIT 1`,
        [storedKey],
      );
      if (row === undefined) return undefined;
      return { owner: row.owner, createdAt: row.created_at === null ? null : new Date(row.created_at).toISOString() };
    },

    async close() {
      await backend.close();
      await pool.end().catch(() => undefined);
    },
  };
}

async function checkReachable(pool: Pool, where: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([pool.query('SELECT 1'), deadline]);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new CliError(ExitCode.unreachable, `cannot reach PostgreSQL at ${where}: ${reason(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** A driver error in a few words: the socket error's code, or the server's own message. */
function reason(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // AggregateError (several addresses tried) has an empty message but a code.
  if (typeof message === 'string' && message.trim() !== '') return oneLine(error);
  return typeof code === 'string' ? code : oneLine(error);
}
