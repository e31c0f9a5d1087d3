#!/usr/bin/env node
/**
 * The `sessionkit` command: migrate, purge, stats, inspect and revoke sessions
 * in PostgreSQL (DATABASE_URL) or Redis (REDIS_URL). See docs/cli.md.
 */
import { run } from './run.js';

process.stdout.on('error', () => undefined); // a closed pipe (| head) is not a failure of the command
// Drivers warn through process.emitWarning (pg prints nine lines about sslmode=require): a failure stays one line, and
// a cron job's log stays quiet. Node's own printer is a 'warning' listener; replacing it hides the warnings, nothing else.
process.removeAllListeners('warning');
process.on('warning', () => undefined);
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
