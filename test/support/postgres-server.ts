import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** The newest PostgreSQL server binaries on this machine (Debian layout), or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  const dir = versions.map((version) => join(root, version, 'bin')).find((bin) => existsSync(join(bin, 'pg_ctl')));
  return dir;
}

/**
 * A throwaway PostgreSQL server of the test's own, on a free loopback port, in
 * a temporary directory, so a test can restart or kill it without touching the
 * machine's server. Runs as the `postgres` user when the test runs as root.
 */
export class ScratchPostgres {
  readonly dataDir: string;
  port = 0;
  readonly #bin: string;
  readonly #asPostgres: boolean;

  private constructor(bin: string, dataDir: string) {
    this.#bin = bin;
    this.dataDir = dataDir;
    this.#asPostgres = process.getuid?.() === 0;
  }

  static async start(): Promise<ScratchPostgres> {
    const bin = postgresBinDir();
    if (bin === undefined) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
    const parent = mkdtempSync(join(tmpdir(), 'sessionkit-pg-'));
    chmodSync(parent, 0o777);
    const server = new ScratchPostgres(bin, join(parent, 'data'));
    server.port = await freePort();
    await server.#as('initdb', ['-D', server.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    await server.#ctl('start', ['-w', '-t', '30', '-o', `-p ${server.port} -k ${parent} -c listen_addresses=127.0.0.1 -c fsync=on`]);
    return server;
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** `fast` shuts down cleanly; `immediate` is a crash (recovery from WAL on the next start). */
  async restart(mode: 'fast' | 'immediate'): Promise<void> {
    await this.#ctl('restart', ['-w', '-t', '30', '-m', mode]);
  }

  /** Sends `signal` to the postmaster and every server process (SIGSTOP / SIGCONT freeze and thaw the whole server). */
  async signal(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const postmaster = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(postmaster)]);
    const children = stdout.split('\n').map((line) => Number(line.trim())).filter((pid) => pid > 0);
    for (const pid of [postmaster, ...children]) {
      try {
        process.kill(pid, signal);
      } catch {
        // A process that has just exited.
      }
    }
  }

  async stop(): Promise<void> {
    await this.#ctl('stop', ['-w', '-t', '30', '-m', 'immediate']).catch(() => undefined);
    rmSync(join(this.dataDir, '..'), { recursive: true, force: true });
  }

  #ctl(command: string, args: string[]) {
    return this.#as('pg_ctl', [command, '-D', this.dataDir, '-l', join(this.dataDir, '..', 'server.log'), ...args]);
  }

  #as(program: string, args: string[]) {
    const path = join(this.#bin, program);
    return this.#asPostgres ? run('runuser', ['-u', 'postgres', '--', path, ...args]) : run(path, args);
  }
}
