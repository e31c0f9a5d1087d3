import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig, type UserWorkspaceConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

const resolve = {
  // Examples import the package by name, as users do; resolve those names to the sources.
  alias: [
    { find: /^sessionkit$/, replacement: src('index.ts') },
    { find: /^sessionkit\/(postgres|redis)$/, replacement: src('backends/$1/index.ts') },
    { find: /^sessionkit\/http$/, replacement: src('http/index.ts') },
    { find: /^sessionkit\/(csrf|ocaml-session|backend-kit|testkit)$/, replacement: src('$1/index.ts') },
    { find: /^sessionkit\/(node|express|express-session|fastify|hono)$/, replacement: src('adapters/$1/index.ts') },
    { find: /^sessionkit\/(fetch|koa)$/, replacement: src('adapters/$1/index.ts') },
  ],
};
const timeouts = { testTimeout: 30_000, hookTimeout: 90_000 };

/**
 * The suites that hold a store to a deadline under load: the backend contract (1,000 concurrent
 * operations within the backend's timeout), the backends' own tests (deadlines, lost replies, black
 * holes, locks) and the fault histories. They run one file at a time (`npm test` runs this project
 * with one worker, after the others), so that no other test file's processes take the cores a
 * deadline was set for.
 */
const ALONE = ['test/conformance/**/*.test.ts', 'test/backends/**/*.test.ts', 'test/faults/**/*.test.ts'];

const project = (name: string, test: UserWorkspaceConfig['test']): UserWorkspaceConfig => ({ resolve, test: { name, ...timeouts, ...test } });

// Projects inherit nothing from this root (no `extends`): each gets `resolve` and the timeouts from `project`.
export default defineConfig({
  test: {
    // Each run creates a PostgreSQL database of its own and drops it after, and takes an empty Redis database and
    // empties it after: DATABASE_URL and REDIS_URL name them in every worker (of both projects).
    globalSetup: ['test/support/postgres-database.ts', 'test/support/redis-database.ts'],
    // `npm test` runs `parallel` two files at a time (most of its time is spent waiting on servers, child
    // processes and timers) and then `alone` one file at a time; `vitest run` alone runs both with vitest's
    // default worker count.
    projects: [
      project('parallel', { include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'examples/**/*.test.ts'], exclude: [...configDefaults.exclude, ...ALONE] }),
      project('alone', { include: ALONE }),
    ],
  },
});
