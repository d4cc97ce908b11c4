/**
 * `harbor-wait diagnose` on Redis targets, against real redis-server and redis-sentinel processes, through the
 * built entry as users run it: memory and client limits, a server loading, a replica without its master, an
 * ACL user without INFO, TLS, and a sentinel pair with and without quorum. Each run carries a marked password
 * and is checked for leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type Certs } from './helpers/certs.ts';
import { eventually } from './helpers/checks.ts';
import { runCli } from './helpers/cli.ts';
import { LEVELS, parseReport, type DiagnoseCheck, type DiagnoseReport } from './helpers/diagnose.ts';
import { freePort } from './helpers/processes.ts';
import { holdConnections, infoField, startLoadingRedis, startRedis, startSentinel, type RedisServer, type Sentinel } from './helpers/redis.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

type Check = DiagnoseCheck;
type Report = DiagnoseReport;
const PASSWORD = markedSecret('rpw');
const ENCODED = encodeURIComponent(PASSWORD);

/** One diagnose run of `url` (JSON report), checked for leaks of every marked secret. */
async function diagnose(url: string, o: { args?: readonly string[]; level?: string; secrets?: readonly string[] } = {}) {
  const r = await runCli(['diagnose', '--log-format', 'json', '--log-level', o.level ?? 'info', ...(o.args ?? []), url]);
  expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [PASSWORD, ...(o.secrets ?? [])]);
  const report = parseReport(r.stdout, r.stderr);
  const target = report.targets[0] as Report['targets'][number];
  return {
    code: r.code,
    report,
    checks: target.checks,
    /** The one check of the Redis target named `name`. */
    check(name: string): Check {
      const found = target.checks.filter((c) => c.name === name);
      expect(found, `checks named "${name}" among ${target.checks.map((c) => c.name).join(', ')}`).toHaveLength(1);
      return found[0] as Check;
    },
    /** A check of this pod's settings. */
    setting(name: string): Check | undefined {
      return report.targets.at(-1)?.checks.find((c) => c.name === name);
    },
  };
}

const INFO_CHECKS = ['version', 'role', 'loading', 'last save', 'memory', 'clients', 'rejected connections', 'evicted keys', 'errors'];

describe('memory: used_memory against maxmemory', () => {
  let server: RedisServer;
  let used = 0;
  beforeAll(async () => {
    server = await startRedis({ args: ['--requirepass', PASSWORD, '--maxmemory-policy', 'noeviction'], password: PASSWORD });
    const admin = server.admin();
    const pipeline = admin.pipeline();
    for (let i = 0; i < 120; i++) pipeline.set(`blob:${i}`, 'x'.repeat(64 * 1024));
    await pipeline.exec();
    used = Number(await infoField(admin, 'memory', 'used_memory'));
  });
  afterAll(() => server.stop());

  it('warns past 90% of maxmemory, with the policy', async () => {
    await server.admin().config('SET', 'maxmemory', String(Math.floor(used / 0.94)));
    const r = await diagnose(`redis://:${ENCODED}@127.0.0.1:${server.port}`);
    const memory = r.check('memory');
    expect(memory).toMatchObject({ layer: 'limits', status: 'warn', value: expect.stringMatching(/^9\d% of \d+\.\d MiB \(noeviction\); \d+\.\d MiB used; allocator_frag_ratio [\d.]+$/) });
    expect(memory.hint).toMatch(/at 100% writes fail with -OOM/);
    expect(r.code).toBe(0);
  });

  it('fails at the limit with noeviction, and with volatile-lru (ElastiCache\'s default); the refused write is counted', async () => {
    const admin = server.admin();
    await admin.config('SET', 'maxmemory', String(Math.floor(used * 0.8)));
    await expect(admin.set('one-more', 'x')).rejects.toThrow(/^OOM/);
    const r = await diagnose(`redis://:${ENCODED}@127.0.0.1:${server.port}`);
    expect(r.check('memory')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^1[2-3]\d% of \d+\.\d MiB \(noeviction\); /), hint: expect.stringMatching(/^writes fail with -OOM/) });
    expect(r.check('errors')).toMatchObject({ status: 'warn', value: expect.stringMatching(/^OOM 1 \(of \d+ error repl(y|ies) since start\)$/) });
    expect(r.code).toBe(1);

    await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
    const v = await diagnose(`redis://:${ENCODED}@127.0.0.1:${server.port}`);
    expect(v.check('memory')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^1[2-3]\d% of .* \(volatile-lru\); /), hint: expect.stringMatching(/acts as noeviction \(ElastiCache's default is volatile-lru\)/) });
    expect(v.code).toBe(1);
  });
});

describe('clients: connected_clients against maxclients', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ args: ['--requirepass', PASSWORD, '--maxclients', '10'], password: PASSWORD });
  });
  afterAll(() => server.stop());

  it('warns at 90%; at the limit the greeting -ERR max number of clients reached is reported and the rest skipped; then rejected connections warn', async () => {
    const admin = server.admin();
    await admin.ping();
    const held = await holdConnections(server.port, 7);
    await eventually(async () => (await infoField(admin, 'clients', 'connected_clients')) === '8');
    const near = await diagnose(`redis://:${ENCODED}@127.0.0.1:${server.port}`);
    expect(near.check('clients')).toMatchObject({ layer: 'limits', status: 'warn', value: '9 of 10 (90%, this connection included)' });
    expect(near.check('clients').hint).toMatch(/max number of clients reached.*raise maxclients/);
    expect(near.check('rejected connections')).toMatchObject({ status: 'ok', value: expect.stringMatching(/^0 in /) });
    expect(near.code).toBe(0);

    const more = await holdConnections(server.port, 2);
    await eventually(async () => (await infoField(admin, 'clients', 'connected_clients')) === '10');
    const full = await diagnose(`redis://:${ENCODED}@127.0.0.1:${server.port}`);
    expect(full.check('connection')).toMatchObject({ layer: 'auth', status: 'fail', value: '-ERR max number of clients reached, then the server closed the connection' });
    expect(full.check('connection').hint).toMatch(/raise maxclients, or find the client that leaks connections/);
    for (const name of ['auth', 'ping', ...INFO_CHECKS]) {
      expect(full.check(name), name).toMatchObject({ status: 'skip', hint: 'the server is at maxclients and refuses new connections' });
    }
    expect(full.code).toBe(1);

    more.close();
    await eventually(async () => (await infoField(admin, 'clients', 'connected_clients')) === '8');
    const after = await diagnose(`redis://:${ENCODED}@127.0.0.1:${server.port}`);
    expect(after.check('rejected connections')).toMatchObject({ status: 'warn', value: expect.stringMatching(/^[1-9]\d* in \d+ s of uptime$/) });
    held.close();
  });
});

describe('a server loading its dataset', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startLoadingRedis(30, { args: ['--requirepass', PASSWORD] });
  });
  afterAll(() => server.stop());

  it('fails loading with its progress and ETA (and the deadline warns against the ETA); PING is -LOADING, INFO still read', async () => {
    // Long enough into the load for the server's ETA to be an estimate rather than its first guess.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const r = await diagnose(`redis://:${ENCODED}@127.0.0.1:${server.port}`, { args: ['--deadline', '5s'] });
    expect(r.check('auth')).toMatchObject({ status: 'ok', value: 'AUTH accepted as the default user' });
    const loading = r.check('loading');
    expect(loading).toMatchObject({ layer: 'server', status: 'fail', value: expect.stringMatching(/^loading the dataset: \d+\.\d% loaded of \d+\.\d KiB, ETA \d+ s$/) });
    expect(loading.hint).toMatch(/-LOADING.*goharbor\/harbor#14221/);
    const eta = Number(/ETA (\d+) s/.exec(loading.value)?.[1]);
    expect(eta).toBeGreaterThan(5);
    expect(r.check('ping')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^-LOADING /) });
    expect(r.check('version')).toMatchObject({ status: 'ok', value: expect.stringMatching(/^Redis \d+\.\d+\.\d+ \(standalone; up \d+ s\)$/) });
    expect(r.setting('deadline')).toMatchObject({ status: 'warn', value: expect.stringMatching(/still needs to load its dataset/) });
    expect(r.code).toBe(1);
  });
});

describe('a replica', () => {
  let master: RedisServer;
  let replica: RedisServer;
  beforeAll(async () => {
    master = await startRedis({ args: ['--requirepass', PASSWORD], password: PASSWORD });
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port), '--masterauth', PASSWORD, '--requirepass', PASSWORD], password: PASSWORD });
  });
  afterAll(async () => {
    await replica.stop();
    await master.stop();
  });

  it('is a fail for a plain URL (writes get -READONLY); with its master gone, master_link_status down is shown', async () => {
    const admin = replica.admin();
    await eventually(async () => (await infoField(admin, 'replication', 'master_link_status')) === 'up', 15_000);
    const up = await diagnose(`redis://:${ENCODED}@127.0.0.1:${replica.port}`);
    expect(up.check('role')).toMatchObject({ status: 'fail', value: `replica of 127.0.0.1:${master.port}; master_link_status up`, hint: expect.stringMatching(/-READONLY/) });
    expect(up.code).toBe(1);

    await master.stop();
    await eventually(async () => (await infoField(admin, 'replication', 'master_link_status')) === 'down');
    const down = await diagnose(`redis://:${ENCODED}@127.0.0.1:${replica.port}`);
    const role = down.check('role');
    expect(role).toMatchObject({ layer: 'server', status: 'fail', value: expect.stringMatching(new RegExp(`^replica of 127\\.0\\.0\\.1:${master.port}; master_link_status down for \\d+ s`)) });
    expect(role.hint).toMatch(/lost its master/);
    // replica-serve-stale-data (the default) still answers PING.
    expect(down.check('ping').status).toBe('ok');
    expect(down.code).toBe(1);
  });
});

describe('an ACL user without INFO', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ args: ['--requirepass', PASSWORD], password: PASSWORD });
    await server.admin().call('ACL', 'SETUSER', 'limited', 'on', `>${PASSWORD}`, '~*', '+ping', '+select');
    await server.admin().call('ACL', 'SETUSER', 'noselect', 'on', `>${PASSWORD}`, '~*', '+ping');
  });
  afterAll(() => server.stop());

  it('skips every INFO check, saying which command was refused and why; the role, with ROLE refused too, warns; nothing fails, exit 0', async () => {
    const r = await diagnose(`redis://limited:${ENCODED}@127.0.0.1:${server.port}/3`);
    expect(r.check('auth')).toMatchObject({ status: 'ok', value: 'AUTH accepted as user limited' });
    expect(r.check('select')).toMatchObject({ status: 'ok', value: 'db 3 selected' });
    expect(r.check('ping')).toMatchObject({ status: 'ok', value: expect.stringMatching(/^PONG; min .*\(5 samples\)$/) });
    for (const name of INFO_CHECKS.filter((n) => n !== 'role')) {
      const c = r.check(name);
      expect(c, name).toMatchObject({ status: 'skip', value: expect.stringMatching(/^INFO \w+$/) });
      expect(c.hint, name).toMatch(/^INFO \w+ was refused \("NOPERM .*"\): this ACL user may not run it$/);
    }
    // The role, as the waiter reads it: INFO replication refused, then ROLE refused too: a warning, not a skip.
    expect(r.check('role')).toMatchObject({ status: 'warn', value: 'the role could not be confirmed' });
    expect(r.check('role').hint).toMatch(/^INFO replication was refused \("NOPERM .*"\): this ACL user may not run it; ROLE was refused \("NOPERM .*"\).*-READONLY/);
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.report.ok).toBe(true);
    expect(r.code).toBe(0);
  });

  it('a command Harbor itself sends (SELECT) refused by the ACL is a failure, not a skip', async () => {
    const r = await diagnose(`redis://noselect:${ENCODED}@127.0.0.1:${server.port}/3`);
    const select = r.check('select');
    expect(select).toMatchObject({ status: 'fail', value: expect.stringMatching(/^SELECT 3: "NOPERM /) });
    expect(select.hint).toMatch(/Harbor sends SELECT 3 on every connection and fails on this reply: grant \+select/);
    expect(r.check('ping').status).toBe('ok');
    expect(r.code).toBe(1);
  });

  it('a wrong password is WRONGPASS, and what needs the login skips', async () => {
    const wrong = markedSecret('bad');
    const r = await diagnose(`redis://limited:${encodeURIComponent(wrong)}@127.0.0.1:${server.port}`, { secrets: [wrong] });
    expect(r.check('auth')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^AUTH as user limited: "WRONGPASS /) });
    expect(r.check('ping')).toMatchObject({ status: 'skip', hint: 'the login (AUTH) failed' });
    expect(r.code).toBe(1);
  });
});

describe('a server that accepts connections but never answers', () => {
  it('fails the connection at the step timeout, skips the rest, and stays bounded', async () => {
    const server = await startRedis({ args: ['--requirepass', PASSWORD] });
    server.process.child.kill('SIGSTOP');
    try {
      const r = await diagnose(`redis://:${ENCODED}@127.0.0.1:${server.port}`, { args: ['--attempt-timeout', '1s'] });
      // The kernel accepts the connection; AUTH gets no answer.
      expect(r.check(`connect 127.0.0.1:${server.port}`).status).toBe('ok');
      expect(r.check('connection')).toMatchObject({ layer: 'auth', status: 'fail', value: expect.stringMatching(/^AUTH_TIMEOUT: no answer within the 1s step timeout/) });
      expect(r.check('ping')).toMatchObject({ status: 'skip', hint: `the connection to 127.0.0.1:${server.port} failed during AUTH (AUTH_TIMEOUT)` });
      expect(r.checks.some((c) => c.name === 'plain text on a TLS port')).toBe(false);
      expect(r.code).toBe(1);
    } finally {
      server.process.child.kill('SIGCONT');
      await server.stop();
    }
  });
});

describe('TLS', () => {
  let certs: Certs;
  let good: RedisServer;
  let wrongName: RedisServer;
  beforeAll(async () => {
    certs = await makeCerts();
    good = await startRedis({ tls: certs, args: ['--requirepass', PASSWORD] });
    wrongName = await startRedis({ tls: certs, args: ['--requirepass', PASSWORD, '--tls-cert-file', certs.wrongNameCert, '--tls-key-file', certs.wrongNameKey] });
  });
  afterAll(async () => {
    await good.stop();
    await wrongName.stop();
  });

  it('rediss:// verified, then the same checks over TLS', async () => {
    const r = await diagnose(`rediss://:${ENCODED}@127.0.0.1:${good.port}`, { args: ['--ca-file', certs.caCert] });
    expect(r.check('url').value).toBe(`rediss (TLS), 127.0.0.1:${good.port}, db 0, default user, password given`);
    expect(r.check('verification')).toMatchObject({ status: 'ok', value: 'chain verified; host name 127.0.0.1 matches' });
    expect(r.check('ping').status).toBe('ok');
    expect(r.code).toBe(0);

    const off = await diagnose(`rediss://:${ENCODED}@127.0.0.1:${good.port}`, { args: ['--ca-file', certs.caCert, '--insecure-skip-verify'] });
    expect(off.check('verification')).toMatchObject({ status: 'ok', value: 'chain verified; host name 127.0.0.1 matches (not enforced: --insecure-skip-verify)' });
  });

  it('a certificate for another name fails TLS and skips the rest; skip_verify=true reports it ignored and goes on', async () => {
    const failing = await diagnose(`rediss://:${ENCODED}@127.0.0.1:${wrongName.port}`, { args: ['--ca-file', certs.caCert] });
    expect(failing.check('verification')).toMatchObject({ status: 'fail', value: 'chain verified; host name 127.0.0.1 not in the certificate' });
    expect(failing.check('auth')).toMatchObject({ status: 'skip', hint: `TLS to 127.0.0.1:${wrongName.port} failed` });
    expect(failing.code).toBe(1);

    const skipping = await diagnose(`rediss://:${ENCODED}@127.0.0.1:${wrongName.port}?skip_verify=true`, { args: ['--ca-file', certs.caCert] });
    expect(skipping.check('verification')).toMatchObject({ status: 'warn', value: 'chain verified; host name 127.0.0.1 not in the certificate (ignored: skip_verify=true in the URL)' });
    expect(skipping.check('ping').status).toBe('ok');
    expect(skipping.code).toBe(0);
  });

  it('redis:// to a TLS port: the connection fails and the TLS port is named', async () => {
    const r = await diagnose(`redis://:${ENCODED}@127.0.0.1:${good.port}`, { args: ['--attempt-timeout', '2s'] });
    expect(r.check('connection')).toMatchObject({ layer: 'auth', status: 'fail' });
    expect(r.check('plain text on a TLS port')).toMatchObject({ status: 'fail', hint: expect.stringMatching(/use rediss:\/\//) });
    expect(r.code).toBe(1);
  });
});

describe('behind sentinels', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let s1: Sentinel;
  let s2: Sentinel;
  let stale: Sentinel;
  beforeAll(async () => {
    master = await startRedis({ args: ['--requirepass', PASSWORD, '--masterauth', PASSWORD], password: PASSWORD });
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port), '--masterauth', PASSWORD, '--requirepass', PASSWORD], password: PASSWORD });
    [s1, s2, stale] = await Promise.all([
      startSentinel('mymaster', master.port, { password: PASSWORD }),
      startSentinel('mymaster', master.port, { password: PASSWORD }),
      startSentinel('stale', replica.port),
    ]);
    // The two find each other through the master's hello channel (every 2 s).
    await eventually(async () => {
      const known = await Promise.all([s1, s2].map(async (s) => ((await s.admin().call('SENTINEL', 'sentinels', 'mymaster')) as unknown[]).length));
      return known.every((n) => n === 1);
    }, 20_000);
  });
  afterAll(async () => {
    await Promise.all([s1, s2, stale].map((s) => s?.stop()));
    await replica.stop();
    await master.stop();
  });

  const pair = () => `redis+sentinel://:${ENCODED}@127.0.0.1:${s1.port},127.0.0.1:${s2.port}/mymaster`;

  it('each sentinel\'s view, the quorum, the master\'s role, then the master\'s checks', async () => {
    const r = await diagnose(pair());
    expect(r.check('url').value).toBe(`redis+sentinel (plain text), sentinels 127.0.0.1:${s1.port}, 127.0.0.1:${s2.port}, master "mymaster", db 0, default user, password given (for the master; none is sent to the sentinels)`);
    for (const s of [s1, s2]) {
      expect(r.check(`sentinel 127.0.0.1:${s.port}`)).toMatchObject({ layer: 'server', status: 'ok', value: expect.stringMatching(new RegExp(`^master "mymaster" at 127\\.0\\.0\\.1:${master.port} \\(status ok, \\d+ replicas?, 2 sentinels\\)$`)) });
      expect(r.check(`connect 127.0.0.1:${s.port}`).status).toBe('ok');
    }
    expect(r.check('quorum')).toMatchObject({ status: 'ok', value: `OK 2 usable Sentinels. Quorum and failover authorization can be reached (asked sentinel 127.0.0.1:${s1.port})` });
    expect(r.check(`connect 127.0.0.1:${master.port}`).status).toBe('ok');
    expect(r.check('master role')).toMatchObject({ status: 'ok', value: expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${master.port} is a master \\(\\d+ replicas?\\)$`)) });
    expect(r.check('auth')).toMatchObject({ status: 'ok', value: 'AUTH accepted as the default user' });
    expect(r.check('role').status).toBe('ok');
    expect(r.check('ping').status).toBe('ok');
    expect(r.code).toBe(0);
  });

  it('without quorum: NOQUORUM fails', async () => {
    await Promise.all([s1, s2].map((s) => s.admin().call('SENTINEL', 'SET', 'mymaster', 'quorum', '3')));
    try {
      const r = await diagnose(pair());
      const quorum = r.check('quorum');
      expect(quorum).toMatchObject({ status: 'fail', value: `NOQUORUM 2 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master (asked sentinel 127.0.0.1:${s1.port})` });
      expect(quorum.hint).toMatch(/no replica is promoted/);
      expect(r.check('master role').status).toBe('ok');
      expect(r.code).toBe(1);
    } finally {
      await Promise.all([s1, s2].map((s) => s.admin().call('SENTINEL', 'SET', 'mymaster', 'quorum', '1')));
    }
  });

  it('a master that answers ROLE as a replica fails master role; a sentinel without the name warns beside one that knows it', async () => {
    const r = await diagnose(`redis+sentinel://:${ENCODED}@127.0.0.1:${stale.port}/stale`);
    expect(r.check(`sentinel 127.0.0.1:${stale.port}`).status).toBe('ok');
    // The replica's link state as ROLE says it: connected once its sync is done, connecting / handshake / sync before.
    expect(r.check('master role')).toMatchObject({ status: 'fail', value: expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${replica.port} is a replica of 127\\.0\\.0\\.1:${master.port} \\((connected|connecting|handshake|sync)\\)$`)) });
    expect(r.check('master role').hint).toMatch(/stale, or a failover is under way/);
    expect(r.check('role').status).toBe('fail');
    expect(r.code).toBe(1);

    const mixed = await diagnose(`redis+sentinel://:${ENCODED}@127.0.0.1:${stale.port},127.0.0.1:${s1.port}/mymaster`);
    expect(mixed.check(`sentinel 127.0.0.1:${stale.port}`)).toMatchObject({ status: 'warn', value: 'knows no master named "mymaster"', hint: expect.stringMatching(/it monitors "stale"/) });
    expect(mixed.check('master role').status).toBe('ok');
    expect(mixed.code).toBe(0);
  });

  it('sentinels that name different masters: the one that differs from the first warns', async () => {
    const other = await startRedis({ args: ['--requirepass', PASSWORD], password: PASSWORD });
    const elsewhere = await startSentinel('mymaster', other.port, { password: PASSWORD });
    try {
      const r = await diagnose(`redis+sentinel://:${ENCODED}@127.0.0.1:${s1.port},127.0.0.1:${elsewhere.port}/mymaster`);
      expect(r.check(`sentinel 127.0.0.1:${s1.port}`).status).toBe('ok');
      const differs = r.check(`sentinel 127.0.0.1:${elsewhere.port}`);
      expect(differs).toMatchObject({ status: 'warn', value: expect.stringMatching(new RegExp(`^master "mymaster" at 127\\.0\\.0\\.1:${other.port} `)) });
      expect(differs.hint).toContain(`the sentinels disagree: the first to answer (whom Harbor asks first) says 127.0.0.1:${master.port}`);
      // Harbor follows the first sentinel that answers.
      expect(r.check(`connect 127.0.0.1:${master.port}`).status).toBe('ok');
      expect(r.code).toBe(0);
    } finally {
      await elsewhere.stop();
      await other.stop();
    }
  });

  it('a sentinel that is down is a TCP failure and its view skips; the next one answers, as Harbor asks them in order', async () => {
    const down = await freePort();
    const r = await diagnose(`redis+sentinel://:${ENCODED}@127.0.0.1:${down},127.0.0.1:${s1.port}/mymaster`);
    expect(r.check(`connect 127.0.0.1:${down}`)).toMatchObject({ status: 'fail', value: expect.stringMatching(/^refused after /) });
    expect(r.check(`sentinel 127.0.0.1:${down}`)).toMatchObject({ status: 'skip', hint: `no address of 127.0.0.1:${down} accepted a TCP connection` });
    expect(r.check(`sentinel 127.0.0.1:${s1.port}`).status).toBe('ok');
    expect(r.check('master role').status).toBe('ok');
    expect(r.code).toBe(1);
  });

  it('redis:// to a sentinel\'s port: the version check names it, and the data checks skip', async () => {
    const r = await diagnose(`redis://127.0.0.1:${s1.port}`);
    expect(r.check('version')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^Redis \d+\.\d+\.\d+ \(sentinel; up /), hint: expect.stringMatching(/redis\+sentinel:\/\/HOST:PORT\/MASTER-NAME/) });
    expect(r.check('memory')).toMatchObject({ status: 'skip', hint: 'the server is a Sentinel, which keeps no data' });
    expect(r.code).toBe(1);
  });

  it('never prints a password, at any log level: the sentinel pair, and a wrong password (WRONGPASS from the master)', async () => {
    const wrong = markedSecret('bad');
    for (const level of LEVELS) {
      const ok = await diagnose(pair(), { level });
      expect(ok.code).toBe(0);
      const bad = await diagnose(`redis+sentinel://:${encodeURIComponent(wrong)}@127.0.0.1:${s1.port}/mymaster`, { level, secrets: [wrong] });
      expect(bad.check('auth')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^AUTH as the default user: "WRONGPASS /) });
      expect(bad.check(`sentinel 127.0.0.1:${s1.port}`).status).toBe('ok');
      expect(bad.code).toBe(1);
      const pretty = await runCli(['diagnose', '--log-level', level, `redis+sentinel://:${encodeURIComponent(wrong)}@127.0.0.1:${s1.port}/mymaster`]);
      expect(pretty.stdout).toContain('[FAIL] auth');
      expectNoSecret({ stdout: pretty.stdout, stderr: pretty.stderr }, [PASSWORD, wrong]);
    }
  });
});
