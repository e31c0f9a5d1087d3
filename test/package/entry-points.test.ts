import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const DRIVERS = ['pg', 'postgres', '@electric-sql/pglite', 'ioredis', 'express', 'fastify', 'hono', 'koa'];

/** The packages an entry point loads when imported, seen by a resolve hook in a fresh process. */
async function packagesLoadedBy(entry: string): Promise<string[]> {
  return resolvedIn(await loadIn(entry));
}

async function loadIn(entry: string): Promise<string> {
  const { stderr } = await run(
    process.execPath,
    ['--import', 'tsx', '--import', './test/package/register-resolve-logger.mjs', '--input-type=module', '-e', `await import('${entry}')`],
    { cwd: root },
  );
  return stderr;
}

function resolvedIn(stderr: string): string[] {
  return [...stderr.matchAll(/^resolved (\S+)$/gm)].map(([, name]) => name!.split('/').slice(0, name!.startsWith('@') ? 2 : 1).join('/'));
}

// docs/architecture.md, "Layers": each driver is loaded only by the entry point that needs it, and backends load none at import.
describe('entry points load no driver', () => {
  it.each([
    ['sessionkit', './src/index.ts'],
    ['sessionkit/postgres', './src/backends/postgres/index.ts'],
    ['sessionkit/redis', './src/backends/redis/index.ts'],
    ['sessionkit/http', './src/http/index.ts'],
    ['sessionkit/fetch', './src/adapters/fetch/index.ts'],
    ['sessionkit/koa', './src/adapters/koa/index.ts'],
    ['sessionkit/csrf', './src/csrf/index.ts'],
    ['sessionkit/ocaml-session', './src/ocaml-session/index.ts'],
    ['sessionkit/backend-kit', './src/backend-kit/index.ts'],
  ])('%s', async (_name, entry) => {
    const loaded = await packagesLoadedBy(entry);
    expect(loaded.filter((name) => DRIVERS.includes(name))).toEqual([]);
    expect(loaded).not.toContain('vitest');
  });

  // vitest refuses to load outside its runner: the kit is for test files, where it loads no driver either.
  it('sessionkit/testkit loads vitest (the suite is written in it) and no driver', async () => {
    const failure = await loadIn('./src/testkit/index.ts').then(
      () => undefined,
      (error: { stderr: string }) => error,
    );
    expect(failure?.stderr).toMatch(/Vitest failed to access its internal state/);
    const loaded = resolvedIn(failure!.stderr);
    expect(loaded).toContain('vitest');
    expect(loaded.filter((name) => DRIVERS.includes(name))).toEqual([]);
  });

  it('sessionkit/express-session loads express-session (its Store is the base class) and no driver', async () => {
    const loaded = await packagesLoadedBy('./src/adapters/express-session/index.ts');
    expect(loaded).toContain('express-session');
    expect(loaded.filter((name) => DRIVERS.includes(name))).toEqual([]);
  });

  it('the check sees a driver when one is loaded', async () => {
    expect(await packagesLoadedBy('pg')).toContain('pg');
  });
});
