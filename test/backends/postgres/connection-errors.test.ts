import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool } from '../../support/postgres.js';

const prefix = `sk_connerr_${process.pid}_`;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const child = fileURLToPath(new URL('./support/unguarded-connection.ts', import.meta.url));

/**
 * Connections never take the process down: a pg Pool or Client handed over
 * without an `'error'` listener gets one from the backend, so the server
 * terminating an idle connection is an event, not an exit.
 */
describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL connection errors', () => {
  const admin = testPool(2);
  afterAll(async () => {
    await dropTablesLike(admin, prefix);
    await admin.end();
  });

  for (const kind of ['pool', 'client'] as const) {
    it(`a pg ${kind} without an 'error' listener whose idle connection the server terminates: the process stays up`, async () => {
      const applicationName = `${prefix}${kind}`;
      const process_ = spawn(process.execPath, ['--import', tsxLoader, child, DATABASE_URL, `${prefix}${kind}`, applicationName, kind], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      process_.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const ready = new Promise<void>((resolve) =>
        process_.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('ready')) resolve();
        }),
      );
      const exited = new Promise<number | null>((resolve) => process_.on('exit', (code) => resolve(code)));
      await Promise.race([ready, exited]);
      const { rows } = await admin.query<{ count: number }>(
        'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS count FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      expect(rows[0]!.count).toBeGreaterThan(0);
      // Let the termination reach the process before it goes on.
      await new Promise((resolve) => setTimeout(resolve, 500));
      process_.stdin.write('go\n');
      const code = await exited;
      expect({ code, stderr }).toMatchObject({ code: 0 });
      expect(stdout).toContain(kind === 'pool' ? 'alive: before' : 'alive: rejected unavailable');
    }, 60_000);
  }
});
