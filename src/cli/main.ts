#!/usr/bin/env node
/**
 * The `sessionkit` command: migrate, purge, stats, inspect and revoke sessions
 * in PostgreSQL (DATABASE_URL) or Redis (REDIS_URL). See docs/cli.md.
 */
import { run } from './run.js';

process.stdout.on('error', () => undefined); // a closed pipe (| head) is not a failure of the command
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
