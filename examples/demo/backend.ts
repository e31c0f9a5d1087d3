// Where the demo keeps its sessions, chosen from the environment:
//   REDIS_URL     Redis (ioredis + RedisBackend)
//   DATABASE_URL  a PostgreSQL server (pg Pool + PostgresBackend)
//   otherwise     PGlite (PostgreSQL in-process) stored under DATA_DIR, default .data/
// Each driver is loaded only when chosen, with a clear message when it is not installed.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Backend } from 'sessionkit';

/** Where to keep sessions; the first of `redisUrl`, `databaseUrl`, `dataDir` that is set wins. */
export interface StorageConfig {
  redisUrl?: string | undefined;
  databaseUrl?: string | undefined;
  /** PGlite's directory (created when missing); its data survives restarts. */
  dataDir: string;
  /** PostgreSQL table (server or PGlite); default `session`. */
  table?: string;
  /** Redis key prefix; default `sessionkit:demo:`. */
  redisPrefix?: string;
  /** Receives progress lines for people (the first PGlite start takes a few seconds). */
  log?: (line: string) => void;
}

/** An open backend, a description for people, and `close()`, which also releases the driver's connection. */
export interface OpenStorage {
  backend: Backend;
  description: string;
  close(): Promise<void>;
}

/** The storage configuration of the demo from environment variables (empty values count as unset). */
export function storageConfigFromEnv(env: NodeJS.ProcessEnv): StorageConfig {
  const value = (name: string) => (env[name] === '' ? undefined : env[name]);
  return {
    redisUrl: value('REDIS_URL'),
    databaseUrl: value('DATABASE_URL'),
    dataDir: value('DATA_DIR') ?? '.data',
    table: value('SESSION_TABLE'),
  };
}

async function load<Module>(name: string, importer: () => Promise<Module>): Promise<Module> {
  try {
    return await importer();
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') throw new Error(`the demo needs ${name} for this storage: npm install ${name}`, { cause: error });
    throw error;
  }
}

/** Opens the configured storage, creating the PostgreSQL table when missing. */
export async function openStorage(config: StorageConfig): Promise<OpenStorage> {
  const { table = 'session' } = config;
  if (config.redisUrl !== undefined) {
    const { Redis } = await load('ioredis', () => import('ioredis'));
    const { RedisBackend } = await import('sessionkit/redis');
    const client = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    const backend = new RedisBackend(client, { prefix: config.redisPrefix ?? 'sessionkit:demo:' });
    return {
      backend,
      description: `Redis at ${redact(config.redisUrl)}`,
      close: async () => {
        await backend.close();
        await client.quit();
      },
    };
  }

  const { PostgresBackend } = await import('sessionkit/postgres');
  if (config.databaseUrl !== undefined) {
    const { default: pg } = await load('pg', () => import('pg'));
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
    // An idle connection dropped by the server must not crash the process: the pool replaces it.
    pool.on('error', (error) => console.error('PostgreSQL pool:', error.message));
    const backend = new PostgresBackend(pool, { table, pruneIntervalSeconds: 300 });
    try {
      await backend.ensureSchema();
    } catch (error) {
      await backend.close();
      await pool.end();
      throw error;
    }
    return {
      backend,
      description: `PostgreSQL at ${redact(config.databaseUrl)}, table ${table}`,
      close: async () => {
        await backend.close();
        await pool.end();
      },
    };
  }

  const { PGlite } = await load('@electric-sql/pglite', () => import('@electric-sql/pglite'));
  const dir = resolve(config.dataDir, 'pglite');
  if (!existsSync(join(dir, 'PG_VERSION'))) config.log?.(`first run: creating a PGlite database in ${dir} (a few seconds)`);
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const backend = new PostgresBackend(db, { table });
  await backend.ensureSchema();
  // One process owns a PGlite directory, so a purge at start keeps it lean; no pruning fleet to coordinate.
  await backend.purgeExpired();
  return {
    backend,
    description: `PGlite in ${dir}`,
    close: async () => {
      await backend.close();
      // Closing flushes PGlite's data to disk; sessions then survive the restart.
      await db.close();
    },
  };
}

/** A connection URL without its password, for printing. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
