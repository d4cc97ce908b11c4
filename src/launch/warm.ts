/**
 * Makes the V8 code cache for the program: `node harbor-wait-warm.cjs` (beside harbor-wait.cjs) runs
 * harbor-wait once and, when it exits, writes the code of every function compiled so far to
 * harbor-wait.code-cache. The run checks, once each, a Redis and an HTTP server that this script answers
 * for on loopback (so the paths of a ready target get compiled), a PostgreSQL that answers every login
 * with "starting up" (pg's login and error paths), and a loopback port where nothing listens
 * (the paths of a refused one). Run it with the node that will run harbor-wait (the image's own): V8
 * accepts a cache only from the same build. A build tool: harbor-wait itself never needs this file.
 */
import type { AddressInfo, Server } from 'node:net';
import { CODE_CACHE, codeCacheFile, compileProgram, runProgram } from './program.ts';

const fs = process.getBuiltinModule('node:fs');
const net = process.getBuiltinModule('node:net');

/** A loopback server that gives every connection `answer` once, whatever it is sent, and closes it. */
function answering(answer: string | Buffer): Promise<Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(answer));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const port = (s: Server) => (s.address() as AddressInfo).port;

/** A PostgreSQL server's ErrorResponse to a login: what a server that is starting up answers. */
function pgStartingUp(): Buffer {
  const body = Buffer.from('SFATAL\0C57P03\0Mthe database system is starting up\0\0', 'latin1');
  const head = Buffer.alloc(5);
  head.write('E', 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

// No top-level await: this file is bundled as CommonJS.
void (async () => {
  const entry = `${__dirname}/harbor-wait.cjs`;
  const { source, id } = require(entry) as { source: string; id: string };
  const script = compileProgram(source, entry, undefined);
  const redis = await answering('+PONG\r\n');
  const http = await answering('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  const postgres = await answering(pgStartingUp());
  process.argv.splice(
    1,
    Infinity,
    entry,
    ...['--once', '--log-level', 'debug', `redis://127.0.0.1:${port(redis)}`, `http://127.0.0.1:${port(http)}/`],
    ...[`postgres://harbor-wait@127.0.0.1:${port(postgres)}/registry?sslmode=disable`, `tcp://127.0.0.1:${port(redis)}`, 'tcp://127.0.0.1:1'],
  );

  // The program writes its log lines with fs.writeSync(1, ...); a warm-up has nothing to say.
  const writeSync = fs.writeSync;
  fs.writeSync = ((fd: number, buffer: Buffer, offset: number | null | undefined, ...rest: unknown[]) =>
    fd === 1 ? buffer.length - (offset ?? 0) : (writeSync as (...a: unknown[]) => number)(fd, buffer, offset, ...rest)) as typeof fs.writeSync;

  process.on('exit', () => {
    fs.writeFileSync(`${__dirname}/${CODE_CACHE}`, codeCacheFile(id, script.createCachedData()));
    process.exitCode = 0; // the run itself fails, as it should: nothing listens on port 1
  });
  runProgram(script, entry, __dirname, require);
})();
