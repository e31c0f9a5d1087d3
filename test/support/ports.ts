// Ports for the servers tests start themselves.
import net from 'node:net';

/** True when nothing listens on 127.0.0.1:`port`. */
async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free loopback port in [10000, 22000); with `clusterBus`, port + 10000 (the
 * cluster bus) is free too. Both stay under Linux's ephemeral range (32768 up),
 * where an outgoing connection of another test could take the port between
 * this check and the server's bind, or while a test restarts the server.
 */
export async function freePort(clusterBus = false): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 12_000);
    if ((await portIsFree(port)) && (!clusterBus || (await portIsFree(port + 10_000)))) return port;
  }
  throw new Error('no free port found');
}
