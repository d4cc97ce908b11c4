/**
 * Opens one connection, stage by stage: DNS lookup (every address), TCP connect (each address in turn, Happy
 * Eyeballs), TLS handshake. Every protocol uses it, so stages, error codes, the reported address and
 * cancellation are the same for all of them.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { builtin } from '../basics/builtin.ts';
import { abortable } from '../basics/abort.ts';
import { NotReady, preview, type Progress, type Stage } from '../basics/errors.ts';
import { scrubText } from '../basics/redact.ts';
import { classify } from './classify.ts';

/** One address a name resolves to; `family` is 4 or 6. */
export interface Address {
  readonly address: string;
  readonly family: number;
}

/**
 * Resolves a host name to every address it has, in the resolver's order (getaddrinfo's, as `dns.lookup` with
 * `all: true` gives it). dial() tries each of them. Injectable, so tests never send a DNS query.
 */
export type Lookup = (hostname: string) => Promise<readonly Address[]>;

/** TLS settings shared by https and rediss targets. File contents, not paths. */
export interface TlsSettings {
  /** Extra CA certificates (PEM), trusted besides Node's default list. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly insecureSkipVerify: boolean;
}

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
 * RFC 8305's Connection Attempt Delay: the next address is tried this long after the last one was started,
 * or at once when an attempt fails. (Go's dialer, which Harbor's clients use, waits 300 ms before its
 * fallback family.)
 */
export const ATTEMPT_DELAY_MS = 250;

/** At most this many addresses are named in a reason; the rest are counted. */
const NAMED_ADDRESSES = 8;

/**
 * The order addresses are tried in (RFC 8305 §4): the resolver's own order within each family, the two
 * families interleaved, starting with the family of the resolver's first answer. Duplicates are dropped.
 */
export function attemptOrder(addresses: readonly Address[]): string[] {
  const seen = new Set<string>();
  const unique = addresses.filter((a) => !seen.has(a.address) && seen.add(a.address));
  const first = unique[0];
  if (!first) return [];
  const primary = unique.filter((a) => a.family === first.family).map((a) => a.address);
  const other = unique.filter((a) => a.family !== first.family).map((a) => a.address);
  const order: string[] = [];
  for (let i = 0; i < Math.max(primary.length, other.length); i++) {
    if (i < primary.length) order.push(primary[i] as string);
    if (i < other.length) order.push(other[i] as string);
  }
  return order;
}

/** How one address failed, in a word or two, for the list in a reason. */
function howFailed(address: string, err: NotReady): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'EHOSTUNREACH':
      return 'no route to the host';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'EADDRNOTAVAIL':
      return 'address not available here';
    case 'EAFNOSUPPORT':
      return 'address family not supported here';
    default: {
      // classify's own words: "<address>: <the error's message>".
      const words = err.reason.startsWith(`${address}: `) ? err.reason.slice(address.length + 2) : err.reason;
      return `failed (${scrubText(words)})`;
    }
  }
}

/**
 * The code when the addresses failed in different ways: the failure that got nearest to a server (a host
 * answered that nothing listens, then a connection reset, then silence, then no route); else the first
 * address's. When all failed the same way, that way's code.
 */
const NEAREST_FIRST = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'];

/** The error when every address failed: one code, and each address with how it failed. */
export function everyAddressFailed(peer: string, failures: ReadonlyArray<{ readonly address: string; readonly error: NotReady }>): NotReady {
  const codes = new Set(failures.map((f) => f.error.code));
  const code = codes.size === 1 ? (failures[0] as { error: NotReady }).error.code : (NEAREST_FIRST.find((c) => codes.has(c)) ?? (failures[0] as { error: NotReady }).error.code);
  const named = failures.slice(0, NAMED_ADDRESSES).map((f) => `${f.address} ${howFailed(f.address, f.error)}`);
  const more = failures.length > NAMED_ADDRESSES ? `, and ${failures.length - NAMED_ADDRESSES} more` : '';
  return new NotReady('connect', code, `connection to ${peer} failed at every address: ${named.join(', ')}${more}`);
}

/**
 * Opens a TCP connection to the first of `ips` that accepts one, as Happy Eyeballs does (RFC 8305): one
 * address at a time in order, the next started ATTEMPT_DELAY_MS after the last or at once when one fails,
 * the attempts still running when one connects destroyed. Every attempt is bounded by `signal` (the
 * attempt's timeout), and a hanging address never keeps the next from being tried. Rejects with NotReady
 * when every address failed (one address: its own error, as classify words it), or with `signal.reason`.
 */
function connectFirst(ips: readonly string[], port: number, peer: string, signal: AbortSignal): Promise<net.Socket> {
  const connect = builtin('node:net').connect;
  return new Promise((resolve, reject) => {
    const live = new Set<net.Socket>();
    const failures: Array<{ address: string; error: NotReady } | undefined> = [];
    let next = 0;
    let failed = 0;
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      for (const s of live) s.destroy();
      live.clear();
    };
    const onAbort = () => {
      finish();
      reject(signal.reason);
    };
    const start = () => {
      clearTimeout(timer);
      if (done || next >= ips.length) return;
      const index = next++;
      const ip = ips[index] as string;
      const socket = connect({ host: ip, port, lookup: noLookup });
      // Errors after hand-over reach the consumer's own listeners; this one keeps a late error from crashing us.
      socket.on('error', () => {});
      live.add(socket);
      const onError = (err: Error) => {
        socket.off('connect', onConnect);
        live.delete(socket);
        socket.destroy();
        if (done) return;
        const address = hostPort(ip, port);
        failures[index] = { address, error: classify(err, 'connect', ips.length === 1 ? peer : address) };
        if (++failed < ips.length) return start();
        finish();
        const all = failures.filter((f) => f !== undefined);
        reject(all.length === 1 ? (all[0] as { error: NotReady }).error : everyAddressFailed(peer, all));
      };
      const onConnect = () => {
        socket.off('error', onError);
        live.delete(socket);
        finish();
        resolve(socket);
      };
      socket.once('error', onError);
      socket.once('connect', onConnect);
      if (next < ips.length) timer = setTimeout(start, ATTEMPT_DELAY_MS);
    };
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    start();
  });
}

/**
 * Connects to host:port (and does the TLS handshake when `tls` is given). A name is resolved to every
 * address it has and each is tried (connectFirst), as Go's dialer and so Harbor's clients do; the TLS
 * handshake runs on the connection that won. On failure everything opened is destroyed and the error is
 * NotReady with its stage; on abort it rejects with `signal.reason`. The caller owns the returned socket and
 * must destroy it.
 */
export async function dial(o: DialOptions): Promise<Dialed> {
  const peer = hostPort(o.host, o.port);
  o.progress.stage = 'dns';
  let ips = [o.host];
  if (!isIpLiteral(o.host)) {
    try {
      ips = attemptOrder(await abortable(o.lookup(o.host), o.signal));
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      throw classify(err, 'dns', peer);
    }
    if (ips.length === 0) throw classify(Object.assign(new Error(`${o.host} has no address`), { code: 'ENOTFOUND' }), 'dns', peer);
  }

  o.progress.stage = 'connect';
  const raw = await connectFirst(ips, o.port, peer, o.signal);
  let socket: net.Socket = raw;
  try {
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
  return { socket, address: hostPort(raw.remoteAddress ?? (ips[0] as string), raw.remotePort ?? o.port) };
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
