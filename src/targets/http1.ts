/**
 * One HTTP/1.1 GET on a socket dial() opened, read only as far as the status of the final response head.
 * A readiness check needs the status code and nothing after it: the body is never read (core's 200 body
 * holds its database password, and a body may never end), so neither chunked decoding nor keep-alive is
 * needed. Written here rather than with node:http, whose loading and request machinery took 5 ms of
 * start-up, more than the rest of the check.
 */
import type net from 'node:net';
import { preview, ProtocolError } from '../errors.ts';

/** A response head larger than this is not from a server worth waiting for. */
export const MAX_HEAD_BYTES = 64 * 1024;

const VALID_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: |$)/;

/** The request head. Header values come from configuration, which rejects line breaks; this re-checks. */
export function encodeRequest(path: string, headers: Readonly<Record<string, string>>): Buffer {
  const lines = [`GET ${path} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    if (!VALID_VALUE.test(value) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new TypeError(`header ${name} holds a character HTTP does not allow`);
    }
    lines.push(`${name}: ${value}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/**
 * The status of the final response head in `buf`, skipping interim 1xx heads (100 Continue, 103 Early
 * Hints); undefined while the head is incomplete. Throws ProtocolError when it is not HTTP/1.x.
 */
export function parseStatus(buf: Buffer): number | undefined {
  let pos = 0;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', pos);
    const firstLine = buf.toString('latin1', pos, lineEnd < 0 ? Math.min(buf.length, pos + 16) : lineEnd);
    const match = STATUS_LINE.exec(firstLine);
    // Judge the start as soon as it can be told apart from HTTP, so a server that speaks something else
    // is named at once rather than at the timeout.
    if (!match && (lineEnd >= 0 || !'HTTP/1.'.startsWith(firstLine.slice(0, 7)))) {
      throw new ProtocolError('NOT_HTTP', `answered with something that is not HTTP/1.x, beginning "${preview(buf.subarray(pos))}"`);
    }
    const headEnd = buf.indexOf('\r\n\r\n', pos);
    if (!match || headEnd < 0) return undefined;
    const status = Number(match[1]);
    if (status >= 200 || status === 101) return status;
    pos = headEnd + 4; // an interim response: the real one follows
  }
}

/** An error for a connection that ended before the head; its message says "closed", as classify() expects. */
function closed(): Error {
  return new Error('the connection closed before the response head');
}

/** Sends a GET for `path` and resolves with the final status. The caller owns the socket and destroys it. */
export function requestStatus(socket: net.Socket, path: string, headers: Readonly<Record<string, string>>): Promise<number> {
  const request = encodeRequest(path, headers);
  return new Promise<number>((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const done = (err: unknown, status?: number) => {
      socket.off('data', onData);
      socket.off('error', done);
      socket.off('close', onClose);
      if (status === undefined) reject(err);
      else resolve(status);
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let status: number | undefined;
      try {
        status = parseStatus(buffered);
      } catch (err) {
        return done(err);
      }
      if (status !== undefined) return done(null, status);
      if (buffered.length > MAX_HEAD_BYTES) {
        done(new ProtocolError('HEAD_TOO_LARGE', `sent more than ${MAX_HEAD_BYTES} bytes without ending the response head`));
      }
    };
    const onClose = () => done(closed());
    socket.on('data', onData);
    socket.on('error', done);
    socket.on('close', onClose);
    socket.write(request);
  });
}
