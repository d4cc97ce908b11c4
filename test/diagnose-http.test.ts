/**
 * `harbor-wait diagnose` for http(s) targets, Harbor core (the imitation answering as harbor-facts.md section 2)
 * and the TLS layer every target shares, against real HTTP and TLS servers on loopback.
 */
import net from 'node:net';
import { registerSecrets } from '../src/basics/redact.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertExpiringIn, makeCerts, makeChain, makeUntrustedCerts, type Certs, type Chain } from './helpers/certs.ts';
import { healthyComponents, startFakeCore, startHttp, type FakeCore } from './helpers/core.ts';
import { freePort } from './helpers/processes.ts';
import { scrubLine } from '../src/protocols/http/diagnosis.ts';
import { runCli } from './helpers/cli.ts';
import { LEVELS, parseReport, type DiagnoseCheck } from './helpers/diagnose.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

interface Run {
  /** Target URLs. */
  readonly targets?: readonly string[];
  /** Core's base URL (--harbor-core), with `secret` as env JOBSERVICE_SECRET. */
  readonly core?: string;
  readonly secret?: string;
  readonly caFile?: string;
  readonly insecure?: boolean;
  readonly expect?: string;
  readonly level?: string;
  readonly format?: 'json' | 'pretty';
  /** --attempt-timeout, which bounds each step. */
  readonly attemptTimeout?: string;
}

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly targets: ReadonlyArray<{ target: string; checks: Check[] }>;
}

type Check = DiagnoseCheck;

/** One `harbor-wait diagnose` run of the built entry, as users run it: its exit code, output and report (JSON). */
async function diagnose(run: Run): Promise<Outcome> {
  const args = [
    'diagnose',
    '--log-format', run.format ?? 'json',
    '--log-level', run.level ?? 'info',
    '--attempt-timeout', run.attemptTimeout ?? '3s',
    ...(run.caFile ? ['--ca-file', run.caFile] : []),
    ...(run.insecure ? ['--insecure-skip-verify'] : []),
    ...(run.expect ? ['--expect-status', run.expect] : []),
    ...(run.core ? ['--harbor-core', run.core] : []),
    ...(run.targets ?? []),
  ];
  const r = await runCli(args, run.secret !== undefined ? { JOBSERVICE_SECRET: run.secret } : {});
  let targets: Outcome['targets'] = [];
  if ((run.format ?? 'json') === 'json') {
    targets = parseReport(r.stdout, r.stderr).targets;
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, targets };
}

/** The named check of the only (or the `target`th) target, failing the test when it is missing. */
function check(o: Outcome, name: string, target = 0): Check {
  const found = o.targets[target]?.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check "${name}" in ${JSON.stringify(o.targets[target]?.checks.map((c) => c.name))}`);
  return found;
}


/** The same run in the pretty format: the same exit code, `shows` in the report, and no secret anywhere. */
async function prettyToo(run: Run, code: number, secrets: readonly string[], shows: readonly string[]): Promise<void> {
  const o = await diagnose({ ...run, format: 'pretty' });
  expect(o.code).toBe(code);
  for (const text of shows) expect(o.stdout).toContain(text);
  expectNoSecret({ stdout: o.stdout, stderr: o.stderr }, secrets);
}

describe("Harbor core (the imitation)", () => {
  const secret = markedSecret('job');
  const dbPassword = markedSecret('db');
  const redisPassword = markedSecret('rp');
  let core: FakeCore;
  beforeAll(async () => {
    core = await startFakeCore({ secret, dbPassword });
  });
  afterAll(() => core.close());

  const secrets = [secret, dbPassword, redisPassword];

  it.each(LEVELS)('healthy core: ping, health, every component and the config API ok, exit 0 (log level %s)', async (level) => {
    core.components = healthyComponents();
    const o = await diagnose({ core: core.url, secret, level });
    expect(o.code).toBe(0);
    expect(check(o, 'url')).toMatchObject({ status: 'ok' });
    expect(check(o, 'url').value).toContain(`Harbor core at ${core.url}`);
    expect(check(o, 'url').value).toContain('JOBSERVICE_SECRET given (not shown)');
    expect(check(o, 'core ping')).toMatchObject({ layer: 'server', status: 'ok' });
    expect(check(o, 'core ping').value).toMatch(/^200 Pong in \d/);
    expect(check(o, 'core health')).toMatchObject({ status: 'ok' });
    expect(check(o, 'core health').value).toMatch(/^healthy, 8 of 8 components healthy, in /);
    for (const c of healthyComponents()) expect(check(o, `health ${c.name}`)).toMatchObject({ status: 'ok', value: 'healthy' });
    expect(check(o, 'config api')).toMatchObject({ layer: 'auth', status: 'ok' });
    expect(check(o, 'config api').value).toMatch(/^200 in .*: the secret is accepted$/);
    expectNoSecret({ stdout: o.stdout, stderr: o.stderr }, secrets);
    expect(o.stdout).not.toContain('postgresql_password');
    await prettyToo({ core: core.url, secret, level }, 0, secrets, level === 'debug' || level === 'info' ? ['core ping', 'config api'] : ['no problems found']);
  });

  it.each(LEVELS)('redis unhealthy: `health redis` fails with its error scrubbed, ping still ok, exit 1 (log level %s)', async (level) => {
    core.components = healthyComponents().map((c) =>
      c.name === 'redis'
        ? { name: 'redis', status: 'unhealthy', error: `failed to ping redis://:${redisPassword}@10.0.0.5:6379/0?idle_timeout_seconds=30: dial tcp 10.0.0.5:6379: i/o timeout\ngoroutine 1 [running]:` }
        : c.name === 'jobservice'
          ? { name: 'jobservice', status: 'unhealthy', error: 'Get "http://harbor-jobservice/api/v1/stats": dial tcp: connection refused' }
          : c,
    );
    const o = await diagnose({ core: core.url, secret, level });
    expect(o.code).toBe(1);
    expect(check(o, 'core ping')).toMatchObject({ status: 'ok' });
    const redis = check(o, 'health redis');
    expect(redis.status).toBe('fail');
    expect(redis.value).toBe('unhealthy: failed to ping redis://***@10.0.0.5:6379/0?idle_timeout_seconds=30: dial tcp 10.0.0.5:6379: i/o timeout');
    expect(redis.hint).toContain('_REDIS_URL_CORE');
    expect(check(o, 'health jobservice')).toMatchObject({ status: 'warn', value: 'unhealthy: Get "http://harbor-jobservice/api/v1/stats": dial tcp: connection refused' });
    expect(check(o, 'health database')).toMatchObject({ status: 'ok', value: 'healthy' });
    expect(check(o, 'core health')).toMatchObject({ status: 'fail' });
    expect(check(o, 'core health').value).toMatch(/^unhealthy, 6 of 8 components healthy \(not: jobservice, redis\)/);
    expect(check(o, 'config api')).toMatchObject({ status: 'ok' });
    expectNoSecret({ stdout: o.stdout, stderr: o.stderr }, secrets);
    expect(o.stdout).not.toContain('goroutine');
    await prettyToo({ core: core.url, secret, level }, 1, secrets, ['health redis', 'redis://***@10.0.0.5:6379']);
  });

  it('jobservice alone unhealthy (its pod waits) is a warning: exit 0', async () => {
    core.components = healthyComponents().map((c) => (c.name === 'jobservice' ? { ...c, status: 'unhealthy', error: 'connection refused' } : c));
    const o = await diagnose({ core: core.url, secret });
    expect(o.code).toBe(0);
    expect(check(o, 'health jobservice')).toMatchObject({ status: 'warn', value: 'unhealthy: connection refused' });
    expect(check(o, 'core health')).toMatchObject({ status: 'warn' });
  });

  it('an error line longer than 200 characters is cut', async () => {
    core.components = [{ name: 'database', status: 'unhealthy', error: `failed to connect: ${'x'.repeat(400)}` }];
    const o = await diagnose({ core: core.url, secret });
    const db = check(o, 'health database');
    expect(db.status).toBe('fail');
    expect(db.value).toBe(`unhealthy: failed to connect: ${'x'.repeat(200 - 'failed to connect: '.length - 3)}...`);
  });

  it('a health body that is not Harbor JSON: a warning that does not quote it', async () => {
    core.components = healthyComponents();
    core.healthBody = `{"unexpected": "${dbPassword}"}`;
    try {
      const o = await diagnose({ core: core.url, secret });
      expect(check(o, 'core health').status).toBe('warn');
      expect(check(o, 'core health').value).toMatch(/^200 with a body that is not Harbor's health JSON \(\d+ bytes\)/);
      expect(o.targets[0]?.checks.some((c) => c.name.startsWith('health '))).toBe(false);
      expect(o.code).toBe(0);
      expectNoSecret({ stdout: o.stdout }, secrets);
      expect(o.stdout).not.toContain('unexpected');
    } finally {
      core.healthBody = undefined;
    }
  });

  it.each(LEVELS)('wrong secret: `config api` fails with 401 and the rejected-secret hint, exit 1 (log level %s)', async (level) => {
    core.components = healthyComponents();
    const wrong = markedSecret('bad');
    const o = await diagnose({ core: core.url, secret: wrong, level });
    expect(o.code).toBe(1);
    const api = check(o, 'config api');
    expect(api).toMatchObject({ layer: 'auth', status: 'fail' });
    expect(api.value).toMatch(/^401 in .*: the secret is rejected$/);
    expect(api.hint).toContain('core rejected the secret');
    expect(api.hint).toContain('JOBSERVICE_SECRET');
    expect(api.hint).toContain('not CORE_SECRET');
    expect(check(o, 'core ping').status).toBe('ok');
    expectNoSecret({ stdout: o.stdout, stderr: o.stderr }, [...secrets, wrong]);
    expect(o.stdout).not.toContain('only internal service');
    await prettyToo({ core: core.url, secret: wrong, level }, 1, [...secrets, wrong], ['config api', 'core rejected the secret']);
  });

  it("database down: `config api` fails with 500 (core's database?)", async () => {
    core.mode = 'db-down';
    try {
      const o = await diagnose({ core: core.url, secret });
      expect(o.code).toBe(1);
      expect(check(o, 'config api')).toMatchObject({ status: 'fail' });
      expect(check(o, 'config api').value).toMatch(/^500 in /);
      expect(check(o, 'config api').hint).toContain('database');
    } finally {
      core.mode = 'ok';
    }
  });

  it('sends the config API exactly the header the waiter sends, and the secret nowhere else', async () => {
    core.requests.length = 0;
    await diagnose({ core: core.url, secret });
    expect(core.requests).toEqual([
      { path: '/api/v2.0/ping', authorization: undefined },
      { path: '/api/v2.0/health', authorization: undefined },
      { path: '/api/v2.0/internalconfig', authorization: `Harbor-Secret ${secret}` },
    ]);
  });

  it('core not listening: TCP fails and the HTTP checks skip, saying why', async () => {
    const port = await freePort();
    const o = await diagnose({ core: `http://127.0.0.1:${port}`, secret });
    expect(o.code).toBe(1);
    expect(check(o, `connect 127.0.0.1:${port}`)).toMatchObject({ layer: 'tcp', status: 'fail' });
    expect(check(o, `connect 127.0.0.1:${port}`).value).toMatch(/^refused after /);
    for (const name of ['core ping', 'core health', 'config api']) {
      expect(check(o, name)).toMatchObject({ status: 'skip', hint: 'no address accepted a TCP connection' });
    }
  });

  it('a proxy answering 503 "no healthy upstream": `core ping` fails saying core is not up behind it', async () => {
    const proxy = await startHttp((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('no healthy upstream');
    });
    try {
      const o = await diagnose({ core: proxy.url, secret });
      expect(o.code).toBe(1);
      expect(check(o, 'core ping').status).toBe('fail');
      expect(check(o, 'core ping').value).toMatch(/^503 \(no healthy upstream\) in /);
      expect(check(o, 'core ping').hint).toContain('proxy');
      expect(check(o, 'config api')).toMatchObject({ status: 'fail' });
    } finally {
      await proxy.close();
    }
  });

  it('leaves no connection open', async () => {
    for (let i = 0; i < 3; i++) await diagnose({ core: core.url, secret });
    await expect.poll(() => core.openConnections(), { timeout: 5000 }).toBe(0);
  });
});

describe('plain http targets', () => {
  it('an unexpected status: `status` fails with it; an expected one is ok', async () => {
    const token = markedSecret('tok');
    const server = await startHttp((req, res) => {
      res.writeHead(req.url?.startsWith('/ready') ? 204 : 503);
      res.end('a body that is never read');
    });
    try {
      const bad = await diagnose({ targets: [`${server.url}/health?token=${token}`] });
      expect(bad.code).toBe(1);
      expect(check(bad, 'status')).toMatchObject({ layer: 'server', status: 'fail' });
      expect(check(bad, 'status').value).toMatch(/^503 in .* \(expecting 200-299\)$/);
      expect(check(bad, 'url').value).toBe(`http, host 127.0.0.1, port ${server.port}, path /health?token=***; expecting 200-299`);
      expectNoSecret({ stdout: bad.stdout }, [token]);

      const good = await diagnose({ targets: [`${server.url}/ready`] });
      expect(good.code).toBe(0);
      expect(check(good, 'status')).toMatchObject({ status: 'ok' });
      expect(check(good, 'status').value).toMatch(/^204 in /);
      expect(check(good, 'lookup').status).toBe('skip');

      const expected = await diagnose({ targets: [`${server.url}/health`], expect: '503' });
      expect(check(expected, 'status').status).toBe('ok');

      const password = markedSecret('pw');
      const basic = await diagnose({ targets: [`http://user:${password}@127.0.0.1:${server.port}/ready`], level: 'debug' });
      expect(basic.code).toBe(0);
      expect(check(basic, 'url').value).toBe(`http, host 127.0.0.1, port ${server.port}, path /ready; Basic authentication from the URL (not shown); expecting 200-299`);
      expectNoSecret({ stdout: basic.stdout, stderr: basic.stderr }, [password], [`user:${password}`]);
    } finally {
      await server.close();
    }
  });
});

describe('a server that never answers', () => {
  it('`status` fails with the step timeout, and a plain port is not taken for TLS', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.resume(); // reads the request, never answers, never closes
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const o = await diagnose({ targets: [`http://127.0.0.1:${port}/`], attemptTimeout: '400ms' });
      expect(o.code).toBe(1);
      expect(check(o, 'status')).toMatchObject({ status: 'fail' });
      expect(check(o, 'status').value).toMatch(/^no answer: RESPONSE_TIMEOUT after \d+ ms$/);
      expect(check(o, 'status').hint).toContain('step timeout');
      expect(o.targets[0]?.checks.some((c) => c.name === 'plain text on a TLS port')).toBe(false);
      await expect.poll(() => sockets.size, { timeout: 5000 }).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('the TLS layer', () => {
  let certs: Certs;
  const ok = (_req: unknown, res: { writeHead(s: number): void; end(b: string): void }) => {
    res.writeHead(200);
    res.end('ok');
  };
  beforeAll(async () => {
    certs = await makeCerts();
  });

  it('a valid certificate: handshake, certificate, issuer chain and verification ok', async () => {
    const server = await startHttp(ok, { cert: certs.serverCert, key: certs.serverKey });
    try {
      const o = await diagnose({ targets: [`https://127.0.0.1:${server.port}/`], caFile: certs.caCert });
      expect(o.code).toBe(0);
      expect(check(o, 'handshake')).toMatchObject({ layer: 'tls', status: 'ok' });
      expect(check(o, 'handshake').value).toMatch(/^TLSv1\.[23], /);
      expect(check(o, 'certificate')).toMatchObject({ status: 'ok' });
      expect(check(o, 'certificate').value).toMatch(/^CN=server; DNS:localhost, IP Address:127\.0\.0\.1; valid \S+ to \S+ \(\d+ days left\)$/);
      expect(check(o, 'issuer chain')).toMatchObject({ status: 'ok', value: 'issued by CN=harbor-wait test CA' });
      expect(check(o, 'verification')).toMatchObject({ status: 'ok', value: 'chain verified; host name 127.0.0.1 matches' });
      expect(check(o, 'status').status).toBe('ok');
    } finally {
      await server.close();
    }
  });

  it('a certificate that expires in 3 days: `certificate` warns with the days left, exit 0', async () => {
    const soon = await makeCertExpiringIn(3);
    const server = await startHttp(ok, soon);
    try {
      const o = await diagnose({ targets: [`https://127.0.0.1:${server.port}/`], caFile: certs.caCert });
      expect(o.code).toBe(0);
      const cert = check(o, 'certificate');
      expect(cert.status).toBe('warn');
      expect(cert.value).toMatch(/\(3 days left\)$/);
      expect(cert.hint).toContain('under 14 days');
      expect(check(o, 'verification').status).toBe('ok');
      expect(check(o, 'status').status).toBe('ok');
    } finally {
      await server.close();
    }
  });

  it('a wrong host name: `verification` fails and `certificate` still shows subject and SANs, exit 1', async () => {
    const server = await startHttp(ok, { cert: certs.wrongNameCert, key: certs.wrongNameKey });
    try {
      const o = await diagnose({ targets: [`https://127.0.0.1:${server.port}/`], caFile: certs.caCert });
      expect(o.code).toBe(1);
      expect(check(o, 'verification')).toMatchObject({ status: 'fail', value: 'chain verified; host name 127.0.0.1 not in the certificate' });
      expect(check(o, 'verification').hint).toContain('DNS:other.invalid');
      expect(check(o, 'certificate').value).toMatch(/^CN=wrongname; DNS:other\.invalid; valid /);
      expect(check(o, 'status')).toMatchObject({ status: 'skip', hint: 'the certificate is not accepted' });
    } finally {
      await server.close();
    }
  });

  it('a wrong host name with --insecure-skip-verify: `verification` warns that it is off', async () => {
    const server = await startHttp(ok, { cert: certs.wrongNameCert, key: certs.wrongNameKey });
    try {
      const o = await diagnose({ targets: [`https://127.0.0.1:${server.port}/`], caFile: certs.caCert, insecure: true });
      expect(o.code).toBe(0);
      expect(check(o, 'verification').status).toBe('warn');
      expect(check(o, 'verification').value).toContain('chain verified; host name 127.0.0.1 not in the certificate (ignored: --insecure-skip-verify)');
      expect(check(o, 'status').status).toBe('ok');
    } finally {
      await server.close();
    }
  });

  it('an untrusted CA: `verification` fails with the error code', async () => {
    const other = await makeUntrustedCerts();
    const server = await startHttp(ok, { cert: other.serverCert, key: other.serverKey });
    try {
      const o = await diagnose({ targets: [`https://127.0.0.1:${server.port}/`], caFile: certs.caCert });
      expect(o.code).toBe(1);
      expect(check(o, 'verification')).toMatchObject({ status: 'fail', value: 'chain not verified: UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      expect(check(o, 'verification').hint).toContain('--ca-file');
      expect(check(o, 'issuer chain').value).toBe('issued by CN=harbor-wait untrusted CA');
    } finally {
      await server.close();
    }
  });

  describe('a chain with an intermediate CA', () => {
    let chain: Chain;
    beforeAll(async () => {
      chain = await makeChain();
    });
    const ROOT = 'CN=harbor-wait test root CA';
    const INTERMEDIATE = 'CN=harbor-wait test intermediate CA';
    const EXPIRED = 'CN=harbor-wait test expired intermediate CA';
    /** Runs `test` against an HTTPS server on `cert` (and its chain, when the file holds one), closed after. */
    async function serving(cert: string, key: string, test: (server: { port: number }) => Promise<void>): Promise<void> {
      const server = await startHttp(ok, { cert, key });
      try {
        await test(server);
      } finally {
        await server.close();
      }
    }

    it('the server sends its chain, the root is trusted: ok, the chain named up to the root', async () => {
      await serving(chain.fullChain, chain.leafKey, async (server) => {
        const o = await diagnose({ targets: [`https://localhost:${server.port}/`], caFile: chain.rootCert });
        expect(o.code, o.stdout).toBe(0);
        expect(check(o, 'issuer chain')).toMatchObject({ status: 'ok', value: `issued by ${INTERMEDIATE}; then ${ROOT}` });
        expect(check(o, 'verification')).toMatchObject({ status: 'ok', value: 'chain verified; host name localhost matches' });
      });
    });

    it('the server omits its intermediate: the intermediate is named as missing from what the server sends, not as an untrusted CA', async () => {
      await serving(chain.leafCert, chain.leafKey, async (server) => {
        const o = await diagnose({ targets: [`https://localhost:${server.port}/`], caFile: chain.rootCert });
        expect(o.code).toBe(1);
        const v = check(o, 'verification');
        expect(v).toMatchObject({ status: 'fail', value: 'chain not verified: UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
        expect(v.hint).toContain(`the server sent only its own certificate, issued by ${INTERMEDIATE}, which is neither trusted here (--ca-file holds ${ROOT}) nor sent by the server`);
        expect(v.hint).toContain('the server must send it after its own certificate');
        expect(check(o, 'issuer chain').value).toBe(`issued by ${INTERMEDIATE}`);
        // The waiter says the same of it, in its own words.
        const waited = await runCli(['--once', '--ca-file', chain.rootCert, `https://localhost:${server.port}/`]);
        const [line] = waited.events('not_ready');
        expect(line).toMatchObject({ stage: 'tls', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
        expect(line?.reason).toContain('If that issuer is an intermediate CA, the server must send its chain');
      });
    });

    it('the root is not trusted: the chain the server sent is named up to its last CA, and the root to give', async () => {
      await serving(chain.fullChain, chain.leafKey, async (server) => {
        const o = await diagnose({ targets: [`https://localhost:${server.port}/`], caFile: certs.caCert });
        expect(o.code).toBe(1);
        const v = check(o, 'verification');
        expect(v.value).toBe('chain not verified: UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
        expect(v.hint).toContain(`the chain the server sent ends at the intermediate CA ${INTERMEDIATE} (certificate 2 of 2 in the chain), issued by ${ROOT}, which is not trusted here (--ca-file holds CN=harbor-wait test CA): give ${ROOT} with --ca-file`);
      });
    });

    it('an expired intermediate: the leaf\'s days left stay true, and the intermediate is named with the day it expired', async () => {
      await serving(chain.expiredFullChain, chain.expiredLeafKey, async (server) => {
        const o = await diagnose({ targets: [`https://localhost:${server.port}/`], caFile: chain.rootCert });
        expect(o.code).toBe(1);
        expect(check(o, 'certificate')).toMatchObject({ status: 'ok', value: expect.stringMatching(/\(\d+ days left\)$/) });
        const issuers = check(o, 'issuer chain');
        expect(issuers).toMatchObject({ status: 'fail', value: `issued by ${EXPIRED}; then ${ROOT} (${EXPIRED} expired 2020-01-02)` });
        expect(issuers.hint).toMatch(new RegExp(`^the intermediate CA ${EXPIRED} \\(certificate 2 of 3 in the chain\\) expired on 2020-01-02 \\(\\d+ days ago\\)`));
        const v = check(o, 'verification');
        expect(v).toMatchObject({ status: 'fail', value: 'chain not verified: CERT_HAS_EXPIRED' });
        expect(v.hint).toContain(`the intermediate CA ${EXPIRED} (certificate 2 of 3 in the chain) expired on 2020-01-02`);
        expect(v.hint).toContain('renew that CA certificate');
      });
    });
  });

  it('https:// to a plain port: `handshake` fails with the plain-text hint', async () => {
    const server = await startHttp(ok);
    try {
      const o = await diagnose({ targets: [`https://127.0.0.1:${server.port}/`], caFile: certs.caCert });
      expect(o.code).toBe(1);
      const hs = check(o, 'handshake');
      expect(hs.status).toBe('fail');
      expect(hs.hint).toContain('use http://');
      expect(check(o, 'status')).toMatchObject({ status: 'skip', hint: 'the TLS handshake failed' });
    } finally {
      await server.close();
    }
  });

  it('http:// to a TLS port: the `plain text on a TLS port` finding', async () => {
    const server = await startHttp(ok, { cert: certs.serverCert, key: certs.serverKey });
    try {
      const o = await diagnose({ targets: [`http://127.0.0.1:${server.port}/`] });
      expect(o.code).toBe(1);
      const plain = check(o, 'plain text on a TLS port');
      expect(plain).toMatchObject({ layer: 'tls', status: 'fail' });
      expect(plain.value).toMatch(new RegExp(`^127\\.0\\.0\\.1:${server.port} answered a TLS handshake \\(TLSv1\\.[23]\\)$`));
      expect(plain.hint).toContain('use https://');
      expect(check(o, 'status').status).toBe('fail');
    } finally {
      await server.close();
    }
  });

  it('core over https with internal TLS: every check ok, and http:// to it is caught', async () => {
    const secret = markedSecret('job');
    const core = await startFakeCore({ secret, dbPassword: markedSecret('db'), tls: certs });
    try {
      const o = await diagnose({ core: core.url, secret, caFile: certs.caCert });
      expect(o.code).toBe(0);
      expect(check(o, 'verification').status).toBe('ok');
      expect(check(o, 'config api').status).toBe('ok');
      const plain = await diagnose({ core: core.url.replace('https:', 'http:'), secret });
      expect(check(plain, 'plain text on a TLS port').status).toBe('fail');
      expect(check(plain, 'core ping').status).toBe('fail');
      expect(check(plain, 'config api').status).toBe('skip');
    } finally {
      await core.close();
    }
  });
});

describe("a component's error line, scrubbed", () => {
  it('hides user info, password=, secret-named query values and Authorization values; one ASCII line of at most 200 characters', () => {
    expect(scrubLine('failed to connect to `host=db user=postgres password=hunter22 dbname=registry`: refused')).toBe('failed to connect to `host=db user=postgres password=*** dbname=registry`: refused');
    expect(scrubLine('GET https://u:p@h/x?token=abcdef&x=1 failed')).toBe('GET https://***@h/x?token=***&x=1 failed');
    expect(scrubLine('sent Authorization: Harbor-Secret abc123def, got 401; Basic dXNlcjpwYXNz')).toBe('sent Authorization: Harbor-Secret ***, got 401; Basic ***');
    expect(scrubLine('first line\nsecond line')).toBe('first line');
    expect(scrubLine('caf\u00e9 \u2013 down')).toBe('caf? ? down');
    registerSecrets(['s3cr3tvalue']);
    try {
      expect(scrubLine('known s3cr3tvalue here, S3CR3TVALUE too')).toBe('known *** here, *** too');
    } finally {
      registerSecrets([]);
    }
    expect(scrubLine('y'.repeat(500))).toHaveLength(200);
  });
});
