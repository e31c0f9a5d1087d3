import type { Redis } from 'ioredis';
import { CliError, ExitCode } from './exit-codes.js';

/** The drivers the command loads itself (library code only imports their types). */
export type DriverName = 'pg' | 'ioredis';

const PURPOSE: Record<DriverName, string> = {
  pg: 'PostgreSQL (DATABASE_URL)',
  ioredis: 'Redis (REDIS_URL)',
};

/**
 * Imports a driver at run time, so that `sessionkit --help` and the other
 * store's commands work without it. A driver that is not installed is a
 * {@link CliError} with exit code 4 and the npm command that fixes it.
 */
export async function loadDriver<Module>(name: DriverName): Promise<Module> {
  try {
    return (await import(name)) as Module;
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'ERR_MODULE_NOT_FOUND') {
      throw new CliError(ExitCode.driverMissing, `the ${name} package is needed for ${PURPOSE[name]} but is not installed: npm install ${name}`, { cause: error });
    }
    throw new CliError(ExitCode.driverMissing, `the ${name} package is installed but could not be loaded (${oneLine(error)}): reinstall it with npm install ${name}`, {
      cause: error,
    });
  }
}

/**
 * An ioredis client that fails fast, as a command line must (no retries, no offline queue), and its `connect()`:
 * it connects and pings, and on failure disconnects and rejects with the socket's error (ioredis reports that one
 * only as an 'error' event, and rejects connect() with a vaguer one).
 */
export function failFastIoredis(ioredis: typeof import('ioredis'), url: string, timeoutMs: number): { client: Redis; connect(): Promise<void> } {
  const RedisClass = ioredis.Redis ?? ioredis.default;
  const client = new RedisClass(url, { lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let lastError: unknown;
  client.on('error', (error: unknown) => {
    lastError = error;
  });
  const connect = async () => {
    try {
      await client.connect();
      await client.ping();
    } catch (error) {
      client.disconnect();
      throw lastError ?? error;
    }
  };
  return { client, connect };
}

/** The first line of an error's message, for reports that must stay on one line. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0]!.trim() || (error instanceof Error ? error.name : 'unknown error');
}
