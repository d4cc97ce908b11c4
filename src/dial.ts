/**
 * Opens one connection, stage by stage: DNS lookup, TCP connect, TLS handshake. Every protocol uses it,
 * so stages, error codes, the reported address and cancellation are the same for all of them.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { builtin } from './builtin.ts';
import { abortable } from './abort.ts';
import { classify, NotReady, preview, type Stage } from './errors.ts';
import type { Lookup, Progress, TlsSettings } from './targets/types.ts';

export interface DialOptions {
  readonly host: string;
  readonly port: number;
  /** Present for TLS: the options for tls.connect (see tlsOptions). */
  readonly tls?: tls.ConnectionOptions | undefined;
  readonly lookup: Lookup;
  readonly signal: AbortSignal;
  readonly progress: Progress;
}

export interface Dialed {
  readonly socket: net.Socket;
  /** `ip:port` connected to. */
  readonly address: string;
}

/**
 * Whether `host` is an IP address rather than a name. The URL parser has already checked the host, so a
 * colon means IPv6 and four dotted numbers mean IPv4. (node:net's isIP compiles a large IPv6 pattern on
 * first use: 5 ms of start-up.)
 */
export function isIpLiteral(host: string): boolean {
  return host.includes(':') || IPV4.test(host);
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;

/**
 * Given to net.connect so that it never resolves a name itself: names go through the injected Lookup, and
 * an address node:net does not accept as one fails here instead of becoming a DNS query.
 */
function noLookup(hostname: string, _options: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  const err = Object.assign(new Error(`"${hostname}" is not an IP address`), { code: 'EINVAL' });
  callback(err, '', 0);
}

/** `host:port`, with brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * TLS options for a target: verification on unless skipped; an extra CA is trusted besides Node's defaults.
 * The secure context is built here, once per target, not on every attempt. node:tls is fetched here and in
 * dial(), never at start: loading it (and OpenSSL's setup behind it) costs more start-up time than all of
 * harbor-wait's own code, and a run with only plain targets never needs it. Async so that a bad certificate
 * or key surfaces in each attempt, as the other TLS failures do.
 */
export async function tlsOptions(settings: TlsSettings, skipVerify = false): Promise<tls.ConnectionOptions> {
  const { createSecureContext, getCACertificates } = builtin('node:tls');
  const secureContext = createSecureContext({
    ...(settings.ca !== undefined ? { ca: [...getCACertificates('default'), settings.ca] } : {}),
    ...(settings.cert !== undefined ? { cert: settings.cert, key: settings.key } : {}),
    minVersion: 'TLSv1.2',
  });
  return { secureContext, rejectUnauthorized: !(settings.insecureSkipVerify || skipVerify) };
}

/** Waits for `event` on `socket`; rejects on 'error' or abort. Leaves no listener behind. */
function until(socket: net.Socket, event: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      socket.off(event, onEvent);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const onEvent = () => {
      done();
      resolve();
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onAbort = () => {
      done();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    socket.once(event, onEvent);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Connects to host:port (and does the TLS handshake when `tls` is given). On failure everything opened is
 * destroyed and the error is NotReady with its stage; on abort it rejects with `signal.reason`. The caller
 * owns the returned socket and must destroy it.
 */
export async function dial(o: DialOptions): Promise<Dialed> {
  const peer = hostPort(o.host, o.port);
  o.progress.stage = 'dns';
  let ip = o.host;
  if (!isIpLiteral(o.host)) {
    try {
      ip = (await abortable(o.lookup(o.host), o.signal)).address;
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      throw classify(err, 'dns', peer);
    }
  }

  o.progress.stage = 'connect';
  const raw = builtin('node:net').connect({ host: ip, port: o.port, lookup: noLookup });
  // Errors after hand-over reach the consumer's own listeners; this one keeps a late error from crashing us.
  raw.on('error', () => {});
  let socket: net.Socket = raw;
  try {
    await until(raw, 'connect', o.signal);
    if (o.tls) {
      o.progress.stage = 'tls';
      const secure = builtin('node:tls').connect({
        ...o.tls,
        socket: raw,
        host: o.host,
        ...(isIpLiteral(o.host) ? {} : { servername: o.host }),
      });
      secure.on('error', () => {});
      socket = secure;
      await until(secure, 'secureConnect', o.signal);
    }
  } catch (err) {
    socket.destroy();
    raw.destroy();
    if (o.signal.aborted) throw o.signal.reason;
    throw classify(err, o.progress.stage, peer);
  }
  return { socket, address: hostPort(raw.remoteAddress ?? ip, raw.remotePort ?? o.port) };
}

/**
 * What happened on the wire of one dialed connection, seen beside the protocol library's own listeners: it
 * tells a lost or reset connection from an answer the library could not parse, by the socket's events
 * rather than by a library's message text.
 */
export interface Wire {
  /** The first bytes the peer sent, for a reason that says what it speaks instead. */
  head: Buffer;
  received: number;
  /** The socket's own first error (ECONNRESET, ...), if it came before the peer ended the connection. */
  error: Error | undefined;
  /** The peer ended the connection. */
  lost: boolean;
  /** We cut it off because the peer sent more than the limit. */
  tooLarge: boolean;
}

/** Watches `socket` (without changing how it is read), and destroys it once the peer has sent more than `maxBytes`. */
export function watchWire(socket: net.Socket, maxBytes = Infinity): Wire {
  const wire: Wire = { head: Buffer.alloc(0), received: 0, error: undefined, lost: false, tooLarge: false };
  socket.on('data', (chunk: Buffer) => {
    if (wire.head.length < 24) wire.head = Buffer.concat([wire.head, chunk]).subarray(0, 24);
    wire.received += chunk.length;
    if (wire.received > maxBytes && !wire.tooLarge) {
      wire.tooLarge = true;
      socket.destroy();
    }
  });
  // After the peer has ended the connection, an error is the library's word for that (undici destroys the
  // socket with its own "other side closed"): the end is what happened.
  socket.on('error', (err) => {
    if (!wire.lost) wire.error ??= err;
  });
  socket.on('end', () => (wire.lost = true));
  return wire;
}

/**
 * The failure the wire itself shows, if any: the socket's error, or the peer closing without an answer
 * (CONNECTION_CLOSED). `hint` is added where a plain client meeting a TLS port would see just that.
 */
export function wireError(wire: Wire, stage: Stage, peer: string, hint: string): NotReady | undefined {
  if (wire.error) {
    const notReady = classify(wire.error, stage, peer);
    return notReady.code === 'ECONNRESET' ? new NotReady(notReady.stage, notReady.code, `${notReady.reason}${hint}`) : notReady;
  }
  if (wire.lost || wire.received === 0) {
    // What it said before it closed, if anything (a Redis at maxclients greets with "-ERR max number of clients").
    const said = wire.received > 0 ? `, after sending "${preview(wire.head)}"` : '';
    return new NotReady(stage, 'CONNECTION_CLOSED', `${peer} closed the connection before answering${said}${hint}`);
  }
  return undefined;
}
