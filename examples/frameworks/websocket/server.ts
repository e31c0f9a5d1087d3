// WebSockets (node:http + ws): the session is read in the HTTP `upgrade`, before the socket is
// accepted; without a logged-in session (or from a foreign Origin) the upgrade is refused.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Backend } from 'sessionkit';
import { SessionEngine } from 'sessionkit/http';
import { withSession } from 'sessionkit/node';

interface ChatSession {
  user?: string;
}

/** Answers a refused upgrade on the raw socket (no WebSocket exists yet) and closes it. */
function refuse(socket: Duplex, status: 401 | 403 | 503, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** An HTTP server with `GET /login?user=` (sets the session) and a WebSocket echo for logged-in users. */
export function chatServer(backend: Backend, allowedOrigin: string): http.Server {
  const engine = new SessionEngine<ChatSession>(backend);
  const sockets = new WebSocketServer({ noServer: true });
  const server = http.createServer(
    withSession<ChatSession>(backend, {}, (req, res, session) => {
      const user = new URL(req.url ?? '/', 'http://localhost').searchParams.get('user');
      if (user) {
        session.regenerate();
        session.set('user', user);
      }
      res.end(session.get('user') ?? '');
    }),
  );
  server.on('upgrade', async (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    // Browsers send cookies on cross-site WebSocket handshakes too: check Origin (CSWSH).
    if (req.headers.origin !== allowedOrigin) return refuse(socket, 403, 'Forbidden');
    let user: string | undefined;
    try {
      // Read only: an upgrade has no response that could carry a renewed cookie.
      user = (await engine.load(req.headers.cookie)).session.get('user');
    } catch {
      return refuse(socket, 503, 'Service Unavailable');
    }
    if (user === undefined) return refuse(socket, 401, 'Unauthorized');
    sockets.handleUpgrade(req, socket, head, (ws) => {
      ws.send(`hello ${user}`);
      ws.on('message', (message) => ws.send(`${user}: ${String(message)}`));
    });
  });
  server.on('close', () => sockets.close());
  return server;
}
