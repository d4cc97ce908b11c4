/** HTTP checks and Harbor core's config API, against real HTTP/TLS servers on loopback. */
import https from 'node:https';
import type net from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wire } from '../../src/net/dial.ts';
import { responseError } from '../../src/protocols/http/check.ts';
import { harborCoreTarget } from '../../src/protocols/registry.ts';
import { makeCerts, type Certs } from '../helpers/certs.ts';
import { attemptOnce, context, eventually, loopbackLookup, notReady, ready } from '../helpers/checks.ts';
import { CORE_CONFIG_PATH, startFakeCore, startHttp, type FakeCore } from '../helpers/core.ts';
import { freePort } from '../helpers/processes.ts';

const SECRET = 'jobservice-SECRET-mark';
const DB_PASSWORD = 'db-PASSWORD-mark';

describe('http targets', () => {
  let server: Awaited<ReturnType<typeof startHttp>>;
  const seen: Array<{ url: string; authorization?: string }> = [];
  beforeAll(async () => {
    server = await startHttp((req, res) => {
      seen.push({ url: req.url ?? '', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      const status = Number(/^\/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 200);
      if (status >= 300 && status < 400) res.setHeader('location', '/followed');
      res.writeHead(status);
      res.end('body');
    });
  });
  afterAll(() => server.close());

  it('is ready on a 2xx status by default', async () => {
    const r = ready(await attemptOnce(`${server.url}/status/204`));
    expect(r.address).toBe(`127.0.0.1:${server.port}`);
  });

  it('is not ready on other statuses, naming the status as the code', async () => {
    const e = notReady(await attemptOnce(`${server.url}/status/503`));
    expect(e).toMatchObject({ stage: 'response', code: 'HTTP_503' });
    expect(e.reason).toContain('200-299');
  });

  it('honours --expect-status lists and ranges', async () => {
    const ctx = context({ expect: '200,404,500-502' });
    ready(await attemptOnce(`${server.url}/status/404`, ctx));
    ready(await attemptOnce(`${server.url}/status/501`, ctx));
    notReady(await attemptOnce(`${server.url}/status/204`, ctx));
  });

  it('does not follow redirects', async () => {
    seen.length = 0;
    const e = notReady(await attemptOnce(`${server.url}/status/302`));
    expect(e.code).toBe('HTTP_302');
    ready(await attemptOnce(`${server.url}/status/301`, context({ expect: '300-399' })));
    expect(seen.map((s) => s.url)).not.toContain('/followed');
  });

  it('sends the query string and Basic authentication from the URL', async () => {
    seen.length = 0;
    ready(await attemptOnce(`http://user:p%40ss@127.0.0.1:${server.port}/health?full=1`));
    expect(seen[0]).toEqual({ url: '/health?full=1', authorization: `Basic ${Buffer.from('user:p@ss').toString('base64')}` });
  });

  it('reports a refused connection', async () => {
    const e = notReady(await attemptOnce(`http://127.0.0.1:${await freePort()}/`));
    expect(e).toMatchObject({ stage: 'connect', code: 'ECONNREFUSED' });
  });

  it('reports an unknown name at the dns stage, without asking any DNS server', async () => {
    const e = notReady(await attemptOnce(`http://harbor-core.harbor.svc/`, context({ lookup: loopbackLookup([]) })));
    expect(e).toMatchObject({ stage: 'dns', code: 'ENOTFOUND' });
  });

  it('leaves no connection open', async () => {
    for (let i = 0; i < 10; i++) {
      ready(await attemptOnce(`${server.url}/status/200`));
      notReady(await attemptOnce(`${server.url}/status/500`));
    }
    await eventually(() => server.openConnections() === 0);
  });
});

describe('response bodies', () => {
  it('never reads an endless body: ready on the status, connection closed', async () => {
    let written = 0;
    const endless = await startHttp((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (res.write(chunk)) {
          written += chunk.length;
          if (written > 512 * 1024 * 1024) return; // safety net: the test fails below long before this
        }
        res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    ready(await attemptOnce(`${endless.url}/`));
    await eventually(() => endless.openConnections() === 0);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    await endless.close();
  });

  it('gives up on headers that never finish when the attempt is aborted', async () => {
    const slow = await startHttp((_req, res) => {
      res.socket?.write('HTTP/1.1 200 OK\r\nX-Slow: '); // and never the rest
    });
    const r = await attemptOnce(`${slow.url}/`, context(), 300);
    expect(r).toEqual({ aborted: 'response' });
    await eventually(() => slow.openConnections() === 0);
    await slow.close();
  });
});

describe('https targets', () => {
  let certs: Certs;
  let server: https.Server;
  let port: number;
  beforeAll(async () => {
    certs = await makeCerts();
    server = https.createServer({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) }, (_req, res) => {
      res.writeHead(200);
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('is ready when the certificate verifies against the CA given', async () => {
    ready(await attemptOnce(`https://127.0.0.1:${port}/`, context({ tls: { ca: certs.caPem } })));
    ready(await attemptOnce(`https://localhost:${port}/`, context({ tls: { ca: certs.caPem } })));
  });

  it('is not ready at the tls stage when the CA is unknown', async () => {
    const e = notReady(await attemptOnce(`https://127.0.0.1:${port}/`));
    expect(e.stage).toBe('tls');
  });

  it('is ready with verification skipped', async () => {
    ready(await attemptOnce(`https://127.0.0.1:${port}/`, context({ tls: { insecureSkipVerify: true } })));
  });

  it('reports plain HTTP against a TLS port as not ready', async () => {
    const e = notReady(await attemptOnce(`http://127.0.0.1:${port}/`));
    expect(e.stage).toBe('response');
  });
});

describe("Harbor core's configuration API (imitation answering as harbor-facts.md §2)", () => {
  let core: FakeCore;
  beforeAll(async () => {
    core = await startFakeCore({ secret: SECRET, dbPassword: DB_PASSWORD });
  });
  afterAll(() => core.close());

  const target = (secret: string, base = core.url) => harborCoreTarget(base, '--harbor-core', secret);

  it('GETs /api/v2.0/internalconfig with "Authorization: Harbor-Secret <secret>" and is ready on 200', async () => {
    core.requests.length = 0;
    core.mode = 'ok';
    ready(await attemptOnce(target(SECRET)));
    expect(core.requests).toEqual([{ path: CORE_CONFIG_PATH, authorization: `Harbor-Secret ${SECRET}` }]);
  });

  it('reports a 401 as a rejected secret', async () => {
    const e = notReady(await attemptOnce(target('not-the-secret')));
    expect(e).toMatchObject({ stage: 'auth', code: 'HTTP_401' });
    expect(e.reason).toContain('JOBSERVICE_SECRET');
  });

  it('reports a 500 while core cannot reach its database', async () => {
    core.mode = 'db-down';
    const e = notReady(await attemptOnce(target(SECRET)));
    expect(e).toMatchObject({ stage: 'response', code: 'HTTP_500' });
    core.mode = 'ok';
  });

  it('reports connection refused before core listens', async () => {
    const e = notReady(await attemptOnce(target(SECRET, `http://127.0.0.1:${await freePort()}`)));
    expect(e).toMatchObject({ stage: 'connect', code: 'ECONNREFUSED' });
  });

  it('never carries the body, which holds the database password, into the result', async () => {
    const outcome = await attemptOnce(target(SECRET));
    expect(JSON.stringify(outcome)).not.toContain(DB_PASSWORD);
    const failed = await attemptOnce(target('wrong'));
    expect(JSON.stringify(failed)).not.toContain('only internal service');
  });

  it('leaves no connection open', async () => {
    for (let i = 0; i < 5; i++) {
      await attemptOnce(target(SECRET));
      await attemptOnce(target('wrong'));
    }
    await eventually(() => core.openConnections() === 0);
  });
});

describe('responseError: no code of undici\'s own reaches the output', () => {
  const wire = (over: Partial<Wire> = {}): Wire => ({ head: Buffer.from('HTTP/1.1 200 OK\r\n'), received: 17, error: undefined, lost: false, tooLarge: false, ...over });
  const undiciError = (code: string, message: string) => Object.assign(new Error(message), { code });

  it('maps each UND_ERR_* that is not a head too large or a parser error to BAD_RESPONSE, in its words', () => {
    for (const [code, message] of [['UND_ERR_SOCKET', 'bad response'], ['UND_ERR_SOCKET', 'bad upgrade'], ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'Response body length does not match content-length header'], ['UND_ERR_INFO', 'upgrade'], ['UND_ERR_SOMETHING_NEW', 'new']] as const) {
      const e = responseError(undiciError(code, message), wire(), '127.0.0.1:8080', false);
      expect(e).toMatchObject({ stage: 'response', code: 'BAD_RESPONSE' });
      expect(e.reason).toContain(message);
      expect(e.reason).toContain('if that port speaks TLS, use https://');
    }
  });

  it('keeps HEAD_TOO_LARGE and NOT_HTTP, and what the wire saw (a reset, a close) before the library\'s word', () => {
    expect(responseError(undiciError('UND_ERR_HEADERS_OVERFLOW', 'Headers Overflow Error'), wire(), 'h:1', true).code).toBe('HEAD_TOO_LARGE');
    expect(responseError(Object.assign(new Error('Invalid response status'), { name: 'HTTPParserError', code: 'HPE_INVALID_STATUS' }), wire(), 'h:1', true).code).toBe('NOT_HTTP');
    expect(responseError(undiciError('UND_ERR_SOCKET', 'other side closed'), wire({ lost: true }), 'h:1', true).code).toBe('CONNECTION_CLOSED');
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(responseError(undiciError('UND_ERR_SOCKET', 'closed'), wire({ error: reset }), 'h:1', true).code).toBe('ECONNRESET');
  });
});
