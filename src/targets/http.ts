/**
 * HTTP readiness: one GET over a socket dial() opened (http1.ts speaks it), redirects not followed, the
 * body never read; the status is judged by the target's spec.
 */
import { abortable } from '../abort.ts';
import { dial, hostPort, tlsOptions } from '../dial.ts';
import { classify, NotReady, ProtocolError } from '../errors.ts';
import type { HttpSpec } from './http-url.ts';
import { requestStatus } from './http1.ts';
import type { Check, CheckContext, Ready } from './types.ts';

export function createHttpCheck(label: string, spec: HttpSpec, ctx: CheckContext): Check {
  const { url } = spec;
  const https = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : https ? 443 : 80;
  const peer = hostPort(host, port);
  const path = url.pathname + url.search;
  const headers = { host: url.host, 'user-agent': ctx.userAgent, ...spec.headers, connection: 'close' };
  const tls = https ? tlsOptions(ctx.tls) : undefined;
  tls?.catch(() => {}); // a failure surfaces when an attempt awaits it

  return {
    target: label,
    async attempt(signal, progress): Promise<Ready> {
      const { socket, address } = await dial({ host, port, tls: await tls, lookup: ctx.lookup, signal, progress });
      progress.stage = 'response';
      try {
        const status = await abortable(requestStatus(socket, path, headers), signal);
        const notReady = spec.judge(status, peer, ctx.expectStatus);
        if (notReady) throw notReady;
        return { address };
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw responseError(err, peer, https);
      } finally {
        socket.destroy();
      }
    },
  };
}

/** What went wrong after the connection opened, for a person: a closed connection, or an answer that is not HTTP. */
function responseError(err: unknown, peer: string, https: boolean): NotReady {
  const hint = https ? '' : ' (if that port speaks TLS, use https://)';
  if (err instanceof ProtocolError) return new NotReady('response', err.code, `${peer} ${err.message}${err.code === 'NOT_HTTP' ? hint : ''}`);
  const notReady = classify(err, 'response', peer);
  if (notReady.code === 'CONNECTION_CLOSED' || notReady.code === 'ECONNRESET') {
    return new NotReady(notReady.stage, notReady.code, `${notReady.reason}${hint}`, { cause: err });
  }
  return notReady;
}
