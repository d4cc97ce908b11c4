/**
 * HTTP readiness: one GET through an undici Client whose connection dial() opened (undici's `connect`
 * option), redirects not followed (a Client never follows them), HTTP/1.1 only. The status of the final
 * response is all that is judged: the request is aborted as soon as the head has arrived, so the body is
 * never read (core's 200 body holds its database password, and a body may never end). The attempt's
 * signal bounds connect, head and all; undici's own timeouts are off.
 *
 * This module is imported only when an HTTP target is configured (target.ts), so a Redis-only run
 * never loads undici. It takes undici's Client from its own file rather than the package index, which
 * would also load fetch, WebSocket, the cache and the mock agent (scripts/stubs.ts lists what the bundle leaves out).
 */
import type net from 'node:net';
import type { Dispatcher } from 'undici';
import Client from 'undici/lib/dispatcher/client.js';
import { abortable } from '../../basics/abort.ts';
import { dial, hostPort, tlsOptions, watchWire, wireError, type DialOptions, type Wire } from '../../net/dial.ts';
import { isBug, NotReady, peerText, preview } from '../../basics/errors.ts';
import type { HttpSpec } from './url.ts';
import { withoutInterim } from './interim.ts';
import { scrubText } from '../../basics/redact.ts';
import { loaded } from '../../basics/libraries.ts';
import type { Check, CheckContext, Ready } from '../types.ts';
import { classify } from '../../net/classify.ts';

loaded('undici');

/** A response head larger than this is not from a server worth waiting for. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** Aborts the request once the head is in: the body is not wanted. */
class BodyNotWanted extends Error {
  override readonly name = 'BodyNotWanted';
}

/**
 * Sends the GET and resolves with the final status; the body is never read. Interim 1xx heads never get
 * here: dialingClient's connection drops them before undici reads it (interim.ts).
 */
export function requestStatus(client: Client, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart(controller, statusCode) {
        if (statusCode < 200) return; // never: the connection's interim heads are removed before undici reads them
        settled = true;
        resolve(statusCode);
        controller.abort(new BodyNotWanted('the status is all a readiness check needs'));
      },
      onResponseError(_controller, error) {
        if (!settled) reject(error);
        settled = true;
      },
      onResponseEnd() {},
      onResponseData() {},
    };
    client.dispatch({ method: 'GET', path, headers, reset: true, headersTimeout: 0, bodyTimeout: 0 }, handler);
  });
}

export function createHttpCheck(label: string, spec: HttpSpec, ctx: CheckContext): Check {
  const { url } = spec;
  const https = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : https ? 443 : 80;
  const peer = hostPort(host, port);
  const path = url.pathname + url.search;
  const headers = { host: url.host, 'user-agent': ctx.userAgent, ...spec.headers };
  const tls = https ? tlsOptions(ctx.tls) : undefined;
  tls?.catch(() => {}); // a failure surfaces when an attempt awaits it

  return {
    target: label,
    async attempt(signal, progress): Promise<Ready> {
      const { client, connection } = dialingClient(url.origin, { host, port, tls: await tls, lookup: ctx.lookup, signal, progress });
      try {
        const status = await abortable(requestStatus(client, path, headers), signal);
        const notReady = spec.judge(status, peer, ctx.expectStatus);
        if (notReady) throw notReady;
        return { address: connection.address };
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (isBug(err)) throw err;
        throw responseError(err, connection.wire, peer, https);
      } finally {
        client.destroy().catch(() => {});
      }
    },
  };
}

/** What a client's connection reached once dial() handed it over. */
export interface Connection {
  /** `ip:port` connected to ('' before the connection is open). */
  address: string;
  wire: Wire | undefined;
}

/**
 * An undici Client for `origin` whose one connection dial() opens with `options` (undici's own connect,
 * DNS and TLS are not used), HTTP/1.1 only, undici's timeouts off: the caller's signal bounds everything.
 * The caller must destroy the client on every path.
 */
export function dialingClient(origin: string, options: DialOptions): { client: Client; connection: Connection } {
  const connection: Connection = { address: '', wire: undefined };
  const client = new Client(origin, {
    connect(_options, callback) {
      dial(options).then(
        (dialed) => {
          connection.address = dialed.address;
          const wire = watchWire(dialed.socket);
          connection.wire = wire;
          options.progress.stage = 'response';
          // What undici reads starts at the final response: 1xx heads before it are dropped (RFC 9110 §15.2),
          // and the first bytes a reason quotes are then those of what came after them.
          const peer = hostPort(options.host, options.port);
          const stream = withoutInterim(dialed.socket, { peer, maxBytes: MAX_HEAD_BYTES, onFinalStart: (first) => (wire.head = first.subarray(0, 24)) });
          callback(null, stream as unknown as net.Socket);
        },
        (err: unknown) => callback(err instanceof Error ? err : new Error('the attempt was cancelled'), null),
      );
    },
    allowH2: false,
    pipelining: 1,
    maxHeaderSize: MAX_HEAD_BYTES,
    headersTimeout: 0,
    bodyTimeout: 0,
    connectTimeout: 0,
  });
  return { client, connection };
}

/**
 * What went wrong, for a person. Before the connection was handed over, dial() has said it (DNS, TCP,
 * TLS). After it, undici's errors tell a head too large or an answer that is not HTTP; the wire tells a
 * connection reset or closed, whatever undici's own word for it.
 */
export function responseError(err: unknown, wire: Wire | undefined, peer: string, https: boolean): NotReady {
  if (err instanceof NotReady) return err;
  if (!wire) return undiciError(err, 'connect', peer, '') ?? classify(err, 'connect', peer);
  const hint = https ? '' : ' (if that port speaks TLS, use https://)';
  const code = (err as { code?: unknown }).code;
  if (code === 'UND_ERR_HEADERS_OVERFLOW') {
    return new NotReady('response', 'HEAD_TOO_LARGE', `${peer} sent more than ${MAX_HEAD_BYTES} bytes without ending the response head`);
  }
  // undici's parser errors: their name is the stable part (their HPE_* code is missing for some of them).
  if ((err instanceof Error && err.name === 'HTTPParserError') || (typeof code === 'string' && code.startsWith('HPE_'))) {
    return new NotReady('response', 'NOT_HTTP', `${peer} answered with something that is not HTTP/1.x, beginning "${scrubText(preview(wire.head))}"${hint}`);
  }
  return wireError(wire, 'response', peer, hint) ?? undiciError(err, 'response', peer, hint) ?? classify(err, 'response', peer);
}

/** Whatever else undici refused, in words: its UND_ERR_* codes are its own, never printed (BAD_RESPONSE). */
function undiciError(err: unknown, stage: 'connect' | 'response', peer: string, hint: string): NotReady | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('UND_ERR_')) return undefined;
  const words = err instanceof Error && err.message !== '' ? `: ${peerText(err.message)}` : '';
  const what = stage === 'connect' ? `the HTTP client could not use the connection to ${peer}` : `${peer} sent a response that is not usable HTTP/1.1`;
  return new NotReady(stage, 'BAD_RESPONSE', `${what}${words}${hint}`, { cause: err });
}
