/**
 * Opens one connection, stage by stage: DNS lookup, TCP connect, TLS handshake. Every protocol uses it,
 * so stages, error codes, the reported address and cancellation are the same for all of them.
 */
import net from 'node:net';
import tls from 'node:tls';
import { abortable } from './abort.ts';
import { classify } from './errors.ts';
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

/** `host:port`, with brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** TLS options for a target: verification on unless skipped; an extra CA is trusted besides Node's defaults. */
export function tlsOptions(settings: TlsSettings, skipVerify = false): tls.ConnectionOptions {
  return {
    ...(settings.ca !== undefined ? { ca: [...tls.getCACertificates('default'), settings.ca] } : {}),
    ...(settings.cert !== undefined ? { cert: settings.cert, key: settings.key } : {}),
    rejectUnauthorized: !(settings.insecureSkipVerify || skipVerify),
    minVersion: 'TLSv1.2',
  };
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
  if (!net.isIP(o.host)) {
    try {
      ip = (await abortable(o.lookup(o.host), o.signal)).address;
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      throw classify(err, 'dns', peer);
    }
  }

  o.progress.stage = 'connect';
  const raw = net.connect({ host: ip, port: o.port });
  // Errors after hand-over reach the consumer's own listeners; this one keeps a late error from crashing us.
  raw.on('error', () => {});
  let socket: net.Socket = raw;
  try {
    await until(raw, 'connect', o.signal);
    if (o.tls) {
      o.progress.stage = 'tls';
      const secure = tls.connect({
        ...o.tls,
        socket: raw,
        host: o.host,
        ...(net.isIP(o.host) ? {} : { servername: o.host }),
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
