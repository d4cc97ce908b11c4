/**
 * Interim (1xx) responses, removed before undici reads the connection. RFC 9110 §15.2: a client must be
 * able to parse one or more 1xx responses before the final one, even when it did not expect any, and may
 * ignore them. undici's HTTP/1.1 client destroys the connection on a `100 Continue` it did not ask for
 * ("bad response"; nodejs/undici#197 left it so), and on a `101` to a request without Upgrade ("bad
 * upgrade"). harbor-wait sends one GET without a body and without Expect, so the only response it wants is
 * the final one: the stream undici is given starts there.
 *
 * A 101 Switching Protocols cannot be skipped: after it the server speaks another protocol, and a GET that
 * asked for no upgrade must not get one (§15.2.2, §7.8). It is reported as UNSOLICITED_UPGRADE.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { builtin } from '../../basics/builtin.ts';
import { NotReady } from '../../basics/errors.ts';
import { scrubText } from '../../basics/redact.ts';

/** What the filter is told and tells. */
export interface InterimOptions {
  /** `host:port`, for reasons. */
  readonly peer: string;
  /** The most bytes of interim heads (and of one head still being read) before it is HEAD_TOO_LARGE. */
  readonly maxBytes: number;
  /** Called once, with the first bytes given on after one or more interim heads were dropped. */
  readonly onFinalStart?: (first: Buffer) => void;
}

/** `HTTP/d.d ddd`: the start of a status line, `d` a digit. */
const STATUS_LINE = 'HTTP/d.d ddd';

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

/**
 * The status of the status line `buf` starts with; `'more'` while `buf` is a prefix of one; undefined when
 * it does not start like a status line at all (undici then says what it is: NOT_HTTP).
 */
export function statusOf(buf: Buffer): number | 'more' | undefined {
  const n = Math.min(buf.length, STATUS_LINE.length);
  for (let i = 0; i < n; i++) {
    const want = STATUS_LINE.charCodeAt(i);
    const ok = want === 0x64 /* d */ ? isDigit(buf[i]) : buf[i] === want;
    if (!ok) return undefined;
  }
  if (buf.length < STATUS_LINE.length) return 'more';
  return Number(buf.subarray(9, 12).toString('latin1'));
}

/** The offset just past the blank line that ends the head at the start of `buf` (CRLF or bare LF lines), or -1. */
export function headEnd(buf: Buffer): number {
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) {
    const next = buf[i + 1] === 0x0d ? i + 2 : i + 1;
    if (buf[next] === 0x0a) return next + 1;
  }
  return -1;
}

/** A header's value in a head, one line, printable, at most 40 characters; undefined when absent. */
function headerValue(head: Buffer, name: string): string | undefined {
  const line = head
    .toString('latin1')
    .split(/\r?\n/)
    .find((l) => l.toLowerCase().startsWith(`${name}:`));
  if (line === undefined) return undefined;
  const value = line.slice(name.length + 1).trim().replace(/[^\x20-\x7e]/g, '?');
  return value.length > 40 ? `${value.slice(0, 40)}...` : value;
}

/**
 * A stream over `raw` for undici: writes go to `raw` as they are; what is read is what `raw` receives,
 * less any 1xx heads (but 101) before the final response. A 101, or interim heads past the limit, destroy
 * the stream with a NotReady that undici hands back as the request's error.
 */
export function withoutInterim(raw: net.Socket, o: InterimOptions): Duplex {
  let pending: Buffer = Buffer.alloc(0);
  let passing = false;
  let skipped = 0;
  let endPushed = false;

  const give = (chunk: Buffer) => {
    if (chunk.length > 0 && !stream.push(chunk)) raw.pause();
  };

  const fail = (err: NotReady) => {
    pending = Buffer.alloc(0);
    stream.destroy(err);
  };

  /** Reads interim heads off `pending` until the final response starts (or more bytes are needed). */
  const sift = () => {
    for (;;) {
      // Blank lines between messages are ignored, as llhttp ignores them before a status line.
      if (skipped > 0) {
        let i = 0;
        while (pending[i] === 0x0d || pending[i] === 0x0a) i++;
        pending = pending.subarray(i);
        if (pending.length === 0) return;
      }
      const status = statusOf(pending);
      if (status === 'more') return;
      if (status === undefined || status < 100 || status > 199) {
        passing = true;
        if (skipped > 0) o.onFinalStart?.(pending);
        give(pending);
        pending = Buffer.alloc(0);
        return;
      }
      const end = headEnd(pending);
      if (end === -1) {
        if (skipped + pending.length > o.maxBytes) {
          fail(new NotReady('response', 'HEAD_TOO_LARGE', `${o.peer} sent more than ${o.maxBytes} bytes of interim (1xx) responses without a final one`));
        }
        return;
      }
      const head = pending.subarray(0, end);
      if (status === 101) {
        const upgrade = headerValue(head, 'upgrade');
        const to = upgrade !== undefined ? ` (to "${scrubText(upgrade)}")` : '';
        fail(
          new NotReady(
            'response',
            'UNSOLICITED_UPGRADE',
            `${o.peer} answered 101 Switching Protocols${to} to a GET that asked for no upgrade: a protocol violation (RFC 9110 §15.2.2); what follows is not HTTP, so there is no status to judge`,
          ),
        );
        return;
      }
      skipped += end;
      if (skipped > o.maxBytes) {
        fail(new NotReady('response', 'HEAD_TOO_LARGE', `${o.peer} sent more than ${o.maxBytes} bytes of interim (1xx) responses without a final one`));
        return;
      }
      pending = pending.subarray(end);
    }
  };

  const { Duplex } = builtin('node:stream');
  const stream: Duplex = new Duplex({
    allowHalfOpen: false,
    read() {
      raw.resume();
    },
    write(chunk: Buffer, encoding, callback) {
      // A write error is not passed on here: the socket reports it as its own 'error' (below), after the
      // wire has seen it; handing it to undici first would destroy the socket before it could say ECONNRESET.
      if (raw.write(chunk, encoding)) callback();
      else raw.once('drain', () => callback());
    },
    final(callback) {
      raw.end();
      callback();
    },
    destroy(err, callback) {
      raw.destroy();
      callback(err);
    },
  });

  raw.on('data', (chunk: Buffer) => {
    if (stream.destroyed) return;
    if (passing) return give(chunk);
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    sift();
  });
  raw.on('end', () => {
    if (stream.destroyed || endPushed) return;
    // What was held back while it could still have been an interim head is given on as it is.
    if (!passing) give(pending);
    pending = Buffer.alloc(0);
    endPushed = true;
    stream.push(null);
  });
  raw.on('error', (err) => {
    if (!stream.destroyed) stream.destroy(err);
  });
  raw.on('close', () => {
    if (stream.destroyed) return;
    // Like a socket's own: its data is read to the end first, then it closes.
    if (stream.readableEnded) stream.destroy();
    else {
      if (!endPushed) {
        endPushed = true;
        if (!passing) give(pending);
        stream.push(null);
      }
      stream.once('end', () => stream.destroy());
    }
  });
  return stream;
}
