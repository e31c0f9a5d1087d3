import { afterAll, describe, expect, it } from 'vitest';
import { closedPort, copyWithoutDrivers, isOneLineWithoutStack, jsonOf, runCli, silentServer } from './support/run-cli.js';

const COMMANDS = ['migrate', 'purge', 'stats', 'inspect', 'revoke'];

describe('sessionkit: help', () => {
  it('--help lists every command, the store flags and the exit codes', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const command of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    for (const flag of ['--database-url', '--redis-url', '--table', '--prefix', '--no-hash-keys', '--timeout-ms', '--json']) expect(run.stdout).toContain(flag);
    expect(run.stdout).toContain('DATABASE_URL');
    for (const line of [/\b0\s+done/, /\b1\s+no live session matched/, /\b2\s+usage error/, /\b3\s+store unreachable/, /\b4\s+driver/, /\b5\s+table missing/]) {
      expect(run.stdout).toMatch(line);
    }
    expect(run.stderr).toBe('');
  });

  it.each(COMMANDS)('%s --help and help %s show the usage of that command', async (command) => {
    const [flag, word] = await Promise.all([runCli([command, '--help']), runCli(['help', command])]);
    expect(flag.code).toBe(0);
    expect(flag.stdout).toMatch(new RegExp(`^Usage: sessionkit ${command}`));
    expect(flag.stdout).toContain('--database-url');
    expect(word.stdout).toBe(flag.stdout);
  });

  it('command-specific options appear in their help only', async () => {
    const [purge, revoke, stats] = await Promise.all([runCli(['purge', '-h']), runCli(['revoke', '-h']), runCli(['stats', '-h'])]);
    expect(purge.stdout).toContain('--batch-size');
    expect(revoke.stdout).toContain('--owner ID');
    expect(revoke.stdout).toContain('--except KEY');
    expect(stats.stdout).not.toContain('--batch-size');
  });

  it('--help --json wraps the text; --version prints package.json version', async () => {
    const [help, version] = await Promise.all([runCli(['stats', '--help', '--json']), runCli(['--version', '--json'])]);
    expect(String(jsonOf(help).help)).toMatch(/^Usage: sessionkit stats/);
    expect(jsonOf(version)).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('no command: the help on stderr and exit code 2', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Usage: sessionkit <command>');
  });
});

describe.concurrent('sessionkit: usage errors exit with 2 before touching a store', () => {
  // A closed port: were the store contacted, the exit code would be 3, not 2.
  const db = async () => `postgresql://root@127.0.0.1:${await closedPort()}/test`;

  it.each([
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['an unknown option', ['stats', '--frobnicate'], /^sessionkit: unknown option --frobnicate: see sessionkit --help \(a KEY that starts with "-" goes after "--"\)\n$/],
    ['a misspelt option: the close match', ['stats', '--tabel', 'x'], /^sessionkit: unknown option --tabel: did you mean --table\?\n$/],
    ['a misspelt option with a value: the close match', ['import', '--from=connect-redis', '--dryrun'], /^sessionkit: unknown option --dryrun: did you mean --dry-run\?\n$/],
    ["another command's option", ['stats', '--owner', 'u1'], /stats has no option --owner/],
    ['inspect without KEY', ['inspect'], /inspect needs a KEY/],
    ['inspect with two keys', ['inspect', 'abc', 'def'], /takes one KEY/],
    ['a malformed key', ['inspect', 'not a key!'], /not a session key/],
    ['a key of 41 characters', ['revoke', 'a'.repeat(41)], /not a session key/],
    ['revoke with a KEY and --owner', ['revoke', 'abc', '--owner', 'u1'], /not both/],
    ['--except without --owner', ['revoke', 'abc', '--except', 'def'], /--except is only for revoke --owner/],
    ['an empty owner', ['revoke', '--owner', ''], /--owner: owner must be 1 to 256/],
    ['a bad --batch-size', ['purge', '--batch-size', '0'], /--batch-size must be a whole number >= 1/],
    ['a bad --timeout-ms', ['stats', '--timeout-ms', 'soon'], /--timeout-ms must be a whole number/],
    ['--prefix with PostgreSQL', ['stats', '--prefix', 'x:'], /--prefix is for Redis/],
    ['a table name with SQL in it', ['stats', '--table', 'x; drop table y'], /--table: table must be a plain identifier/],
    ['an unknown help topic', ['help', 'nope'], /no command "nope"/],
  ])('%s', async (_, args, message) => {
    const run = await runCli([...args, '--database-url', await db()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/^sessionkit: /);
    expect(isOneLineWithoutStack(run.stderr)).toBe(true);
  });

  it('a KEY that starts with "-" is told to go after "--"', async () => {
    const run = await runCli(['inspect', '-abc', '--database-url', await db()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('goes after "--"');
  });

  it('a KEY that starts with "-" given to --except is told to be written --except=KEY', async () => {
    const run = await runCli(['revoke', '--owner', 'gina', '--except', '-abc', '--database-url', await db()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('sessionkit: the value given to --except starts with "-", like an option: write --except=VALUE for a KEY that starts with "-"\n');
  });

  it('no store: names both variables', async () => {
    const run = await runCli(['stats']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('set DATABASE_URL or REDIS_URL');
  });

  it('both variables set and no flag: ambiguous, exit 2; a flag chooses', async () => {
    const env = { DATABASE_URL: await db(), REDIS_URL: `redis://127.0.0.1:${await closedPort()}` };
    const both = await runCli(['stats'], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('both DATABASE_URL and REDIS_URL are set');
    const chosen = await runCli(['stats', '--redis-url', env.REDIS_URL], { env });
    expect(chosen.code).toBe(3);
    expect(chosen.stderr).toContain('Redis');
  });

  it('--json: the error as an object on stdout, the line on stderr', async () => {
    const run = await runCli(['inspect', '--json', '--database-url', await db()]);
    expect(run.code).toBe(2);
    expect(jsonOf(run)).toEqual({ error: { code: 'usage', exitCode: 2, message: expect.stringContaining('inspect needs a KEY') } });
    expect(run.stderr).toMatch(/^sessionkit: inspect needs a KEY/);
  });
});

describe('sessionkit: a store address that cannot be right is a usage error (exit 2), before any connection', () => {
  it.each([
    ['a postgresql:// URL that does not parse', ['--database-url', 'postgresql://root:secret@[bad/test'], /DATABASE_URL is not a valid postgresql:\/\/ URL/],
    ['a URL of another scheme as DATABASE_URL', ['--database-url', 'mysql://root@127.0.0.1/test'], /must be a postgresql:\/\/ URL or a libpq key=value string, not a mysql:\/\/ URL/],
    ['a conninfo key libpq does not have', ['--database-url', 'bogus=1'], /unknown connection option "bogus"/],
    ['a conninfo with an unterminated quote', ['--database-url', "host=127.0.0.1 password='secret"], /a quoted value is not closed/],
    ['a conninfo with a word that is no pair', ['--database-url', 'host=127.0.0.1 dbname=test oops'], /expected key=value at "oops"/],
    ['a REDIS_URL that does not parse', ['--redis-url', 'redis://:secret@[bad'], /REDIS_URL is not a valid URL/],
    ['a REDIS_URL of another scheme', ['--redis-url', 'http://127.0.0.1:6379'], /must be a redis:\/\/ or rediss:\/\/ URL, not http:/],
    ['a REDIS_URL whose path is not a database number', ['--redis-url', 'redis://127.0.0.1:6379/sessions'], /the path must be a database number, got "sessions"/],
  ])('%s', async (_, args, message) => {
    const run = await runCli(['stats', ...args, '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(isOneLineWithoutStack(run.stderr)).toBe(true);
    expect(jsonOf(run)).toMatchObject({ error: { code: 'usage', exitCode: 2 } });
    expect(run.stdout + run.stderr).not.toContain('secret');
  });
});

describe('sessionkit: unreachable store → exit 3 and one line, no stack trace', () => {
  it('sslmode=require in the URL: one line, without the driver\'s warning about sslmode', async () => {
    const port = await closedPort();
    const run = await runCli(['stats', '--database-url', `postgresql://root@127.0.0.1:${port}/test?sslmode=require`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`sessionkit: cannot reach PostgreSQL at 127.0.0.1:${port}/test: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });

  it.each(['migrate', 'stats', 'purge'])('PostgreSQL on a closed port (%s)', async (command) => {
    const port = await closedPort();
    const run = await runCli([command, '--json'], { env: { DATABASE_URL: `postgresql://root:secret@127.0.0.1:${port}/test` } });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`sessionkit: cannot reach PostgreSQL at 127.0.0.1:${port}/test: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    expect(jsonOf(run)).toMatchObject({ error: { code: 'unreachable', exitCode: 3 } });
    expect(run.stdout + run.stderr).not.toContain('secret');
  });

  it('PostgreSQL as a libpq conninfo string on a closed port', async () => {
    const port = await closedPort();
    const run = await runCli(['stats', '--database-url', `host=127.0.0.1 port=${port} dbname=test user=root`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`cannot reach PostgreSQL at 127.0.0.1:${port}/test`);
    expect(isOneLineWithoutStack(run.stderr)).toBe(true);
  });

  it.each(['migrate', 'stats', 'inspect abc'])('Redis on a closed port (%s)', async (command) => {
    const port = await closedPort();
    const run = await runCli([...command.split(' ')], { env: { REDIS_URL: `redis://:secret@127.0.0.1:${port}` } });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`sessionkit: cannot reach Redis at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    expect(run.stdout).toBe('');
  });

  it('a server that accepts and never answers: exit 3 within --timeout-ms', async () => {
    const server = await silentServer();
    try {
      const [postgres, redis] = await Promise.all([
        runCli(['stats', '--timeout-ms', '500', '--database-url', `postgresql://root@127.0.0.1:${server.port}/test`]),
        runCli(['stats', '--timeout-ms', '500', '--redis-url', `redis://127.0.0.1:${server.port}`]),
      ]);
      for (const run of [postgres, redis]) {
        expect(run.code).toBe(3);
        expect(run.stderr).toMatch(/^sessionkit: cannot reach (PostgreSQL|Redis) at 127\.0\.0\.1:\d+/);
        expect(isOneLineWithoutStack(run.stderr)).toBe(true);
      }
    } finally {
      await server.close();
    }
  });
});

describe('sessionkit: driver not installed → exit 4 and the npm command', () => {
  // A real missing module: the sources copied where no node_modules is above them.
  const copy = copyWithoutDrivers();
  afterAll(() => copy.remove());

  it('pg for DATABASE_URL', async () => {
    const run = await runCli(['stats'], { main: copy.main, env: { DATABASE_URL: 'postgresql://root@127.0.0.1:5432/test' } });
    expect(run.code).toBe(4);
    expect(run.stderr).toBe('sessionkit: the pg package is needed for PostgreSQL (DATABASE_URL) but is not installed: npm install pg\n');
  });

  it('ioredis for REDIS_URL, as JSON too', async () => {
    const run = await runCli(['migrate', '--json'], { main: copy.main, env: { REDIS_URL: 'redis://127.0.0.1:6379' } });
    expect(run.code).toBe(4);
    expect(jsonOf(run)).toEqual({ error: { code: 'driver_missing', exitCode: 4, message: expect.stringContaining('npm install ioredis') } });
    expect(isOneLineWithoutStack(run.stderr)).toBe(true);
  });

  it('help needs no driver', async () => {
    const run = await runCli(['--help'], { main: copy.main });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: sessionkit <command>');
  });
});
