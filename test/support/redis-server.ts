import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Every process and directory a test creates, so that an exit, even after a
// failed test or on a signal, stops and removes them all.
const running = new Set<ChildProcess>();
const directories = new Set<string>();
function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

/** Sends one inline command to 127.0.0.1:`port` and resolves with the raw reply (rejects on connection failure). */
export function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from ${port}`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (chunk: string) => {
      reply += chunk;
      // A status/error line, or a bulk string whose announced length has arrived.
      const header = /^\$(\d+)\r\n/.exec(reply);
      if ((reply[0] !== '$' && reply.endsWith('\r\n')) || (header && reply.length >= header[0].length + Number(header[1]) + 2)) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.write(`${command}\r\n`);
  });
}

/** One `redis-server` process on loopback, in its own temporary directory, without persistence. */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly #extraArgs: string[];
  #child: ChildProcess | undefined;

  private constructor(port: number, extraArgs: string[]) {
    this.port = port;
    this.#extraArgs = extraArgs;
    this.dir = mkdtempSync(join(tmpdir(), `sessionkit-redis-${port}-`));
    directories.add(this.dir);
  }

  /** Starts a server on `port` (a free one by default) and waits until it answers PING. */
  static async start(options: { port?: number; args?: string[]; clusterBus?: boolean } = {}): Promise<RedisServer> {
    const server = new RedisServer(options.port ?? (await freePort(options.clusterBus)), options.args ?? []);
    await server.restart();
    return server;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** (Re)starts the process on the same port and directory. */
  async restart(): Promise<void> {
    if (this.#child !== undefined) throw new Error(`redis-server on ${this.port} is still running`);
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no', '--logfile', 'redis.log', ...this.#extraArgs];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    running.add(child);
    child.once('exit', () => {
      running.delete(child);
      if (this.#child === child) this.#child = undefined;
    });
    this.#child = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      // It exits at once when the port is taken: then whatever answers there is not this server.
      if (this.#child !== child) throw new Error(`redis-server on ${this.port} exited at start (see ${this.dir}/redis.log)`);
      try {
        if ((await rawCommand(this.port, 'PING')).startsWith('+PONG')) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start (see ${this.dir}/redis.log)`);
      await sleep(50);
    }
    if (!(await rawCommand(this.port, 'INFO server')).includes(`process_id:${child.pid}\r\n`)) {
      throw new Error(`another server answers on ${this.port}, not the redis-server just started`);
    }
  }

  /** Sends `signal` (SIGSTOP / SIGCONT freeze and thaw the server); SIGKILL and SIGTERM are better done with `stop`. */
  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }

  /** Kills the process (SIGKILL by default) and waits for it to exit; the directory stays for `restart`. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill(signal);
    await exited;
  }

  /** Stops the process and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    directories.delete(this.dir);
  }
}
