/**
 * Misbehaving servers on loopback, for the fault-injection tests: TCP servers that accept and then stay
 * silent, answer half a reply, send headers forever, stream an endless body or reset the connection; a
 * listener that never accepts (so a connect hangs); and a look at the kernel's socket table to prove that no
 * connection was left behind.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { startProcess } from './processes.ts';

/** One connection a faulty server accepted: what it received and whether it is closed. */
export interface Accepted {
  readonly socket: net.Socket;
  /** The first bytes received (at most 64 KiB: enough for a request head or a ClientHello). */
  received: Buffer;
  /** Every byte received, counted. */
  bytesIn: number;
  /** Every byte the fault wrote, counted (written to the kernel, not necessarily read by the peer). */
  bytesOut: number;
  closed: boolean;
}

export interface FaultyServer {
  readonly port: number;
  /** Every connection accepted so far, in order. */
  readonly connections: readonly Accepted[];
  /** Connections not closed yet. */
  open(): number;
  /** The most connections that were open at once: more than one per target means attempts left theirs open. */
  peakOpen(): number;
  close(): Promise<void>;
}

/** What a faulty server does with each connection it accepts. */
export type Fault = (conn: Accepted) => void;

const KEEP = 64 * 1024;

/** A TCP server on 127.0.0.1 (on `port`, else a free one) that treats every connection with `fault`. */
export async function startFaulty(fault: Fault, port = 0): Promise<FaultyServer> {
  const connections: Accepted[] = [];
  const open = () => connections.filter((c) => !c.closed).length;
  let peak = 0;
  const server = net.createServer((socket) => {
    const conn: Accepted = { socket, received: Buffer.alloc(0), bytesIn: 0, bytesOut: 0, closed: false };
    connections.push(conn);
    peak = Math.max(peak, open());
    socket.on('data', (d: Buffer) => {
      conn.bytesIn += d.length;
      if (conn.received.length < KEEP) conn.received = Buffer.concat([conn.received, d]).subarray(0, KEEP);
    });
    socket.on('error', () => {}); // a reset from the client is one of the things these servers live with
    socket.on('close', () => (conn.closed = true));
    fault(conn);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    open,
    peakOpen: () => peak,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes `data` on the connection, counting it. */
function send(conn: Accepted, data: string | Buffer): boolean {
  if (conn.socket.destroyed) return false;
  conn.bytesOut += Buffer.byteLength(data);
  return conn.socket.write(data);
}

/** Runs `then` once the peer has sent its first bytes (a command, a request head, a ClientHello). */
function onFirstData(conn: Accepted, then: () => void): void {
  conn.socket.once('data', then);
}

/** Accepts, reads and drops everything, never answers. */
export const silent: Fault = () => {};

/** Answers the first bytes received with `text` (no end of line), then says nothing more. */
export function halfReply(text: string): Fault {
  return (conn) => onFirstData(conn, () => send(conn, text));
}

/** Answers with a status line, then one more header line every `everyMs`, never the blank line that ends them. */
export function endlessHeaders(everyMs: number): Fault {
  return (conn) =>
    onFirstData(conn, () => {
      send(conn, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n');
      let n = 0;
      const timer = setInterval(() => send(conn, `X-Still-Coming-${n++}: ${'x'.repeat(16)}\r\n`), everyMs);
      conn.socket.on('close', () => clearInterval(timer));
    });
}

/**
 * Once a request head has arrived, answers 200 and streams `chunk` as the body for ever (the body ends only
 * with the connection), as fast as the peer's socket takes it. Stops at `capBytes`, a safety net far above
 * anything a test accepts.
 */
export function endlessBody(chunk: Buffer, capBytes = 512 * 1024 * 1024): Fault {
  return (conn) => {
    let started = false;
    conn.socket.on('data', () => {
      if (started || !conn.received.includes('\r\n\r\n')) return;
      started = true;
      send(conn, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n');
      const pump = (): void => {
        while (conn.bytesOut < capBytes) {
          if (!send(conn, chunk)) {
            conn.socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  };
}

/** Resets the connection (RST, not FIN) as soon as it is accepted. */
export const resetOnAccept: Fault = (conn) => {
  conn.socket.resetAndDestroy();
};

/** Resets the connection as soon as the peer's first bytes arrive: for TLS, right after the ClientHello. */
export const resetOnFirstData: Fault = (conn) => onFirstData(conn, () => conn.socket.resetAndDestroy());

/** Sends `text` as soon as the connection is accepted and closes it (FIN): a Redis at maxclients does this. */
export function greetAndClose(text: string): Fault {
  return (conn) => {
    send(conn, text);
    conn.socket.end();
  };
}

/** Closes the connection in order (FIN) as soon as the peer's first bytes arrive, without a word. */
export const closeOnFirstData: Fault = (conn) => onFirstData(conn, () => conn.socket.end());

/** True when `bytes` start like a TLS handshake record holding a ClientHello. */
export function isClientHello(bytes: Buffer): boolean {
  return bytes.length >= 6 && bytes[0] === 0x16 && bytes[1] === 0x03 && bytes[5] === 0x01;
}

/**
 * A listener whose accept queue is full, so that the kernel drops every further SYN and a connect to it
 * hangs (Linux). Node's net.Server accepts every connection, so a small python3 process listens with a
 * backlog of 0 and never accepts; the test then fills the queue with its own connections.
 */
export interface Unaccepting {
  readonly port: number;
  /** The local ports of the connections that fill the queue, to tell them from anyone else's. */
  readonly fillerPorts: readonly number[];
  stop(): Promise<void>;
}

const NEVER_ACCEPT = [
  'import socket, sys, time',
  's = socket.socket(socket.AF_INET, socket.SOCK_STREAM)',
  "s.bind(('127.0.0.1', 0))",
  's.listen(0)',
  'print(s.getsockname()[1], flush=True)',
  'while True: time.sleep(3600)',
].join('\n');

/** Connects to 127.0.0.1:port; resolves with the socket, or with undefined when no answer came within `ms`. */
function tryConnect(port: number, ms: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

export async function startUnaccepting(): Promise<Unaccepting> {
  const proc = await startProcess('python3', ['-c', NEVER_ACCEPT]);
  const port = await new Promise<number>((resolve, reject) => {
    const until = Date.now() + 10_000;
    const poll = () => {
      const line = /^(\d+)\n/.exec(proc.output());
      if (line) return resolve(Number(line[1]));
      if (proc.child.exitCode !== null || Date.now() > until) {
        return reject(new Error(`python3 did not report its port: ${proc.output()}`));
      }
      setTimeout(poll, 20);
    };
    poll();
  });
  // Fill the accept queue: connections complete until it is full; the first one that hangs proves it is.
  const fillers: net.Socket[] = [];
  for (;;) {
    const socket = await tryConnect(port, 300);
    if (!socket) break;
    fillers.push(socket);
    if (fillers.length > 16) throw new Error(`the accept queue of 127.0.0.1:${port} never filled up`);
  }
  return {
    port,
    fillerPorts: fillers.map((s) => s.localPort as number),
    async stop() {
      for (const s of fillers) s.destroy();
      await proc.stop();
    },
  };
}

/** A TCP socket of this machine as /proc/net/tcp{,6} lists it. */
export interface KernelSocket {
  readonly localPort: number;
  readonly remotePort: number;
  /** The kernel's state name: ESTABLISHED, SYN_SENT, CLOSE_WAIT, ... */
  readonly state: string;
}

const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING'];

/**
 * Client-side sockets of any process on this machine that point at loopback `port`, except those in
 * TIME_WAIT (closed, only remembered by the kernel). A connection or connect attempt left behind shows here.
 */
export function socketsTo(port: number): KernelSocket[] {
  const found: KernelSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, remote, st] = line.trim().split(/\s+/);
      if (!local || !remote || !st) continue;
      const remotePort = parseInt(remote.split(':')[1] ?? '', 16);
      const state = TCP_STATES[parseInt(st, 16)] ?? st;
      if (remotePort === port && state !== 'TIME_WAIT') {
        found.push({ localPort: parseInt(local.split(':')[1] ?? '', 16), remotePort, state });
      }
    }
  }
  return found;
}
