/** Redis checks against real redis-server and redis-sentinel processes. */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type Certs } from '../helpers/certs.ts';
import { abortedAt, attemptOnce, context, eventually, loopbackLookup, notReady, ready } from '../helpers/checks.ts';
import { freePort } from '../helpers/processes.ts';
import { otherClients, startLoadingRedis, startRedis, startSentinel, type RedisServer } from '../helpers/redis.ts';

const PASSWORD = 'redis-Pass:w/rd@MARK';
const ENCODED = encodeURIComponent(PASSWORD);

describe('plain redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });

  it('is ready when PING answers PONG, reporting the address connected', async () => {
    const r = ready(await attemptOnce(`redis://127.0.0.1:${server.port}`));
    expect(r.address).toBe(`127.0.0.1:${server.port}`);
  });

  it('selects the database from the path', async () => {
    ready(await attemptOnce(`redis://127.0.0.1:${server.port}/15`));
    const e = notReady(await attemptOnce(`redis://127.0.0.1:${server.port}/16`));
    expect(e).toMatchObject({ stage: 'response', code: 'ERR' });
    expect(e.reason).toContain('SELECT');
  });

  it('resolves a host name through the resolver and reports the address it got', async () => {
    const r = ready(await attemptOnce(`redis://redis.harbor.svc:${server.port}`, context({ lookup: loopbackLookup(['redis.harbor.svc']) })));
    expect(r.address).toBe(`127.0.0.1:${server.port}`);
  });

  it('reports a name that does not resolve at the dns stage', async () => {
    const e = notReady(await attemptOnce(`redis://harbor-redis:${server.port}`, context({ lookup: loopbackLookup([]) })));
    expect(e).toMatchObject({ stage: 'dns', code: 'ENOTFOUND' });
  });

  it('reports a refused connection at the connect stage', async () => {
    const port = await freePort();
    const e = notReady(await attemptOnce(`redis://127.0.0.1:${port}`));
    expect(e).toMatchObject({ stage: 'connect', code: 'ECONNREFUSED' });
  });

  it('leaves no connection open after attempts, ready or not', async () => {
    const admin = server.admin();
    for (let i = 0; i < 10; i++) {
      ready(await attemptOnce(`redis://127.0.0.1:${server.port}/1`));
      notReady(await attemptOnce(`redis://127.0.0.1:${server.port}/99`));
      notReady(await attemptOnce(`redis://:nopassword@127.0.0.1:${server.port}`));
    }
    await eventually(async () => (await otherClients(admin)) === 0);
  });
});

describe('redis with requirepass', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ args: ['--requirepass', PASSWORD], password: PASSWORD });
  });

  it('is ready with the percent-encoded password', async () => {
    ready(await attemptOnce(`redis://:${ENCODED}@127.0.0.1:${server.port}/0?idle_timeout_seconds=30`));
  });

  it('reports a wrong password as WRONGPASS at the auth stage', async () => {
    const e = notReady(await attemptOnce(`redis://:wrong@127.0.0.1:${server.port}`));
    expect(e).toMatchObject({ stage: 'auth', code: 'WRONGPASS' });
  });

  it('reports a missing password as NOAUTH at the auth stage', async () => {
    const e = notReady(await attemptOnce(`redis://127.0.0.1:${server.port}`));
    expect(e).toMatchObject({ stage: 'auth', code: 'NOAUTH' });
  });

  it('closes the connections of failed AUTH attempts', async () => {
    const admin = server.admin();
    for (let i = 0; i < 10; i++) notReady(await attemptOnce(`redis://:wrong@127.0.0.1:${server.port}`));
    await eventually(async () => (await otherClients(admin)) === 0);
  });
});

describe('redis with an ACL user', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ args: ['--user', 'harbor', 'on', `>${PASSWORD}`, '~*', '&*', '+@all', '--user', 'default', 'off'] });
  });

  it('is ready with user:password', async () => {
    ready(await attemptOnce(`redis://harbor:${ENCODED}@127.0.0.1:${server.port}/2`));
  });

  it('reports a wrong password for the user as WRONGPASS', async () => {
    const e = notReady(await attemptOnce(`redis://harbor:nope@127.0.0.1:${server.port}`));
    expect(e).toMatchObject({ stage: 'auth', code: 'WRONGPASS' });
  });
});

describe('redis loading its dataset', () => {
  it('is not ready (LOADING) while loading, then ready', async () => {
    const server = await startLoadingRedis(3);
    const url = `redis://127.0.0.1:${server.port}`;
    const e = notReady(await attemptOnce(url));
    expect(e).toMatchObject({ stage: 'response', code: 'LOADING' });
    expect(e.reason).toContain('loading');
    await eventually(async () => 'ready' in (await attemptOnce(url)), 30_000);
    await server.stop();
  });
});

describe('redis answering errors that mean "not ready"', () => {
  it('reports BUSY while a script runs past busy-reply-threshold', async () => {
    const server = await startRedis({ args: ['--busy-reply-threshold', '50'] });
    const blocker = server.admin();
    const killer = server.admin();
    await killer.ping(); // connected before the server turns busy
    const running = blocker.eval('local i = 0 while true do i = i + 1 end', 0).catch(() => {});
    await new Promise((r) => setTimeout(r, 200));
    const e = notReady(await attemptOnce(`redis://127.0.0.1:${server.port}`));
    expect(e).toMatchObject({ stage: 'response', code: 'BUSY' });
    await killer.call('SCRIPT', 'KILL');
    await running;
    ready(await attemptOnce(`redis://127.0.0.1:${server.port}`));
    await server.stop();
  });

  it('reports MASTERDOWN from a replica that must not serve stale data while its master is down', async () => {
    const gone = await freePort();
    const server = await startRedis({ args: ['--replicaof', '127.0.0.1', String(gone), '--replica-serve-stale-data', 'no'] });
    const e = notReady(await attemptOnce(`redis://127.0.0.1:${server.port}`));
    expect(e).toMatchObject({ stage: 'response', code: 'MASTERDOWN' });
    await server.stop();
  });
});

describe('redis over TLS', () => {
  let certs: Certs;
  let server: RedisServer;
  let plain: RedisServer;
  beforeAll(async () => {
    certs = await makeCerts();
    server = await startRedis({ tls: certs, args: ['--requirepass', PASSWORD] });
    plain = await startRedis();
  });

  it('is ready when the certificate verifies against --ca-file', async () => {
    const ctx = context({ tls: { ca: certs.caPem } });
    ready(await attemptOnce(`rediss://:${ENCODED}@127.0.0.1:${server.port}`, ctx));
    ready(await attemptOnce(`rediss://:${ENCODED}@localhost:${server.port}`, ctx));
  });

  it('is not ready at the tls stage when the CA is not trusted', async () => {
    const e = notReady(await attemptOnce(`rediss://:${ENCODED}@127.0.0.1:${server.port}`));
    expect(e.stage).toBe('tls');
    expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']).toContain(e.code);
    expect(e.reason).toContain('--ca-file');
  });

  it('checks the host name against the certificate', async () => {
    const ctx = context({ tls: { ca: certs.caPem }, lookup: loopbackLookup(['harbor-redis']) });
    const e = notReady(await attemptOnce(`rediss://:${ENCODED}@harbor-redis:${server.port}`, ctx));
    expect(e).toMatchObject({ stage: 'tls', code: 'HOSTNAME_MISMATCH' });
  });

  it("honours Harbor's skip_verify=true", async () => {
    ready(await attemptOnce(`rediss://:${ENCODED}@127.0.0.1:${server.port}?skip_verify=true`));
  });

  it('hangs in the tls stage against a plain port (redis waits for a newline), so the attempt timeout ends it', async () => {
    const stage = abortedAt(await attemptOnce(`rediss://127.0.0.1:${plain.port}`, context({ tls: { ca: certs.caPem } }), 300));
    expect(stage).toBe('tls');
  });

  it('reports plain text against a TLS port as not ready, with a hint', async () => {
    const e = notReady(await attemptOnce(`redis://:${ENCODED}@127.0.0.1:${server.port}`));
    expect(['auth', 'response', 'connect']).toContain(e.stage);
    expect(e.reason).toContain('rediss://');
  });
});

describe('redis behind sentinels', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let sentinel: Awaited<ReturnType<typeof startSentinel>>;
  let wrong: Awaited<ReturnType<typeof startSentinel>>;
  beforeAll(async () => {
    master = await startRedis({ args: ['--requirepass', PASSWORD, '--masterauth', PASSWORD], password: PASSWORD });
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port), '--masterauth', PASSWORD, '--requirepass', PASSWORD] });
    sentinel = await startSentinel('mymaster', master.port);
    wrong = await startSentinel('stale', replica.port);
  });
  afterAll(async () => {
    await Promise.all([sentinel.stop(), wrong.stop()]);
  });

  it('asks the sentinel for the master, confirms ROLE and connects to it', async () => {
    const r = ready(await attemptOnce(`redis+sentinel://:${ENCODED}@127.0.0.1:${sentinel.port}/mymaster/0?idle_timeout_seconds=30`));
    expect(r.address).toBe(`127.0.0.1:${master.port}`);
  });

  it('asks the next sentinel when one is down', async () => {
    const down = await freePort();
    const r = ready(await attemptOnce(`redis+sentinel://:${ENCODED}@127.0.0.1:${down},127.0.0.1:${sentinel.port}/mymaster`));
    expect(r.address).toBe(`127.0.0.1:${master.port}`);
  });

  it('reports when no sentinel is up, naming the last failure', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const e = notReady(await attemptOnce(`redis+sentinel://127.0.0.1:${a},127.0.0.1:${b}/mymaster`));
    expect(e).toMatchObject({ stage: 'connect', code: 'ECONNREFUSED' });
    expect(e.reason).toContain('none of 2 sentinels');
  });

  it('reports a master name no sentinel knows', async () => {
    const e = notReady(await attemptOnce(`redis+sentinel://127.0.0.1:${sentinel.port}/othermaster`));
    expect(e).toMatchObject({ stage: 'response', code: 'UNKNOWN_MASTER' });
    expect(e.reason).toContain('othermaster');
  });

  it('is not ready when the address the sentinel gives is a replica', async () => {
    const e = notReady(await attemptOnce(`redis+sentinel://:${ENCODED}@127.0.0.1:${wrong.port}/stale`));
    expect(e).toMatchObject({ stage: 'response', code: 'NOT_MASTER' });
    expect(e.reason).toContain('slave');
  });

  it('sends the password to the master, not to the sentinel', async () => {
    const e = notReady(await attemptOnce(`redis+sentinel://:wrong@127.0.0.1:${sentinel.port}/mymaster`));
    expect(e).toMatchObject({ stage: 'auth', code: 'WRONGPASS' });
    expect(e.reason).toContain(`127.0.0.1:${master.port}`);
  });
});

describe('cancellation', () => {
  it('stops an attempt stuck waiting for an answer and closes its socket', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      s.resume(); // read (and drop) what comes, so that the client's close is seen
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    const started = performance.now();
    const stage = abortedAt(await attemptOnce(`redis://127.0.0.1:${port}`, context(), 200));
    expect(stage).toBe('response');
    expect(performance.now() - started).toBeLessThan(3000);
    await eventually(() => sockets.size === 0);
    silent.close();
  });
});
