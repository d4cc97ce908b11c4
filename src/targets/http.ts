/**
 * HTTP readiness: one GET, redirects not followed, the body discarded unread. undici speaks HTTP/1.1 over
 * a socket dial() opened, through a custom connector, so stages and the address match the other targets.
 */
import { Client } from 'undici';
import { dial, hostPort, tlsOptions, type Dialed } from '../dial.ts';
import { classify } from '../errors.ts';
import type { HttpSpec } from './http-url.ts';
import type { Check, CheckContext, Ready } from './types.ts';

export function createHttpCheck(label: string, spec: HttpSpec, ctx: CheckContext): Check {
  const { url } = spec;
  const https = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : https ? 443 : 80;
  const peer = hostPort(host, port);
  const headers = { 'user-agent': ctx.userAgent, ...spec.headers };

  return {
    target: label,
    async attempt(signal, progress): Promise<Ready> {
      let dialed: Dialed | undefined;
      let dialError: unknown;
      const client = new Client(url.origin, {
        allowH2: false,
        headersTimeout: 0,
        bodyTimeout: 0,
        connect: (_opts, callback) => {
          dial({ host, port, tls: https ? tlsOptions(ctx.tls) : undefined, lookup: ctx.lookup, signal, progress }).then(
            (d) => {
              dialed = d;
              progress.stage = 'response';
              callback(null, d.socket);
            },
            (err: unknown) => {
              dialError = err;
              callback(err as Error, null);
            },
          );
        },
      });
      try {
        const res = await client.request({ method: 'GET', path: url.pathname + url.search, headers, signal });
        // Never read: core's 200 body holds its database password. Destroying an unread body makes undici
        // emit an abort error on it, which is expected here.
        res.body.on('error', () => {}).destroy();
        const notReady = spec.judge(res.statusCode, peer, ctx.expectStatus);
        if (notReady) throw notReady;
        return { address: (dialed as Dialed).address };
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw dialError ?? classify(err, progress.stage, peer);
      } finally {
        dialed?.socket.destroy();
        await client.destroy().catch(() => {});
      }
    },
  };
}
