/**
 * Interim (1xx) responses before the final one (RFC 9110 §15.2), from raw TCP and TLS servers on loopback
 * that write exactly the bytes given: skipped (100, 102, 103, any other 1xx but 101, one or several, split
 * across writes), so that the final status is what is judged; a 101 to our GET is UNSOLICITED_UPGRADE; an
 * endless run of them is HEAD_TOO_LARGE. Through the built entry (the waiter and diagnose), plus a property
 * test of the same through the in-process check. No code of undici's own (UND_ERR_*) or Node's (ERR_*) may
 * reach the output.
 */
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/basics/exit-codes.ts';
import { makeCerts, type Certs } from '../helpers/certs.ts';
import { attemptOnce, eventually, notReady, ready } from '../helpers/checks.ts';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { parseReport, findCheck } from '../helpers/diagnose.ts';
import { startFaulty, type Accepted, type FaultyServer } from '../helpers/faulty.ts';
import { expectNoSecret, markedSecret } from '../helpers/secrets.ts';

const SECRET = markedSecret('job');
const PASSWORD = markedSecret('bas');
const QUICK = ['--deadline', '2s', '--attempt-timeout', '1s', '--log-level', 'debug'];

const OK = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n\r\nPong';
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** Once the request head is in, writes `parts` one by one (`delayMs` apart, when given), then leaves the connection open. */
function answer(parts: ReadonlyArray<string | Buffer>, delayMs = 0): (conn: Accepted) => void {
  return (conn) => {
    let started = false;
    conn.socket.on('data', () => {
      if (started || !conn.received.includes('\r\n\r\n')) return;
      started = true;
      void (async () => {
        for (const part of parts) {
          if (conn.socket.destroyed) return;
          conn.socket.write(part);
          if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        }
      })();
    });
  };
}

const servers: FaultyServer[] = [];
async function serverWith(parts: ReadonlyArray<string | Buffer>, delayMs = 0): Promise<FaultyServer> {
  const s = await startFaulty(answer(parts, delayMs));
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** No library's or Node's own code in any line, and no secret anywhere. */
function expectClean(r: CliResult): void {
  expect(r.stdout).not.toMatch(/UND_ERR|"code":"ERR_|HPE_/);
  expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [SECRET, PASSWORD]);
}

function pending(r: CliResult): Array<{ stage: string; code: string; reason: string }> {
  return (r.events('deadline')[0]?.pending ?? r.events('failed')[0]?.pending ?? []) as Array<{ stage: string; code: string; reason: string }>;
}

describe.concurrent('interim responses before a final 200: skipped, ready', () => {
  const cases: Array<[string, ReadonlyArray<string>]> = [
    ['one 100 Continue', [CONTINUE + OK]],
    ['several 100 Continue', [CONTINUE + CONTINUE + CONTINUE + OK]],
    ['102 Processing, then 103 Early Hints with headers', ['HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\nlink: </app.js>; rel=preload\r\n\r\n' + OK]],
    ['an unregistered 1xx (199) with a header', ['HTTP/1.1 199 Whatever\r\nx-note: interim\r\n\r\n' + OK]],
    ['a 100 with bare LF line endings', ['HTTP/1.1 100 Continue\n\n' + OK]],
    ['a 100 sent byte by byte, then the 200', [...(CONTINUE + CONTINUE).split(''), OK]],
    ['each head in its own write, apart', [CONTINUE, 'HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n', OK]],
  ];
  for (const [name, parts] of cases) {
    it(name, async () => {
      const server = await serverWith(parts, parts.length > 3 ? 1 : 20);
      const r = await runCli([...QUICK, `http://user:${PASSWORD}@127.0.0.1:${server.port}/health`]);
      expect(r.code, r.stdout).toBe(ExitCode.Ready);
      expect(r.events('ready')).toHaveLength(1);
      expect(r.events('not_ready')).toEqual([]);
      expectClean(r);
      await eventually(() => server.open() === 0);
    });
  }

  it("core's config API behind a 100 Continue: ready, the secret sent once, as jobservice sends it", async () => {
    const server = await serverWith([CONTINUE + 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}']);
    const r = await runCli([...QUICK, '--harbor-core', `http://127.0.0.1:${server.port}`], { JOBSERVICE_SECRET: SECRET });
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    expect(server.connections[0]?.received.toString('latin1')).toContain(`authorization: Harbor-Secret ${SECRET}`);
    expectClean(r);
  });
});

describe.concurrent('the final status after interim ones is what is judged', () => {
  it('100 Continue, then 503: HTTP_503, as without the 100', async () => {
    const server = await serverWith([CONTINUE + 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n']);
    const r = await runCli([...QUICK, `http://127.0.0.1:${server.port}/`]);
    expect(r.code).toBe(ExitCode.Deadline);
    expect(pending(r)[0]).toMatchObject({ stage: 'response', code: 'HTTP_503' });
    expectClean(r);
  });

  it('100 Continue, then a 401 from core: the rejected secret, stage auth', async () => {
    const server = await serverWith([CONTINUE + 'HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n']);
    const r = await runCli([...QUICK, '--harbor-core', `http://127.0.0.1:${server.port}`], { JOBSERVICE_SECRET: SECRET });
    expect(r.code).toBe(ExitCode.Deadline);
    expect(pending(r)[0]).toMatchObject({ stage: 'auth', code: 'HTTP_401' });
    expectClean(r);
  });

  it('100 Continue, then bytes that are not HTTP: NOT_HTTP quoting those bytes, not the 100', async () => {
    const server = await serverWith([CONTINUE + 'SSH-2.0-OpenSSH_9.6\r\n']);
    const r = await runCli([...QUICK, '--once', `http://127.0.0.1:${server.port}/`]);
    expect(r.code).toBe(ExitCode.Failure);
    const [p] = pending(r);
    expect(p).toMatchObject({ stage: 'response', code: 'NOT_HTTP' });
    expect(p?.reason).toContain('beginning "SSH-2.0-OpenSSH_9.6..');
    expectClean(r);
  });

  it('100 Continue, then the connection closed: CONNECTION_CLOSED, saying what came before', async () => {
    const s = await startFaulty((conn) => conn.socket.once('data', () => conn.socket.end(CONTINUE)));
    servers.push(s);
    const r = await runCli([...QUICK, '--once', `http://127.0.0.1:${s.port}/`]);
    expect(r.code).toBe(ExitCode.Failure);
    const [p] = pending(r);
    expect(p).toMatchObject({ stage: 'response', code: 'CONNECTION_CLOSED' });
    expect(p?.reason).toContain('after sending "HTTP/1.1 100 Continue');
    expectClean(r);
  });
});

describe.concurrent('interim responses that cannot be skipped', () => {
  it('101 Switching Protocols to our GET: UNSOLICITED_UPGRADE, in words, at once', async () => {
    const server = await serverWith(['HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n\x81\x05hello']);
    const r = await runCli([...QUICK, `http://127.0.0.1:${server.port}/`]);
    expect(r.code).toBe(ExitCode.Deadline);
    const lines = r.events('not_ready');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatchObject({ stage: 'response', code: 'UNSOLICITED_UPGRADE' });
    expect(lines[0]?.reason).toMatch(/answered 101 Switching Protocols \(to "websocket"\) to a GET that asked for no upgrade: a protocol violation/);
    expectClean(r);
  });

  it('a 101 without an Upgrade header, and a 101 after a 100: the same', async () => {
    for (const head of ['HTTP/1.1 101 Switching Protocols\r\n\r\n', CONTINUE + 'HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\n\r\n']) {
      const server = await serverWith([head]);
      const r = await runCli([...QUICK, '--once', `http://127.0.0.1:${server.port}/`]);
      expect(r.code).toBe(ExitCode.Failure);
      expect(pending(r)[0]).toMatchObject({ stage: 'response', code: 'UNSOLICITED_UPGRADE' });
      expectClean(r);
    }
  });

  it('an endless run of 100 Continue: HEAD_TOO_LARGE once 64 KiB of them came, the connection closed', async () => {
    const s = await startFaulty((conn) =>
      conn.socket.once('data', () => {
        const pump = () => {
          while (!conn.socket.destroyed && conn.bytesOut < 8 * 1024 * 1024) {
            conn.bytesOut += CONTINUE.length;
            if (!conn.socket.write(CONTINUE)) return void conn.socket.once('drain', pump);
          }
        };
        pump();
      }),
    );
    servers.push(s);
    const r = await runCli([...QUICK, '--once', `http://127.0.0.1:${s.port}/`]);
    expect(r.code).toBe(ExitCode.Failure);
    const [p] = pending(r);
    expect(p).toMatchObject({ stage: 'response', code: 'HEAD_TOO_LARGE' });
    expect(p?.reason).toContain('interim (1xx) responses without a final one');
    await eventually(() => s.open() === 0);
    expect(s.connections[0]?.bytesOut).toBeLessThan(8 * 1024 * 1024);
    expectClean(r);
  });
});

describe('over TLS', () => {
  let certs: Certs;
  let server: tls.Server;
  let port: number;
  beforeAll(async () => {
    certs = await makeCerts();
    server = tls.createServer({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) }, (socket: tls.TLSSocket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.write(CONTINUE + 'HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n' + OK));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('https: the interim heads are skipped inside TLS too', async () => {
    const r = await runCli([...QUICK, '--ca-file', certs.caCert, `https://localhost:${port}/`]);
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    expectClean(r);
  });
});

describe.concurrent('diagnose', () => {
  it("a plain target behind a 100 Continue: `status` is the final one's", async () => {
    const server = await serverWith([CONTINUE + OK]);
    const r = await runCli(['diagnose', '--log-format', 'json', '--attempt-timeout', '2s', `http://127.0.0.1:${server.port}/`]);
    expect(r.code, r.stdout).toBe(0);
    expect(findCheck(parseReport(r.stdout, r.stderr), 'http://127.0.0.1', 'status')).toMatchObject({ status: 'ok', value: expect.stringMatching(/^200 in /) });
    expectClean(r);
  });

  it('core behind interim responses: ping, health and the config API read their final answers', async () => {
    const s = await startFaulty((conn) => {
      conn.socket.on('data', () => {
        const head = conn.received.toString('latin1');
        if (!head.includes('\r\n\r\n') || conn.bytesOut > 0) return;
        const path = /^GET (\S+)/.exec(head)?.[1];
        const body = path === '/api/v2.0/ping' ? 'Pong' : path === '/api/v2.0/health' ? '{"status":"healthy","components":[{"name":"core","status":"healthy"}]}' : '{}';
        const text = `${CONTINUE}HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
        conn.bytesOut += text.length;
        conn.socket.write(text);
      });
    });
    servers.push(s);
    const r = await runCli(['diagnose', '--log-format', 'json', '--attempt-timeout', '2s', '--harbor-core', `http://127.0.0.1:${s.port}`], { JOBSERVICE_SECRET: SECRET });
    const report = parseReport(r.stdout, r.stderr);
    expect(findCheck(report, 'http://127.0.0.1', 'core ping')).toMatchObject({ status: 'ok', value: expect.stringMatching(/^200 Pong/) });
    expect(findCheck(report, 'http://127.0.0.1', 'core health').status).toBe('ok');
    expect(findCheck(report, 'http://127.0.0.1', 'config api')).toMatchObject({ status: 'ok', value: expect.stringMatching(/^200 in .*: the secret is accepted/) });
    expect(r.code, r.stdout).toBe(0);
    expectClean(r);
  });

  it('a 101: `status` fails with UNSOLICITED_UPGRADE and says why', async () => {
    const server = await serverWith(['HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n']);
    const r = await runCli(['diagnose', '--log-format', 'json', '--attempt-timeout', '2s', `http://127.0.0.1:${server.port}/`]);
    expect(r.code).toBe(1);
    const status = findCheck(parseReport(r.stdout, r.stderr), 'http://127.0.0.1', 'status');
    expect(status).toMatchObject({ status: 'fail', value: expect.stringMatching(/^no answer: UNSOLICITED_UPGRADE after /) });
    expect(status.hint).toContain('a GET that asked for no upgrade');
    expectClean(r);
  });
});

describe('property: any interim heads, however split, leave the final status to be judged', () => {
  /** A server whose next connection gets `script` (its chunks written one by one). */
  let script: Buffer[] = [];
  let server: FaultyServer;
  beforeAll(async () => {
    server = await startFaulty((conn) => {
      const mine = script;
      conn.socket.once('data', () => {
        for (const chunk of mine) conn.socket.write(chunk);
      });
    });
  });
  afterAll(() => server.close());

  const interim = fc
    .tuple(
      fc.integer({ min: 100, max: 199 }).filter((s) => s !== 101),
      fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), fc.stringMatching(/^[ -~]{0,30}$/)), { maxLength: 4 }),
      fc.constantFrom('\r\n', '\n'),
    )
    .map(([status, headers, eol]) => `HTTP/1.1 ${status} Interim${eol}${headers.map(([k, v]) => `${k}: ${v.trim()}${eol}`).join('')}${eol}`);

  it('ready exactly when the final status is expected', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(interim, { maxLength: 6 }),
        fc.constantFrom(200, 204, 302, 404, 500, 503),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
        async (heads, status, cuts) => {
          const bytes = Buffer.from(`${heads.join('')}HTTP/1.1 ${status} Final\r\ncontent-length: 0\r\n\r\n`, 'latin1');
          const chunks: Buffer[] = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length] as number;
            chunks.push(bytes.subarray(at, at + n));
            at += n;
          }
          script = chunks;
          const outcome = await attemptOnce(`http://127.0.0.1:${server.port}/`);
          if (status >= 200 && status < 300) ready(outcome);
          else expect(notReady(outcome)).toMatchObject({ stage: 'response', code: `HTTP_${status}` });
        },
      ),
      { numRuns: 60 },
    );
    await eventually(() => server.open() === 0);
  });
});
