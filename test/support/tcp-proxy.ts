import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that a test controls: `down()` cuts every
 * connection and refuses new ones, `blackhole()` accepts but never forwards
 * (a server that hangs, or a network that drops packets without a FIN),
 * `cutNextReply()` loses the server's next reply (the command ran, the client
 * never hears of it), `up()` forwards again on the same port.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  #mode: 'forward' | 'blackhole' = 'forward';
  #cutPending = false;
  /** Replies lost by `cutNextReply`, so far. */
  cuts = 0;
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  async up(): Promise<void> {
    this.#mode = 'forward';
    if (this.#server !== undefined) return;
    const server = net.createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Keeps accepting connections but drops every byte both ways, like a server that stopped answering. */
  blackhole(): void {
    this.#mode = 'blackhole';
    for (const socket of this.#sockets) {
      socket.unpipe();
      socket.removeAllListeners('data');
      socket.on('data', () => undefined);
    }
  }

  /**
   * The next data the server sends, on whichever connection, is dropped and
   * that connection is cut both ways (the client sees it close): the server
   * received and ran what the client sent, the client never gets the answer.
   * Calls before that reply comes make one cut, not several.
   */
  cutNextReply(): void {
    this.#cutPending = true;
  }

  #accept(client: net.Socket): void {
    this.#sockets.add(client);
    client.on('close', () => this.#sockets.delete(client));
    client.on('error', () => client.destroy());
    if (this.#mode === 'blackhole') {
      client.on('data', () => undefined);
      return;
    }
    const upstream = net.connect(this.#target.port, this.#target.host);
    this.#sockets.add(upstream);
    upstream.on('close', () => {
      this.#sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (this.#mode === 'blackhole') return;
      if (this.#cutPending) {
        this.#cutPending = false;
        this.cuts += 1;
        upstream.destroy();
        client.destroy();
        return;
      }
      client.write(chunk);
    });
  }
}
