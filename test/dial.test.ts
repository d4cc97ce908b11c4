/**
 * Every address of a name is dialed, as Go's dialer (and so Harbor) does: a name listed as ::1 and 127.0.0.1,
 * with the server on 127.0.0.1 only, connects, for every target kind. Through the built entry with its own
 * /etc/hosts (helpers/hosts.ts: the entry resolves names with the system resolver, so no lookup can be
 * injected into it; nothing asks DNS), and in-process through dial() with an injected lookup: the order
 * (RFC 8305), a hanging address passed over after 250 ms, the losers closed, and the reason naming each
 * address and how it failed.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptOrder, ATTEMPT_DELAY_MS, dial, everyAddressFailed, type Lookup } from '../src/net/dial.ts';
import { NotReady, type Progress } from '../src/basics/errors.ts';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { makeCerts, type Certs } from './helpers/certs.ts';
import { attemptOnce, context, eventually, notReady, ready } from './helpers/checks.ts';
import { findCheck, parseReport } from './helpers/diagnose.ts';
import { startFakeCore, startHttp, type FakeCore } from './helpers/core.ts';
import { socketsTo, startUnaccepting, type Unaccepting } from './helpers/faulty.ts';
import { DUAL_STACK_LOCALHOST, resolvedInside, runCliWithHosts } from './helpers/hosts.ts';
import { startPostgres, type PgServer } from './helpers/postgres.ts';
import { freePort } from './helpers/processes.ts';
import { startRedis, startSentinel, type RedisServer, type Sentinel } from './helpers/redis.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

const DB_PASSWORD = markedSecret('pg');
const HARBOR_SECRET = markedSecret('hsec');
const CORE_DB_PASSWORD = markedSecret('cdb');
const SECRETS = [DB_PASSWORD, HARBOR_SECRET, CORE_DB_PASSWORD];

/** A lookup that answers `hostname` with `addresses` (in that order) and refuses every other name. */
function answering(hostname: string, addresses: ReadonlyArray<readonly [string, 4 | 6]>): Lookup {
  return async (name) => {
    if (name !== hostname) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return addresses.map(([address, family]) => ({ address, family }));
  };
}

/** A server on `host` that accepts connections and does nothing with them; closed when the file ends. */
const listeners: net.Server[] = [];
async function listen(host: string, port = 0): Promise<number> {
  const server = net.createServer((s) => s.on('error', () => {}));
  listeners.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}
afterAll(async () => {
  await Promise.all(listeners.map((s) => new Promise((resolve) => s.close(resolve))));
});

function dialOnce(host: string, port: number, lookup: Lookup, ms = 5000) {
  const progress: Progress = { stage: 'connect' };
  return dial({ host, port, lookup, signal: AbortSignal.timeout(ms), progress }).then(
    (d) => {
      d.socket.destroy();
      return d.address;
    },
    (err: unknown) => {
      if (err instanceof NotReady) return err;
      throw err;
    },
  );
}

describe('the order addresses are tried in (RFC 8305 §4)', () => {
  it("the families interleaved, starting with the resolver's first; the resolver's order within each; duplicates once", () => {
    const a = (address: string) => ({ address, family: address.includes(':') ? 6 : 4 });
    expect(attemptOrder(['::1', '::2', '10.0.0.1', '10.0.0.2', '10.0.0.3'].map(a))).toEqual(['::1', '10.0.0.1', '::2', '10.0.0.2', '10.0.0.3']);
    expect(attemptOrder(['10.0.0.1', '::1', '10.0.0.1', '10.0.0.2'].map(a))).toEqual(['10.0.0.1', '::1', '10.0.0.2']);
    expect(attemptOrder([a('10.0.0.1')])).toEqual(['10.0.0.1']);
    expect(attemptOrder([])).toEqual([]);
  });
});

describe('dial() over every address (in-process, injected lookup)', () => {
  it('a name listed as ::1 then 127.0.0.1, the server on 127.0.0.1 only: connects to 127.0.0.1', async () => {
    const port = await listen('127.0.0.1');
    const address = await dialOnce('harbor-redis', port, answering('harbor-redis', [['::1', 6], ['127.0.0.1', 4]]));
    expect(address).toBe(`127.0.0.1:${port}`);
  });

  it('every address refused: ECONNREFUSED, the reason naming each address in the order tried', async () => {
    const port = await freePort();
    const e = await dialOnce('harbor-redis', port, answering('harbor-redis', [['::1', 6], ['127.0.0.1', 4]]));
    expect(e).toBeInstanceOf(NotReady);
    expect(e).toMatchObject({
      stage: 'connect',
      code: 'ECONNREFUSED',
      reason: `connection to harbor-redis:${port} failed at every address: [::1]:${port} refused, 127.0.0.1:${port} refused`,
    });
  });

  it('one address: the reason as before, naming the name', async () => {
    const port = await freePort();
    const e = await dialOnce('harbor-redis', port, answering('harbor-redis', [['127.0.0.1', 4]]));
    expect(e).toMatchObject({ code: 'ECONNREFUSED', reason: `connection to harbor-redis:${port} refused: nothing listens there yet` });
  });

  it('a resolver answering no address at all: ENOTFOUND at the dns stage', async () => {
    const e = await dialOnce('harbor-redis', 6379, async () => []);
    expect(e).toMatchObject({ stage: 'dns', code: 'ENOTFOUND' });
  });

  describe('an address that hangs (a full accept queue)', () => {
    let hung: Unaccepting;
    beforeAll(async () => {
      hung = await startUnaccepting();
    });
    afterAll(async () => {
      await hung?.stop();
    });
    const stray = () => socketsTo(hung.port).filter((s) => !hung.fillerPorts.includes(s.localPort) && s.state !== 'LISTEN');

    it('the next address is tried after 250 ms and wins; the attempt still hanging is closed', async () => {
      // The same port on 127.0.0.2, where a server does accept.
      await listen('127.0.0.2', hung.port);
      const started = performance.now();
      const address = await dialOnce('harbor-redis', hung.port, answering('harbor-redis', [['127.0.0.1', 4], ['127.0.0.2', 4]]));
      const took = performance.now() - started;
      expect(address).toBe(`127.0.0.2:${hung.port}`);
      expect(took).toBeGreaterThanOrEqual(ATTEMPT_DELAY_MS - 10);
      expect(took).toBeLessThan(3000);
      await eventually(() => stray().length === 0, 3000);
    });

    it('an abort closes every attempt and rejects with its reason', async () => {
      const controller = new AbortController();
      const reason = new Error('stop');
      const dialing = dial({ host: 'harbor-redis', port: hung.port, lookup: answering('harbor-redis', [['127.0.0.1', 4]]), signal: controller.signal, progress: { stage: 'connect' } });
      await eventually(() => stray().some((s) => s.state === 'SYN_SENT'), 3000);
      controller.abort(reason);
      await expect(dialing).rejects.toBe(reason);
      await eventually(() => stray().length === 0, 3000);
    });
  });

  it('addresses that failed in different ways: the code of the one nearest to a server (refused first)', () => {
    const failure = (address: string, code: string) => ({ address, error: new NotReady('connect', code, `${address}: connect ${code}`) });
    const mixed = everyAddressFailed('harbor-redis:6379', [failure('[fd00::1]:6379', 'ENETUNREACH'), failure('10.0.0.1:6379', 'ECONNREFUSED')]);
    expect(mixed).toMatchObject({ code: 'ECONNREFUSED', reason: 'connection to harbor-redis:6379 failed at every address: [fd00::1]:6379 network unreachable, 10.0.0.1:6379 refused' });
    expect(everyAddressFailed('h:1', [failure('[::1]:1', 'EADDRNOTAVAIL'), failure('10.0.0.1:1', 'ETIMEDOUT')]).code).toBe('ETIMEDOUT');
    expect(everyAddressFailed('h:1', [failure('[::1]:1', 'EADDRNOTAVAIL'), failure('10.0.0.1:1', 'EAFNOSUPPORT')])).toMatchObject({
      code: 'EADDRNOTAVAIL',
      reason: 'connection to h:1 failed at every address: [::1]:1 address not available here, 10.0.0.1:1 address family not supported here',
    });
    const many = everyAddressFailed('h:1', Array.from({ length: 10 }, (_, i) => failure(`10.0.0.${i}:1`, 'ECONNREFUSED')));
    expect(many.reason).toMatch(/10\.0\.0\.7:1 refused, and 2 more$/);
  });

  it('through a check: a Redis target by a name listed as ::1 then 127.0.0.1 is ready at 127.0.0.1', async () => {
    const redis = await startRedis();
    try {
      const r = ready(await attemptOnce(`redis://harbor-redis:${redis.port}`, context({ lookup: answering('harbor-redis', [['::1', 6], ['127.0.0.1', 4]]) })));
      expect(r.address).toBe(`127.0.0.1:${redis.port}`);
      const closed = await freePort();
      const e = notReady(await attemptOnce(`redis://harbor-redis:${closed}`, context({ lookup: answering('harbor-redis', [['::1', 6], ['127.0.0.1', 4]]) })));
      expect(e.reason).toBe(`connection to harbor-redis:${closed} failed at every address: [::1]:${closed} refused, 127.0.0.1:${closed} refused`);
    } finally {
      await redis.stop();
    }
  });
});

describe('through the entry file: localhost listed as ::1 then 127.0.0.1, every server on 127.0.0.1 only', () => {
  let certs: Certs;
  let redis: RedisServer;
  let rediss: RedisServer;
  let sentinel: Sentinel;
  let pg: PgServer;
  let http: Awaited<ReturnType<typeof startHttp>>;
  let https: Awaited<ReturnType<typeof startHttp>>;
  let core: FakeCore;
  beforeAll(async () => {
    // The namespace works and answers as meant (or this fails saying what to install).
    expect(resolvedInside(DUAL_STACK_LOCALHOST, 'localhost')).toEqual(['::1', '127.0.0.1']);
    certs = await makeCerts();
    [redis, rediss, pg, http, https, core] = await Promise.all([
      startRedis(),
      startRedis({ tls: certs }),
      startPostgres(),
      startHttp((_req, res) => res.end('ok')),
      startHttp((_req, res) => res.end('ok'), { cert: certs.serverCert, key: certs.serverKey }),
      startFakeCore({ secret: HARBOR_SECRET, dbPassword: CORE_DB_PASSWORD }),
    ]);
    // It names its master `localhost`, so that the master too is dialed by name.
    sentinel = await startSentinel('mymaster', redis.port, { masterHost: 'localhost' });
    // Not the database's owner: CREATE on its schema is what core's first migration needs.
    await pg.sql(`CREATE ROLE harbor LOGIN PASSWORD '${DB_PASSWORD}'; GRANT CREATE ON SCHEMA public TO harbor`);
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), rediss?.stop(), sentinel?.stop(), pg?.stop(), http?.close(), https?.close(), core?.close()]);
  });

  it('every target kind is ready at its 127.0.0.1 address in one attempt (tcp, redis, rediss, sentinel and its master, postgres, http, https, core)', async () => {
    const targets = {
      tcp: `tcp://localhost:${redis.port}`,
      redis: `redis://localhost:${redis.port}/1`,
      rediss: `rediss://localhost:${rediss.port}`,
      sentinel: `redis+sentinel://localhost:${sentinel.port}/mymaster`,
      postgres: `postgres://harbor:${DB_PASSWORD}@localhost:${pg.port}/postgres?sslmode=disable`,
      http: `http://localhost:${http.port}/`,
      https: `https://localhost:${https.port}/`,
    };
    const r = await runCliWithHosts(DUAL_STACK_LOCALHOST, ['--once', '--log-level', 'debug', '--ca-file', certs.caCert, ...Object.values(targets), '--harbor-core', `http://localhost:${core.port}`], { JOBSERVICE_SECRET: HARBOR_SECRET });
    expect(r.code, r.stdout + r.stderr).toBe(ExitCode.Ready);
    expect(r.events('not_ready')).toEqual([]);
    const at = (prefix: string) => r.events('ready').find((l) => String(l.target).startsWith(prefix))?.address;
    expect(at(targets.tcp)).toBe(`127.0.0.1:${redis.port}`);
    expect(at(targets.redis)).toBe(`127.0.0.1:${redis.port}`);
    expect(at(targets.rediss)).toBe(`127.0.0.1:${rediss.port}`);
    // The sentinel was reached by name, and so was the master it named (localhost).
    expect(at('redis+sentinel://localhost')).toBe(`127.0.0.1:${redis.port}`);
    expect(at(`postgres://harbor:***@localhost:${pg.port}`)).toBe(`127.0.0.1:${pg.port}`);
    expect(at(targets.http)).toBe(`127.0.0.1:${http.port}`);
    expect(at(targets.https)).toBe(`127.0.0.1:${https.port}`);
    expect(at(`http://localhost:${core.port}`)).toBe(`127.0.0.1:${core.port}`);
    expect(r.events('ready')).toHaveLength(8);
    expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, SECRETS);
  });

  it('nothing listening at either address: ECONNREFUSED, the reason naming both, for a plain and a Redis target', async () => {
    const port = await freePort();
    const r = await runCliWithHosts(DUAL_STACK_LOCALHOST, ['--once', `tcp://localhost:${port}`, `redis://localhost:${port}`]);
    expect(r.code).toBe(ExitCode.Failure);
    const reason = `connection to localhost:${port} failed at every address: [::1]:${port} refused, 127.0.0.1:${port} refused`;
    for (const target of [`tcp://localhost:${port}`, `redis://localhost:${port}`]) {
      expect(r.events('not_ready').find((l) => l.target === target)).toMatchObject({ stage: 'connect', code: 'ECONNREFUSED', reason });
    }
  });

  it('diagnose: both addresses listed; the refused one a warning, since every client that tries each connects; exit 0', async () => {
    const r = await runCliWithHosts(DUAL_STACK_LOCALHOST, ['diagnose', '--log-format', 'json', `redis://localhost:${redis.port}`]);
    expect(r.code, r.stdout).toBe(0);
    const report = parseReport(r.stdout);
    expect(report.ok).toBe(true);
    expect(findCheck(report, 'redis://', 'system resolver')).toMatchObject({ status: 'ok', value: 'localhost: ::1, 127.0.0.1' });
    expect(findCheck(report, 'redis://', `connect 127.0.0.1:${redis.port}`)).toMatchObject({ status: 'ok' });
    const v6 = findCheck(report, 'redis://', `connect [::1]:${redis.port}`);
    expect(v6).toMatchObject({ status: 'warn', value: expect.stringMatching(/^refused after /) });
    expect(v6.hint).toMatch(new RegExp(`connect through 127\\.0\\.0\\.1:${redis.port}`));
    expect(findCheck(report, 'redis://', 'ping')).toMatchObject({ status: 'ok' });
  });
});
