/**
 * A scripted Redis (or Sentinel) on loopback: it reads the commands a client sends (RESP arrays of bulk
 * strings, as ioredis writes them) and answers each with what the test's script returns, as raw RESP. For
 * replies a real server never sends: a sentinel naming a master at port "NaN", a ROLE that is a bulk string,
 * error replies whose first word changes on every attempt.
 */
import net from 'node:net';

/** The raw RESP of a reply. */
export const resp = {
  simple: (text: string) => `+${text}\r\n`,
  error: (text: string) => `-${text}\r\n`,
  int: (n: number) => `:${n}\r\n`,
  bulk: (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`,
  nil: '$-1\r\n',
  nilArray: '*-1\r\n',
  array: (items: readonly string[]) => `*${items.length}\r\n${items.join('')}`,
};

/** What the script answers to one command (its name upper-cased, then its arguments); undefined: no answer. */
export type Script = (command: string, args: readonly string[]) => string | undefined;

export interface ScriptedRedis {
  readonly port: number;
  /** Every command received, in order, as `NAME arg...` (arguments as sent). */
  readonly commands: string[];
  close(): Promise<void>;
}

/** The commands complete in `buf` (RESP arrays of bulk strings), and what is left of it. */
function parseCommands(buf: Buffer): { commands: string[][]; rest: Buffer } {
  const commands: string[][] = [];
  let at = 0;
  for (;;) {
    const start = at;
    const line = (): string | undefined => {
      const end = buf.indexOf('\r\n', at);
      if (end < 0) return undefined;
      const text = buf.subarray(at, end).toString('latin1');
      at = end + 2;
      return text;
    };
    const head = line();
    if (head === undefined) return { commands, rest: buf.subarray(start) };
    if (!head.startsWith('*')) {
      // An inline command (a person typing): words separated by spaces.
      commands.push(head.split(' ').filter((w) => w !== ''));
      continue;
    }
    const n = Number(head.slice(1));
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      const size = line();
      if (size === undefined || !size.startsWith('$')) return { commands, rest: buf.subarray(start) };
      const len = Number(size.slice(1));
      if (buf.length < at + len + 2) return { commands, rest: buf.subarray(start) };
      args.push(buf.subarray(at, at + len).toString('utf8'));
      at += len + 2;
    }
    commands.push(args);
  }
}

export async function startScriptedRedis(script: Script): Promise<ScriptedRedis> {
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const parsed = parseCommands(Buffer.concat([pending, chunk]));
      pending = parsed.rest;
      for (const [name = '', ...args] of parsed.commands) {
        commands.push([name.toUpperCase(), ...args].join(' '));
        const reply = script(name.toUpperCase(), args);
        if (reply !== undefined && !socket.destroyed) socket.write(reply);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A script for a healthy master: AUTH and SELECT OK, PING PONG, ROLE master; `over` answers first where it returns a reply. */
export function masterScript(over: Script = () => undefined): Script {
  return (command, args) => {
    const special = over(command, args);
    if (special !== undefined) return special;
    switch (command) {
      case 'AUTH':
      case 'SELECT':
        return resp.simple('OK');
      case 'PING':
        return resp.simple('PONG');
      case 'ROLE':
        return resp.array([resp.bulk('master'), resp.int(0), resp.array([])]);
      default:
        return resp.error(`ERR unknown command '${command.toLowerCase()}'`);
    }
  };
}
