/**
 * An imitation of Harbor core's HTTP API, answering exactly as shared/harbor-facts.md §2 says (core itself
 * cannot run here): GET /api/v2.0/internalconfig needs `Authorization: Harbor-Secret <JOBSERVICE_SECRET>`,
 * 401 with Harbor's error body otherwise, 500 while its "database" is down, and a 200 body that holds a
 * database password, which must never be shown. GET /api/v2.0/ping is 200 "Pong" whatever the state;
 * GET /api/v2.0/health is always 200 with `{"status", "components": [{"name", "status", "error"?}]}`, the
 * overall status unhealthy when any component is (the error is left out for a healthy one, as Harbor does).
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Certs } from './certs.ts';

export const CORE_CONFIG_PATH = '/api/v2.0/internalconfig';
const UNAUTHORIZED = '{"errors":[{"code":"UNAUTHORIZED","message":"only internal service is allowed to call this API"}]}';
const INTERNAL = '{"errors":[{"code":"INTERNAL_SERVER_ERROR","message":"internal server error"}]}';

/** One entry of core's health body. */
export interface HealthComponent {
  readonly name: string;
  readonly status: 'healthy' | 'unhealthy';
  readonly error?: string;
}

/** The components Harbor v2.15 core reports (trivy when it is installed), all healthy. */
export function healthyComponents(): HealthComponent[] {
  return ['core', 'database', 'jobservice', 'portal', 'redis', 'registry', 'registryctl', 'trivy'].map((name) => ({ name, status: 'healthy' }));
}

export interface FakeCore {
  readonly port: number;
  readonly url: string;
  /** `ok`: answers normally; `db-down`: 500 on the config API. */
  mode: 'ok' | 'db-down';
  /** The JOBSERVICE_SECRET core accepts; change it to make core reject or accept a waiter. */
  secret: string;
  /** What GET /api/v2.0/health reports, in order; replace or edit it to make a component unhealthy. */
  components: HealthComponent[];
  /** When set, GET /api/v2.0/health answers 200 with this body instead (something that is not Harbor's JSON). */
  healthBody: string | undefined;
  /** Requests seen, with the Authorization header each carried. */
  readonly requests: Array<{ path: string; authorization: string | undefined }>;
  /** Connections open right now. */
  openConnections(): number;
  close(): Promise<void>;
}

export interface FakeCoreOptions {
  readonly secret: string;
  /** Marked database password put into the 200 body. */
  readonly dbPassword: string;
  /** Listen on this port (to start late on a port already handed out); else a free one. */
  readonly port?: number;
  /** Listen on this address (e.g. a loopback address standing for a Service's cluster IP); else 127.0.0.1. */
  readonly host?: string;
  /** Serve HTTPS with this certificate and key (PEM files). */
  readonly tls?: Pick<Certs, 'serverCert' | 'serverKey'>;
}

export async function startFakeCore(o: FakeCoreOptions): Promise<FakeCore> {
  const sockets = new Set<net.Socket>();
  const requests: FakeCore['requests'] = [];
  const state = {
    mode: 'ok' as FakeCore['mode'],
    secret: o.secret,
    components: healthyComponents(),
    healthBody: undefined as string | undefined,
  };
  const handler: http.RequestListener = (req, res) => {
    requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const json = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    if (req.url === '/api/v2.0/ping') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('Pong');
    } else if (req.url === '/api/v2.0/health') {
      if (state.healthBody !== undefined) json(200, state.healthBody);
      else {
        const healthy = state.components.every((c) => c.status === 'healthy');
        json(200, JSON.stringify({ status: healthy ? 'healthy' : 'unhealthy', components: state.components }));
      }
    } else if (req.url === CORE_CONFIG_PATH && req.method === 'GET') {
      if (req.headers.authorization !== `Harbor-Secret ${state.secret}`) json(401, UNAUTHORIZED);
      else if (state.mode === 'db-down') json(500, INTERNAL);
      else {
        json(200, JSON.stringify({
          postgresql_password: { value: o.dbPassword, editable: false },
          postgresql_host: { value: 'harbor-database', editable: false },
          with_trivy: { value: true, editable: false },
        }));
      }
    } else {
      json(404, '{"errors":[{"code":"NOT_FOUND","message":"not found"}]}');
    }
  };
  const server = o.tls
    ? https.createServer({ cert: await read(o.tls.serverCert), key: await read(o.tls.serverKey) }, handler)
    : http.createServer(handler);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`the core imitation cannot listen on ${host}:${o.port ?? 0} (${err.code ?? err.message})${err.code === 'EADDRINUSE' ? ': something else holds that port on that address or on all addresses' : err.code === 'EACCES' ? ': a port under 1024 needs root (or CAP_NET_BIND_SERVICE)' : ''}`, { cause: err })),
    );
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  // The mutable settings are the object handed back: a test changes them and the next request sees it.
  return Object.assign(state, {
    port,
    url: `${o.tls ? 'https' : 'http'}://${host}:${port}`,
    requests,
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

async function read(path: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8');
}

/** A plain HTTP server answering every request through `respond`; an HTTPS one with `tls` (PEM file paths). */
export async function startHttp(
  respond: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  tls?: { readonly cert: string; readonly key: string },
): Promise<{ port: number; url: string; openConnections(): number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = tls ? https.createServer({ cert: await read(tls.cert), key: await read(tls.key) }, respond) : http.createServer(respond);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
