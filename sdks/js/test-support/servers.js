// Local servers for the tests, on the loopback at port 0.
import http from 'node:http';
import net from 'node:net';

/**
 * An HTTP server answering with `handler(req, body, n)` → {status, headers, body}; records
 * every request (method, url, headers, body).
 */
export async function stubServer(handler) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') });
      const answer = await handler(req, body, requests.length);
      if (answer === 'hang') return; // never answer
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      const { status = 200, headers = {}, body: out } = answer;
      const text = out === undefined ? '' : typeof out === 'string' ? out : JSON.stringify(out);
      res.writeHead(status, {
        'content-type': typeof out === 'string' ? 'text/plain' : 'application/json',
        'x-request-id': `req_${requests.length}`,
        ...headers,
      });
      res.end(text);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

/** A TCP server that accepts connections, reads, and never answers. */
export async function silentServer() {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    connections: () => sockets.size,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
