import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** tsx's loader, by absolute path, so that a copy of the sources elsewhere still runs as TypeScript. */
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
/** The command as the package ships it, run from its TypeScript sources. */
export const MAIN = join(root, 'src/cli/main.ts');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Environment on top of the test's, whose DATABASE_URL and REDIS_URL are removed so that each run names its store. */
  env?: Record<string, string>;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Another entry point (a copy of the sources). */
  main?: string;
  /** Leave stdin open after `input` (closed only once the command has exited): a stream with no end in sight. */
  holdStdinOpen?: boolean;
}

/** Runs `sessionkit ...args` in a child process (tsx) and collects its output and exit code. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  return runProcess(process.execPath, ['--import', tsxLoader, options.main ?? MAIN, ...args], { ...testEnvironment(), ...options.env }, options.input, options.holdStdinOpen);
}

/** The test's environment without DATABASE_URL and REDIS_URL (the run's own stores name both), so that each run names its store. */
function testEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.NODE_PATH;
  return env;
}

/**
 * Runs the command under `script`, which gives it a pseudo-terminal, so that
 * stderr is a TTY as in an operator's shell. Output of both streams arrives
 * mixed on stdout. The environment is as for {@link runCli}.
 */
export function runCliOnTerminal(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, '--import', tsxLoader, MAIN, ...args].map(quote).join(' ');
  return runProcess('script', ['-qec', command, '/dev/null'], { ...testEnvironment(), COLUMNS: '100', ...env });
}

function runProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv, input?: string, holdStdinOpen = false): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the command may stop reading (and close its end) before all of input is written
    if (holdStdinOpen) {
      child.stdin.write(input ?? '');
      child.on('exit', () => child.stdin.destroy());
    } else {
      child.stdin.end(input ?? '');
    }
  });
}

/** The one JSON object a `--json` run prints on stdout. */
export function jsonOf(run: CliRun): Record<string, unknown> {
  const lines = run.stdout.trim().split('\n');
  if (lines.length !== 1) throw new Error(`expected one line of JSON on stdout, got ${JSON.stringify(run.stdout)} (stderr ${JSON.stringify(run.stderr)})`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

/**
 * A copy of the command's sources (and package.json) in a temporary
 * directory with no node_modules above it: importing `pg` or `ioredis` there
 * fails for real, as on an install without the driver.
 */
export function copyWithoutDrivers(): { main: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-cli-'));
  for (const part of ['src/core', 'src/backends', 'src/http', 'src/cli', 'src/adapters/express-session']) cpSync(join(root, part), join(dir, part), { recursive: true });
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  return { main: join(dir, 'src/cli/main.ts'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A loopback server that accepts connections and never answers: a hung store. */
export async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** True when `text` is exactly one line and shows no stack trace. */
export function isOneLineWithoutStack(text: string): boolean {
  return text.trimEnd().split('\n').length === 1 && !/\n\s+at /.test(text) && !text.includes('node:internal');
}
