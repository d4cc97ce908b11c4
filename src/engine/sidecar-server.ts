/**
 * Sidecar mode's HTTP server: /readyz, /livez and /metrics over the monitor's state. Loaded only with --serve.
 * Bodies hold labels and reasons, redacted and scrubbed where they were made. /metrics is prom-client's text
 * (metrics.ts).
 */
import { builtin } from '../basics/builtin.ts';
import { ConfigError } from '../basics/errors.ts';
import { formatAddress, type ListenAddress } from '../net/listen-address.ts';
import { readinessReport, type Monitor } from './monitor.ts';

export interface Server {
  /** `host:port` actually bound. */
  readonly address: string;
  /** Stops listening and closes every open connection at once. */
  close(): Promise<void>;
}

export interface ServeOptions {
  readonly listen: ListenAddress;
  /** The flag or variable that gave the address, for errors. */
  readonly input: string;
  readonly monitor: Monitor;
  readonly version: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The path a request line targets, without its query: from the origin form (`/readyz?x`) and from the
 * absolute form (`http://host:8099/readyz`), which RFC 9112 §3.2.2 says a server must accept (a proxy, or a
 * client configured to use one, sends it). Anything else is taken as it is, and is no path of ours.
 */
export function requestPath(target: string): string {
  const absolute = /^https?:\/\/[^/?#]*/i.exec(target);
  const rest = absolute ? target.slice(absolute[0].length) : target;
  const path = rest.split(/[?#]/, 1)[0] ?? '';
  return path === '' ? '/' : path;
}

export async function serve(o: ServeOptions): Promise<Server> {
  const server = builtin('node:http').createServer((req, res) => {
    const path = requestPath(req.url ?? '/');
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, JSON_TYPE, '{"error":"method not allowed: use GET"}\n', { allow: 'GET, HEAD' });
      return;
    }
    switch (path) {
      case '/readyz': {
        const report = readinessReport(o.monitor);
        send(report.status === 'ready' ? 200 : 503, JSON_TYPE, `${JSON.stringify(report)}\n`);
        return;
      }
      case '/livez':
        // The event loop answers, and the monitor has not stopped on a bug (that would end the process).
        send(200, JSON_TYPE, '{"status":"ok"}\n');
        return;
      case '/metrics': {
        const { metrics } = o.monitor;
        metrics.render({ version: o.version, now: Date.now() }).then(
          (text) => send(200, metrics.contentType, text),
          // Only a bug gets here (a value prom-client refuses); the probe still gets an answer.
          () => send(500, JSON_TYPE, '{"error":"the metrics could not be rendered"}\n'),
        );
        return;
      }
      default:
        send(404, JSON_TYPE, '{"error":"not found: try /readyz, /livez or /metrics"}\n');
    }
  });
  // Probes are small and local: bound how long a slow or idle client can hold a connection.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'the port is in use (another container of the pod may listen on it)'
          : err.code === 'EACCES'
            ? 'permission denied (ports below 1024 need privileges: use a higher port)'
            : `cannot listen (${err.code ?? err.message})`;
      reject(new ConfigError(o.input, `${why}`));
    });
    server.listen({ port: o.listen.port, ...(o.listen.host ? { host: o.listen.host } : {}) }, resolve);
  });
  const bound = server.address();
  const address = bound && typeof bound === 'object' ? formatAddress(bound.address, bound.port) : String(bound);
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
