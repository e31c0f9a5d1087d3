// Test helper: starts a smoke server under Bun or Deno and resolves once it printed its URL.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A runtime the smoke suite runs on: its binary and how it starts a TypeScript file from the repository. */
export interface Runtime {
  name: 'Bun' | 'Deno';
  binary: string;
  args(file: string): string[];
  server: string;
}

export const runtimes: Runtime[] = [
  {
    name: 'Bun',
    binary: `${root}node_modules/@oven/bun-linux-x64/bin/bun`,
    args: (file) => [file],
    server: 'test/runtimes/bun-server.ts',
  },
  {
    name: 'Deno',
    binary: `${root}node_modules/@deno/linux-x64-glibc/deno`,
    // The sources import `./x.js` for `./x.ts`, as tsc's NodeNext wants: Deno maps those only with sloppy imports.
    // The import map points `sessionkit/*` at the sources (Bun reads tsconfig.json's paths itself).
    args: (file) => ['run', '--allow-all', '--unstable-sloppy-imports', '--import-map', 'test/runtimes/deno-import-map.json', file],
    server: 'test/runtimes/deno-server.ts',
  },
];

/** Why `runtime` cannot run here, or undefined. */
export const missingBinary = (runtime: Runtime): string | undefined =>
  existsSync(runtime.binary) ? undefined : `${runtime.binary} is missing (the ${runtime.name} npm package ships it)`;

/** A running smoke server. */
export interface RunningServer {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `runtime` on `file` (default: its smoke server) with `env` added, waiting up to `timeoutMs` for the URL line. */
export function startServer(runtime: Runtime, env: Record<string, string>, file = runtime.server, timeoutMs = 60_000): Promise<RunningServer> {
  const child = spawn(runtime.binary, runtime.args(file), { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${runtime.name} printed no URL within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /http:\/\/localhost:(\d+)/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${match[1]}`,
        output: () => output,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${runtime.name} exited before listening:\n${output}`));
    });
  });
}
