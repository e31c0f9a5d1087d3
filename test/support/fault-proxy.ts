import net from 'node:net';

/** One client connection and the proxy's connection to the server for it. */
interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  /** Forwards nothing either way and closes nothing, as a connection black-holed by the network. */
  frozen: boolean;
}

/**
 * A TCP proxy on 127.0.0.1 for fault tests that, unlike {@link TcpProxy},
 * can lose replies and black-hole connections:
 * - `loseRepliesFor(ms)`: for that long, the first bytes the server sends on
 *   any connection are dropped and that connection is reset. The server has
 *   executed what the client sent; the client never hears it.
 * - `blackhole()`: every open connection stops forwarding both ways and
 *   stays open (no FIN, no RST) for good, and new connections are accepted
 *   but get nothing, until `heal()`, after which new connections work again
 *   while the black-holed ones stay silent until their client closes them.
 */
export class FaultProxy {
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  #server: net.Server | undefined;
  #losingReplies = false;
  #blackholed = false;
  port = 0;
  /** Connections reset by `loseRepliesFor` after the server's reply arrived. */
  repliesLost = 0;
  /** Connections frozen by `blackhole()` (open ones, and new ones while it lasts). */
  connectionsBlackholed = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** Listens on a free loopback port and forwards to `target`. */
  static async start(target: { host?: string; port: number }): Promise<FaultProxy> {
    const proxy = new FaultProxy({ host: target.host ?? '127.0.0.1', port: target.port });
    const server = net.createServer((client) => proxy.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy.port = (server.address() as net.AddressInfo).port;
    proxy.#server = server;
    return proxy;
  }

  /** Loses the next reply of every connection for `ms`; resolves with how many replies were lost then. */
  async loseRepliesFor(ms: number): Promise<number> {
    const before = this.repliesLost;
    this.#losingReplies = true;
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.#losingReplies = false;
    return this.repliesLost - before;
  }

  /** Black-holes every open connection and each new one until `heal()`; returns how many open ones were frozen. */
  blackhole(): number {
    this.#blackholed = true;
    let frozen = 0;
    for (const pair of this.#pairs) {
      if (!pair.frozen) {
        pair.frozen = true;
        frozen += 1;
      }
    }
    this.connectionsBlackholed += frozen;
    return frozen;
  }

  /** New connections are forwarded again; those black-holed stay so. */
  heal(): void {
    this.#blackholed = false;
  }

  /** Closes every connection and stops listening. */
  async close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.#pairs.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    const pair: Pair = { client, upstream: undefined, frozen: this.#blackholed };
    this.#pairs.add(pair);
    client.on('error', () => client.destroy());
    client.on('close', () => {
      this.#pairs.delete(pair);
      pair.upstream?.destroy();
    });
    if (pair.frozen) {
      this.connectionsBlackholed += 1;
      client.on('data', () => undefined);
      return;
    }
    const upstream = net.connect(this.#target.port, this.#target.host);
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    upstream.on('error', () => upstream.destroy());
    upstream.on('close', () => {
      // A black-holed connection hears nothing, not even the server's close.
      if (!pair.frozen) client.destroy();
    });
    client.on('data', (chunk: Buffer) => {
      if (!pair.frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (pair.frozen) return;
      if (this.#losingReplies) {
        this.repliesLost += 1;
        upstream.destroy();
        client.resetAndDestroy();
        return;
      }
      client.write(chunk);
    });
  }
}
