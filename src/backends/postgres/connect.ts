import type { PgPoolConfig as PoolConfig } from './driver-types.js';
import { emitEvent } from '../../core/events.js';
import { assertWholeNumberOption } from '../../core/validate.js';
import { toBackendError, withTimeout } from './failures.js';
import { ownResource, PostgresBackend, type PostgresBackendOptions } from './postgres-backend.js';

/**
 * libpq-style connection options (ocaml-session's `connect`), plus the pool size
 * and the backend's own options. `conninfo` is a libpq `key=value` string or a
 * `postgresql://` URI; the named options override what it says.
 */
export interface ConnectOptions extends PostgresBackendOptions {
  host?: string;
  /** A numeric address; used instead of `host` to reach the server. */
  hostaddr?: string;
  port?: number | string;
  dbname?: string;
  user?: string;
  password?: string;
  /** Server options sent at startup, e.g. `-c statement_timeout=1000`. */
  options?: string;
  /** libpq's old flag: `'1'` means `sslmode=require`. */
  requiressl?: string;
  sslmode?: 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
  conninfo?: string;
  /** Most connections in the pool; default 10. */
  max?: number;
  /**
   * When the table does not exist, `connect()` creates it (`ensureSchema()`:
   * idempotent, safe when many processes start at once). Default true;
   * `false` (for a role that may not create tables) makes a missing table a
   * `schema_missing` BackendError from `connect()` instead. An existing table
   * is never altered here: run `ensureSchema()` or `sessionkit migrate` to add
   * the owner columns to an older one.
   */
  createTable?: boolean;
}

const CONNINFO_PAIR = /\s*([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))/y;

/** Parses a libpq `key=value` conninfo string; values may be single-quoted with backslash escapes. */
export function parseConninfo(conninfo: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  CONNINFO_PAIR.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = CONNINFO_PAIR.exec(conninfo)) !== null) {
    pairs[match[1]!] = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!;
  }
  if (conninfo.slice(CONNINFO_PAIR.lastIndex).trim() !== '' && Object.keys(pairs).length === 0) {
    throw new TypeError('conninfo must be a libpq key=value string or a postgresql:// URI');
  }
  return pairs;
}

function sslFor(sslmode: string | undefined): PoolConfig['ssl'] {
  switch (sslmode) {
    case undefined:
    case 'disable':
    case 'allow':
    case 'prefer':
      return undefined;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true };
    default:
      throw new TypeError(`unknown sslmode ${JSON.stringify(sslmode)}`);
  }
}

/** Builds the `pg` pool configuration for {@link ConnectOptions}. */
export function poolConfigFor(options: ConnectOptions): PoolConfig {
  const { conninfo, max = 10, timeoutMs = 5000 } = options;
  assertWholeNumberOption(max, 'max', 1);
  const isUri = conninfo !== undefined && /^postgres(ql)?:\/\//.test(conninfo);
  const info = conninfo !== undefined && !isUri ? parseConninfo(conninfo) : {};
  const pick = (name: keyof ConnectOptions & string, libpqName = name) => {
    const value = options[name] ?? info[libpqName];
    return value === undefined ? undefined : String(value);
  };
  const requiressl = pick('requiressl');
  const port = pick('port');
  const config: PoolConfig = {
    connectionString: isUri ? conninfo : undefined,
    host: pick('hostaddr') ?? pick('host'),
    port: port === undefined ? undefined : Number(port),
    database: pick('dbname'),
    user: pick('user'),
    password: pick('password'),
    options: pick('options'),
    ssl: sslFor(pick('sslmode') ?? (requiressl === '1' ? 'require' : undefined)),
    max,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    // TCP keepalive: a peer that vanished without a FIN (a NAT that forgot the flow, a failover) is found by the OS too.
    keepAlive: true,
  };
  for (const key of Object.keys(config) as (keyof PoolConfig)[]) if (config[key] === undefined) delete config[key];
  return config;
}

/** `host:port/database` of a pool configuration, for error messages (never the user's password). */
export function describeTarget(config: PoolConfig): string {
  let { host, port, database } = config;
  if (config.connectionString !== undefined) {
    try {
      const url = new URL(config.connectionString);
      host = decodeURIComponent(url.hostname) || undefined;
      port = url.port === '' ? undefined : Number(url.port);
      database = decodeURIComponent(url.pathname.slice(1)) || undefined;
    } catch {
      // poolConfigFor only passes postgresql:// URIs through; pg reports a malformed one itself.
    }
  }
  return `${host ?? process.env.PGHOST ?? 'localhost'}:${port ?? process.env.PGPORT ?? 5432}/${database ?? process.env.PGDATABASE ?? config.user ?? process.env.PGUSER ?? ''}`;
}

/**
 * Opens a `pg` pool from libpq-style options, checks that the server answers
 * and that the table exists (creating it unless `createTable: false`), and
 * returns a {@link PostgresBackend} that owns the pool: its `close()` ends it.
 * Rejects with an `unavailable` BackendError naming `host:port/database` when
 * the server cannot be reached, `schema_missing` when the table is missing and
 * may not be created, and a clear error when the `pg` package is not installed.
 */
export async function connect(options: ConnectOptions = {}): Promise<PostgresBackend> {
  const { createTable = true } = options;
  if (typeof createTable !== 'boolean') throw new TypeError('createTable must be a boolean');
  const config = poolConfigFor(options);
  const where = describeTarget(config);
  let Pool: typeof import('pg').Pool;
  try {
    ({ Pool } = (await import('pg')).default);
  } catch (error) {
    throw new Error('sessionkit/postgres connect() needs the pg package: npm install pg', { cause: error });
  }
  const pool = new Pool(config);
  const store = 'postgres:connect';
  // An idle client's error (server restart) must not crash the process: the pool drops that client.
  pool.on('error', (error) => emitEvent(options.onEvent, { type: 'error', store, during: 'idle-connection', error }));
  let backend: PostgresBackend;
  try {
    backend = new PostgresBackend(pool, options);
    const { rows } = await withTimeout(pool.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [backend.table]), backend.timeoutMs, 'connect');
    if (rows[0]?.present !== true) {
      if (!createTable) {
        throw toBackendError({ code: '42P01' }, 'connect', { table: options.table ?? 'session' });
      }
      await backend.ensureSchema();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    if (error instanceof TypeError) throw error;
    throw toBackendError(error, 'connect', { where, table: options.table ?? 'session' });
  }
  ownResource(backend, () => pool.end());
  return backend;
}
