import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestClient, TestReply } from './app-spec.js';

/** Serves `listener` on 127.0.0.1 (a free port) and talks to it over real TCP with node:http. */
export async function serve(listener: http.RequestListener): Promise<TestClient> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true });
  return {
    get: (url, headers = {}) =>
      new Promise<TestReply>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: url, method: 'GET', headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const setCookie = res.headers['set-cookie'] ?? [];
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              setCookies: setCookie,
              header: (name) => {
                const value = res.headers[name.toLowerCase()];
                return Array.isArray(value) ? value.join(', ') : value;
              },
            });
          });
        });
        req.on('error', reject);
        req.end();
      }),
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
