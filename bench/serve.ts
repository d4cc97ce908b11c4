/**
 * `node bench/serve.ts http|silent`: a dependency for the bench, on 127.0.0.1 and a port the kernel picks;
 * prints `port N` once listening. `http` answers 200 to every request (HEAD too: wait-on sends HEAD);
 * `silent` accepts and never answers, closing its side when the client goes.
 */
import http from 'node:http';
import net from 'node:net';

const kind = process.argv[2];

function announce(server: net.Server): void {
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`port ${(server.address() as net.AddressInfo).port}\n`);
  });
}

if (kind === 'http') {
  announce(
    http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
      res.end(req.method === 'HEAD' ? undefined : 'ok\n');
    }),
  );
} else if (kind === 'silent') {
  announce(
    net.createServer((socket) => {
      socket.on('error', () => {});
      socket.on('end', () => socket.destroy());
      socket.resume();
    }),
  );
} else {
  process.stderr.write('usage: node bench/serve.ts http|silent\n');
  process.exit(2);
}

// Stopped by the bench with SIGTERM (to its process group).
process.on('SIGTERM', () => process.exit(0));
