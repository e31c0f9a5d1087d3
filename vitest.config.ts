import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Examples import the package by name, as users do; resolve those names to the sources.
    alias: [
      { find: /^sessionkit$/, replacement: src('index.ts') },
      { find: /^sessionkit\/(postgres|redis)$/, replacement: src('backends/$1/index.ts') },
      { find: /^sessionkit\/http$/, replacement: src('http/index.ts') },
      { find: /^sessionkit\/(csrf|ocaml-session|backend-kit|testkit)$/, replacement: src('$1/index.ts') },
      { find: /^sessionkit\/(node|express|express-session|fastify|hono)$/, replacement: src('adapters/$1/index.ts') },
      { find: /^sessionkit\/(fetch|koa)$/, replacement: src('adapters/$1/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'examples/**/*.test.ts'],
    // Each run creates a PostgreSQL database of its own and drops it after, and takes an empty Redis database and
    // empties it after: DATABASE_URL and REDIS_URL name them in every worker.
    globalSetup: ['test/support/postgres-database.ts', 'test/support/redis-database.ts'],
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
