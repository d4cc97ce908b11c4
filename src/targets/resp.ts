/**
 * Just enough of RESP2, Redis's protocol, for a readiness check: one command at a time on a socket that
 * dial() opened, and a parser for the five reply types. Written here rather than taken from a client
 * library: a check sends at most five commands, and a full client (its reconnects, queues, cluster and
 * script support) cost more start-up time than the rest of harbor-wait.
 */
import type net from 'node:net';
import { preview, ProtocolError } from '../errors.ts';

/** A parsed reply. Bulk strings are decoded as UTF-8; nil is null. */
export type Reply = string | number | null | ReplyError | Reply[];

/** An error reply (`-WRONGPASS invalid username-password pair`): the server's words, first word a code. */
export class ReplyError extends Error {
  override readonly name = 'ReplyError';
}

/** Replies to PING, AUTH, SELECT, ROLE and SENTINEL are small; a peer sending more is not a Redis to wait for. */
export const MAX_REPLY_BYTES = 1 << 20;

/** A command as RESP sends it: an array of bulk strings. */
export function encodeCommand(args: ReadonlyArray<string | number>): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) {
    const text = String(arg);
    parts.push(`$${Buffer.byteLength(text)}\r\n${text}\r\n`);
  }
  return Buffer.from(parts.join(''));
}

/**
 * Parses one reply starting at `pos`. Returns the reply and the offset after it, or undefined when the
 * buffer does not hold the whole reply yet. Throws ProtocolError on bytes that are not RESP2.
 */
export function parseReply(buf: Buffer, pos = 0): { reply: Reply; next: number } | undefined {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) {
    if (pos < buf.length && !'+-:$*'.includes(String.fromCharCode(buf[pos] as number))) throw notRedis(buf, pos);
    return undefined;
  }
  const type = String.fromCharCode(buf[pos] as number);
  const line = buf.toString('utf8', pos + 1, eol);
  const after = eol + 2;
  switch (type) {
    case '+':
      return { reply: line, next: after };
    case '-':
      return { reply: new ReplyError(line), next: after };
    case ':':
      return { reply: integer(line, buf, pos), next: after };
    case '$': {
      const length = integer(line, buf, pos);
      if (length < 0) return { reply: null, next: after };
      if (buf.length < after + length + 2) return undefined;
      return { reply: buf.toString('utf8', after, after + length), next: after + length + 2 };
    }
    case '*': {
      const count = integer(line, buf, pos);
      if (count < 0) return { reply: null, next: after };
      const items: Reply[] = [];
      let next = after;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, next);
        if (!item) return undefined;
        items.push(item.reply);
        next = item.next;
      }
      return { reply: items, next };
    }
    default:
      throw notRedis(buf, pos);
  }
}

function integer(text: string, buf: Buffer, pos: number): number {
  if (!/^-?\d{1,15}$/.test(text)) throw notRedis(buf, pos);
  return Number(text);
}

function notRedis(buf: Buffer, pos: number): ProtocolError {
  return new ProtocolError('NOT_REDIS', `answered with something that is not a Redis reply, beginning "${preview(buf.subarray(pos))}"`);
}

/** An error for a connection that ended before the reply; its message says "closed", as classify() expects. */
function closed(): Error {
  return new Error('the connection closed before the reply');
}

export interface RespConnection {
  /** Sends one command and resolves with its reply (an error reply included). Rejects when the connection fails. */
  command(args: ReadonlyArray<string | number>): Promise<Reply>;
}

/** Speaks RESP on `socket`, one command at a time. The caller owns the socket and destroys it. */
export function respConnection(socket: net.Socket): RespConnection {
  let buffered: Buffer = Buffer.alloc(0);
  let waiting: { resolve(reply: Reply): void; reject(err: unknown): void } | undefined;
  let failure: unknown;

  const fail = (err: unknown) => {
    failure ??= err;
    const w = waiting;
    waiting = undefined;
    w?.reject(failure);
  };
  // Hands a whole reply to the waiting command. Bytes that come before any command (a server that
  // greets with "-ERR max number of clients reached" and closes) are kept and answer the first one.
  const deliver = () => {
    if (!waiting) return;
    let parsed;
    try {
      parsed = parseReply(buffered);
    } catch (err) {
      fail(err);
      return;
    }
    if (!parsed) return;
    buffered = buffered.subarray(parsed.next);
    const w = waiting;
    waiting = undefined;
    w.resolve(parsed.reply);
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    if (buffered.length > MAX_REPLY_BYTES) {
      fail(new ProtocolError('REPLY_TOO_LARGE', `sent more than ${MAX_REPLY_BYTES} bytes without finishing a reply`));
      socket.destroy();
      return;
    }
    deliver();
  });
  socket.on('error', fail);
  socket.on('close', () => fail(closed()));

  return {
    command(args) {
      if (waiting) return Promise.reject(new Error('respConnection: one command at a time'));
      return new Promise<Reply>((resolve, reject) => {
        waiting = { resolve, reject };
        if (buffered.length > 0) deliver();
        if (!waiting) return;
        if (failure !== undefined) return fail(failure);
        socket.write(encodeCommand(args));
      });
    },
  };
}
