/**
 * Issue 17's Redis items, through the built entry (copied alone) against real redis-server / redis-sentinel
 * processes and scripted peers on loopback: a replica reached by a plain URL is not ready (ROLE, else INFO
 * replication; both refused: ready with a warning); an empty password sends no AUTH; odd sentinel and ROLE
 * replies are UNEXPECTED_REPLY quoting them; error codes come from Redis's own closed list, so /metrics stays
 * bounded; diagnose's `last save` says MISCONF exactly when Redis refuses writes.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { parseTarget } from '../src/protocols/registry.ts';
import { REDIS_ERROR_CODES } from '../src/protocols/redis/replies.ts';
import { eventually } from './helpers/checks.ts';
import { runCli, startCli, type CliResult, type LogLine } from './helpers/cli.ts';
import { parseReport, type DiagnoseCheck } from './helpers/diagnose.ts';
import { family } from './helpers/prometheus.ts';
import { infoField, startRedis, startSentinel, type RedisServer, type Sentinel } from './helpers/redis.ts';
import { masterScript, resp, startScriptedRedis, type ScriptedRedis } from './helpers/resp.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

const PASSWORD = markedSecret('rpw');
const ENCODED = encodeURIComponent(PASSWORD);

/** One waiter run of `url`, checked for leaks of the password. */
async function wait(url: string, args: readonly string[] = ['--deadline', '3s', '--attempt-timeout', '1s', '--backoff-max', '200ms']): Promise<CliResult> {
  const r = await runCli([...args, url]);
  expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [PASSWORD]);
  return r;
}

/** One attempt (`--once`). */
const once = (url: string) => wait(url, ['--once', '--attempt-timeout', '2s']);

/** The last not_ready line of a run; fails when there is none. */
function lastNotReady(r: CliResult): LogLine {
  const line = r.events('not_ready').at(-1);
  if (!line) throw new Error(`no not_ready line in:\n${r.stdout}\n${r.stderr}`);
  return line;
}

/** One diagnose run (JSON); `check(name)` finds the one check of the target by that name. */
async function diagnose(url: string) {
  const r = await runCli(['diagnose', '--log-format', 'json', '--attempt-timeout', '2s', url]);
  expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [PASSWORD]);
  const report = parseReport(r.stdout, r.stderr);
  const checks = report.targets[0]?.checks ?? [];
  return {
    code: r.code,
    checks,
    check(name: string): DiagnoseCheck {
      const found = checks.filter((c) => c.name === name);
      expect(found, `checks named "${name}" among ${checks.map((c) => c.name).join(', ')}`).toHaveLength(1);
      return found[0] as DiagnoseCheck;
    },
  };
}

describe('11. a replica reached by a plain redis:// URL is not ready', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let renamed: RedisServer;
  beforeAll(async () => {
    const auth = ['--requirepass', PASSWORD, '--masterauth', PASSWORD];
    master = await startRedis({ args: auth, password: PASSWORD });
    replica = await startRedis({ args: [...auth, '--replicaof', '127.0.0.1', String(master.port)], password: PASSWORD });
    // ROLE renamed away, as managed services and hardened configs do.
    renamed = await startRedis({ args: [...auth, '--replicaof', '127.0.0.1', String(master.port), '--rename-command', 'ROLE', ''], password: PASSWORD });
    for (const s of [replica, renamed]) {
      const admin = s.admin();
      await eventually(async () => (await infoField(admin, 'replication', 'master_link_status')) === 'up', 15_000);
      // ACL users are not replicated: each server gets its own.
      await admin.call('ACL', 'SETUSER', 'blind', 'on', `>${PASSWORD}`, '~*', '&*', '+@all', '-role', '-info');
      await admin.call('ACL', 'SETUSER', 'norole', 'on', `>${PASSWORD}`, '~*', '&*', '+@all', '-role');
    }
    await master.admin().call('ACL', 'SETUSER', 'norole', 'on', `>${PASSWORD}`, '~*', '&*', '+@all', '-role');
    await master.admin().call('ACL', 'SETUSER', 'blind', 'on', `>${PASSWORD}`, '~*', '&*', '+@all', '-role', '-info');
  });
  afterAll(async () => {
    await renamed.stop();
    await replica.stop();
    await master.stop();
  });

  it('a replica with a healthy link: NOT_MASTER until the deadline, the reason naming its master and READONLY; the master is ready', async () => {
    const r = await wait(`redis://:${ENCODED}@127.0.0.1:${replica.port}/1`);
    expect(r.code, r.stdout).toBe(ExitCode.Deadline);
    const line = lastNotReady(r);
    expect(line).toMatchObject({ stage: 'response', code: 'NOT_MASTER' });
    expect(line.reason).toBe(
      `127.0.0.1:${replica.port} is a replica (ROLE: slave) of 127.0.0.1:${master.port}, link connected: Harbor's first write would fail with READONLY; point the URL at the primary (not a replica's or a reader endpoint's address), or use redis+sentinel://`,
    );
    expect(r.events('not_ready').every((l) => l.code === 'NOT_MASTER')).toBe(true);
    expect(r.events('ready')).toEqual([]);

    const m = await wait(`redis://:${ENCODED}@127.0.0.1:${master.port}/1`);
    expect(m.code, m.stdout).toBe(ExitCode.Ready);
    expect(m.events('ready')[0]).not.toHaveProperty('warning');
  });

  it('ROLE renamed away: the role comes from INFO replication, still NOT_MASTER', async () => {
    const r = await once(`redis://:${ENCODED}@127.0.0.1:${renamed.port}`);
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    const line = lastNotReady(r);
    expect(line).toMatchObject({ stage: 'response', code: 'NOT_MASTER' });
    expect(line.reason).toMatch(new RegExp(`^127\\.0\\.0\\.1:${renamed.port} is a replica \\(INFO replication: slave\\) of 127\\.0\\.0\\.1:${master.port}, link up: Harbor's first write would fail with READONLY`));
  });

  it('ROLE denied by the ACL: INFO replication says replica; a master behind the same ACL is ready without a warning', async () => {
    const r = await once(`redis://norole:${ENCODED}@127.0.0.1:${replica.port}`);
    expect(lastNotReady(r)).toMatchObject({ code: 'NOT_MASTER', reason: expect.stringContaining('(INFO replication: slave)') });
    const m = await once(`redis://norole:${ENCODED}@127.0.0.1:${master.port}`);
    expect(m.code, m.stdout).toBe(ExitCode.Ready);
    expect(m.events('ready')[0]).not.toHaveProperty('warning');
  });

  it('ROLE and INFO both refused: ready, and the ready line carries the warning that the role could not be confirmed', async () => {
    const r = await once(`redis://blind:${ENCODED}@127.0.0.1:${replica.port}`);
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    const ready = r.events('ready')[0] as LogLine;
    expect(ready.warning).toMatch(
      new RegExp(`^the role of 127\\.0\\.0\\.1:${replica.port} could not be confirmed: ROLE was refused \\("NOPERM [^"]*"\\) and so was INFO replication \\("NOPERM [^"]*"\\); if it is a replica, Harbor's first write fails with READONLY$`),
    );
    expect(ready.msg).toContain('could not be confirmed');
  });

  it('behind a sentinel, the master\'s role is read from INFO replication where ROLE is denied; the sentinel naming a replica is NOT_MASTER', async () => {
    let right: Sentinel | undefined;
    let stale: Sentinel | undefined;
    try {
      right = await startSentinel('harbor', master.port, { password: PASSWORD });
      stale = await startSentinel('stale', replica.port);
      const ok = await once(`redis+sentinel://norole:${ENCODED}@127.0.0.1:${right.port}/harbor/0`);
      expect(ok.code, ok.stdout).toBe(ExitCode.Ready);
      expect(ok.events('ready')[0]).toMatchObject({ address: `127.0.0.1:${master.port}` });
      expect(ok.events('ready')[0]).not.toHaveProperty('warning');
      const bad = await once(`redis+sentinel://norole:${ENCODED}@127.0.0.1:${stale.port}/stale`);
      expect(lastNotReady(bad)).toMatchObject({ code: 'NOT_MASTER', reason: expect.stringMatching(/is a replica \(INFO replication: slave\) of .*not a master: the sentinels' view is stale.*READONLY$/) });
    } finally {
      await right?.stop();
      await stale?.stop();
    }
  });

  it('diagnose: ROLE reads the role where INFO replication is denied; both denied is a warning, not a skip', async () => {
    const r = await diagnose(`redis://norole:${ENCODED}@127.0.0.1:${replica.port}`);
    // norole may run INFO: the role check reads it as before.
    expect(r.check('role')).toMatchObject({ status: 'fail', value: `replica of 127.0.0.1:${master.port}; master_link_status up` });
    const blind = await diagnose(`redis://blind:${ENCODED}@127.0.0.1:${replica.port}`);
    expect(blind.check('role')).toMatchObject({ status: 'warn', value: 'the role could not be confirmed', hint: expect.stringMatching(/-READONLY/) });
    expect(blind.code).toBe(0);
  });
});

describe('13. an empty password is no password', () => {
  let open: RedisServer;
  let locked: RedisServer;
  beforeAll(async () => {
    open = await startRedis();
    locked = await startRedis({ args: ['--requirepass', PASSWORD], password: PASSWORD });
  });
  afterAll(async () => {
    await open.stop();
    await locked.stop();
  });

  /** How many AUTH commands the server has run since its stats were reset. */
  const auths = async (s: RedisServer) => Number(/cmdstat_auth:calls=(\d+)/.exec(await s.admin().info('commandstats'))?.[1] ?? 0);

  it('redis://:@host and redis://user:@host send no AUTH (as go-redis and redigo) and are ready against a server without a password', async () => {
    await open.admin().config('RESETSTAT');
    for (const url of [`redis://:@127.0.0.1:${open.port}/2`, `redis://harbor:@127.0.0.1:${open.port}/2`]) {
      const r = await once(url);
      expect(r.code, r.stdout).toBe(ExitCode.Ready);
    }
    expect(await auths(open)).toBe(0);
  });

  it('a server that requires a password answers NOAUTH, and the reason names an existingSecret read by lookup', async () => {
    const r = await once(`redis://:@127.0.0.1:${locked.port}`);
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    const line = lastNotReady(r);
    expect(line).toMatchObject({ stage: 'auth', code: 'NOAUTH' });
    expect(line.reason).toMatch(/^127\.0\.0\.1:\d+ requires a password, but the URL's password is empty, so none was sent: .*redis\.external\.existingSecret is read by Helm's lookup under helm template or a GitOps renderer/);
    // A URL without any user info keeps the plain NOAUTH reason.
    const plain = lastNotReady(await once(`redis://127.0.0.1:${locked.port}`));
    expect(plain.reason).not.toMatch(/existingSecret/);
  });

  it('the parsed target carries the start-up warning, naming the URL without its user info; a URL with a password has none', () => {
    const t = parseTarget(`redis://:@127.0.0.1:${open.port}/1`, '_REDIS_URL_CORE');
    expect(t.warnings).toEqual([expect.stringMatching(new RegExp(`^_REDIS_URL_CORE "redis://\\*\\*\\*@127\\.0\\.0\\.1:${open.port}/1": the URL carries an empty password \\(":@"\\), so no AUTH is sent, as Harbor's clients \\(go-redis, redigo\\) do; if the server requires a password, .*existingSecret.*lookup`))]);
    expect(parseTarget('redis+sentinel://harbor:@s1:26379/mymaster', 'argument').warnings?.[0]).toMatch(/a user name with an empty password \(the user name is not used either\)/);
    expect(parseTarget(`redis://:${ENCODED}@127.0.0.1:6379`, 'argument').warnings).toBeUndefined();
    expect(parseTarget('redis://127.0.0.1:6379', 'argument').warnings).toBeUndefined();
  });

  it('diagnose says the password is empty, and on NOAUTH gives the same hint', async () => {
    const ok = await diagnose(`redis://:@127.0.0.1:${open.port}`);
    expect(ok.check('url').value).toBe(`redis (plain text), 127.0.0.1:${open.port}, db 0, default user, an empty password (no AUTH is sent, as Harbor's clients do)`);
    expect(ok.check('auth')).toMatchObject({ status: 'ok', value: 'an empty password in the URL, so no AUTH (as Harbor); the server requires none' });
    const bad = await diagnose(`redis://:@127.0.0.1:${locked.port}`);
    expect(bad.check('auth')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^an empty password in the URL, so no AUTH; PING answered "NOAUTH /), hint: expect.stringMatching(/existingSecret is read by Helm's lookup/) });
  });
});

describe('17. odd sentinel and ROLE replies get words', () => {
  const fakes: ScriptedRedis[] = [];
  const fake = async (...a: Parameters<typeof startScriptedRedis>) => {
    const s = await startScriptedRedis(...a);
    fakes.push(s);
    return s;
  };
  afterAll(() => Promise.all(fakes.map((f) => f.close())));

  /** A sentinel whose reply to get-master-addr-by-name is `reply`. */
  const sentinelAnswering = (reply: string) => fake((command) => (command === 'SENTINEL' ? reply : resp.error(`ERR unknown command '${command.toLowerCase()}'`)));

  it('a master address with a bad port is UNEXPECTED_REPLY quoting it, never ERR_SOCKET_BAD_PORT or NaN as a port', async () => {
    const s = await sentinelAnswering(resp.array([resp.bulk('127.0.0.1'), resp.bulk('NaN')]));
    const r = await once(`redis+sentinel://:${ENCODED}@127.0.0.1:${s.port}/mymaster`);
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    const line = lastNotReady(r);
    expect(line).toMatchObject({ stage: 'response', code: 'UNEXPECTED_REPLY' });
    expect(line.reason).toBe(`sentinel 127.0.0.1:${s.port} answered SENTINEL get-master-addr-by-name with ["127.0.0.1", "NaN"], not the address of master "mymaster" (a host and a port 1-65535)`);
    expect(r.stdout).not.toMatch(/ERR_SOCKET|:NaN/);
  });

  it.each([
    ['a bulk string', resp.bulk('mymaster'), '"mymaster"'],
    ['an integer', resp.int(1), '1'],
    ['one element', resp.array([resp.bulk('127.0.0.1')]), '["127.0.0.1"]'],
    ['port 0', resp.array([resp.bulk('127.0.0.1'), resp.bulk('0')]), '["127.0.0.1", "0"]'],
    ['a host that is no host', resp.array([resp.bulk('not a host'), resp.bulk('6379')]), '["not a host", "6379"]'],
  ])('an answer of the wrong shape (%s) is UNEXPECTED_REPLY, not "knows no master"', async (_, reply, quoted) => {
    const s = await sentinelAnswering(reply);
    const line = lastNotReady(await once(`redis+sentinel://127.0.0.1:${s.port}/mymaster`));
    expect(line).toMatchObject({ code: 'UNEXPECTED_REPLY', reason: expect.stringContaining(`with ${quoted}, not the address`) });
  });

  it('a sentinel that wants a password is told apart from the master: Harbor sends the sentinels none', async () => {
    const s = await sentinelAnswering(resp.error('NOAUTH Authentication required.'));
    const line = lastNotReady(await once(`redis+sentinel://:@127.0.0.1:${s.port}/mymaster`));
    expect(line).toMatchObject({ stage: 'auth', code: 'NOAUTH', reason: `sentinel 127.0.0.1:${s.port} requires a password, but Harbor sends none to the sentinels (goharbor/harbor#14757): they must not require one` });
  });

  it('a nil answer is still UNKNOWN_MASTER; a long answer is quoted bounded', async () => {
    const nil = await sentinelAnswering(resp.nilArray);
    expect(lastNotReady(await once(`redis+sentinel://127.0.0.1:${nil.port}/mymaster`))).toMatchObject({ code: 'UNKNOWN_MASTER', reason: `sentinel 127.0.0.1:${nil.port} knows no master named "mymaster"` });
    const long = await sentinelAnswering(resp.array([resp.bulk('x'.repeat(10_000)), resp.bulk('6379')]));
    const line = lastNotReady(await once(`redis+sentinel://127.0.0.1:${long.port}/mymaster`));
    expect(line.code).toBe('UNEXPECTED_REPLY');
    expect((line.reason as string).length).toBeLessThan(400);
  });

  it('a ROLE reply that is a bulk string is UNEXPECTED_REPLY quoting it, by a plain URL and behind a sentinel', async () => {
    const server = await fake(masterScript((command) => (command === 'ROLE' ? resp.bulk('master') : undefined)));
    const plain = lastNotReady(await once(`redis://:${ENCODED}@127.0.0.1:${server.port}`));
    expect(plain).toMatchObject({ stage: 'response', code: 'UNEXPECTED_REPLY', reason: `127.0.0.1:${server.port} answered ROLE with "master", not a role (master, slave or sentinel)` });
    const s = await sentinelAnswering(resp.array([resp.bulk('127.0.0.1'), resp.bulk(String(server.port))]));
    const behind = lastNotReady(await once(`redis+sentinel://:${ENCODED}@127.0.0.1:${s.port}/mymaster`));
    expect(behind).toMatchObject({ code: 'UNEXPECTED_REPLY', reason: `master "mymaster" at 127.0.0.1:${server.port} answered ROLE with "master", not a role (master, slave or sentinel)` });
    // AUTH went to the master only, and before ROLE.
    expect(server.commands.filter((c) => c.startsWith('AUTH')).length).toBe(2);
    expect(s.commands.some((c) => c.startsWith('AUTH'))).toBe(false);
  });

  it('diagnose quotes them too: the sentinel\'s view and the master role fail with the reply', async () => {
    const badPort = await sentinelAnswering(resp.array([resp.bulk('127.0.0.1'), resp.bulk('NaN')]));
    const r = await diagnose(`redis+sentinel://127.0.0.1:${badPort.port}/mymaster`);
    expect(r.check(`sentinel 127.0.0.1:${badPort.port}`)).toMatchObject({ status: 'fail', value: 'SENTINEL get-master-addr-by-name answered ["127.0.0.1", "NaN"]', hint: expect.stringMatching(/^UNEXPECTED_REPLY: not the address of master "mymaster"/) });
    expect(r.check('ping')).toMatchObject({ status: 'skip' });

    const server = await fake(masterScript((command) => (command === 'ROLE' ? resp.bulk('master') : command === 'INFO' ? resp.bulk('# Replication\r\nrole:master\r\n') : undefined)));
    const s = await sentinelAnswering(resp.array([resp.bulk('127.0.0.1'), resp.bulk(String(server.port))]));
    const m = await diagnose(`redis+sentinel://127.0.0.1:${s.port}/mymaster`);
    expect(m.check('master role')).toMatchObject({ status: 'fail', value: 'ROLE answered "master"', hint: expect.stringMatching(/^UNEXPECTED_REPLY: not a role/) });
    expect(m.code).toBe(1);
  });
});

describe('15. the code of a Redis error reply comes from a closed list', () => {
  let varying: ScriptedRedis;
  let n = 0;
  beforeAll(async () => {
    // A proxy that words each refusal differently, its first word included.
    varying = await startScriptedRedis(masterScript((command) => (command === 'PING' ? resp.error(`PROXY${++n}X backend ${n} unavailable`) : undefined)));
  });
  afterAll(() => varying.close());

  it('a first word that is not Redis\'s own is ERR, with the server\'s words in the reason; Redis\'s own prefixes keep their code', async () => {
    const r = await wait(`redis://127.0.0.1:${varying.port}`, ['--deadline', '1500ms', '--backoff-initial', '20ms', '--backoff-max', '50ms', '--log-level', 'debug']);
    const lines = r.events('not_ready');
    expect(lines.length).toBeGreaterThan(3);
    expect(new Set(lines.map((l) => l.code))).toEqual(new Set(['ERR']));
    expect(new Set(lines.map((l) => l.reason)).size).toBe(lines.length);
    expect(lines[0]?.reason).toMatch(/^127\.0\.0\.1:\d+ answered PING with "PROXY\d+X backend \d+ unavailable"$/);

    const known = await startScriptedRedis(masterScript((command) => (command === 'PING' ? resp.error('MISCONF Errors writing to the AOF file: No space left on device') : undefined)));
    try {
      expect(lastNotReady(await once(`redis://127.0.0.1:${known.port}`))).toMatchObject({ code: 'MISCONF', reason: expect.stringMatching(/refuses writes, and PING, because its last save to disk failed/) });
    } finally {
      await known.close();
    }
  });

  it('/metrics keeps one failure series per target however the replies vary', async () => {
    const cli = startCli(['--serve', '127.0.0.1:0', '--serve-interval', '50ms', '--backoff-initial', '20ms', '--backoff-max', '50ms', `redis://127.0.0.1:${varying.port}`]);
    try {
      const serving = await cli.waitForEvent('serving');
      const url = `http://${String(serving.address)}/metrics`;
      let failures: ReturnType<typeof family>['samples'] = [];
      await eventually(async () => {
        failures = family(await (await fetch(url)).text(), 'harbor_wait_failures_total').samples;
        return failures.some((f) => f.value >= 10);
      }, 20_000);
      expect(failures.map((f) => f.labels.code)).toEqual(['ERR']);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.result;
    }
  });

  it('REDIS_ERROR_CODES holds Redis\'s own prefixes, each with a meaning', () => {
    for (const code of ['ERR', 'LOADING', 'BUSY', 'MASTERDOWN', 'NOAUTH', 'WRONGPASS', 'NOPERM', 'TRYAGAIN', 'CLUSTERDOWN', 'READONLY', 'MISCONF', 'OOM', 'NOREPLICAS', 'DENIED']) {
      expect(REDIS_ERROR_CODES, code).toHaveProperty(code);
    }
    for (const [code, meaning] of Object.entries(REDIS_ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z]+$/);
      expect(meaning.length).toBeGreaterThan(10);
    }
  });
});

describe('19. diagnose: last save says MISCONF only when Redis refuses writes', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ args: ['--requirepass', PASSWORD], password: PASSWORD });
    const admin = server.admin();
    await admin.call('ACL', 'SETUSER', 'noconfig', 'on', `>${PASSWORD}`, '~*', '&*', '+@all', '-config');
    // A BGSAVE that fails: the server's working directory is gone, so its child cannot create the file.
    rmSync(server.dir, { recursive: true, force: true });
    await admin.bgsave();
    await eventually(async () => (await infoField(admin, 'persistence', 'rdb_last_bgsave_status')) === 'err', 10_000);
  });
  afterAll(async () => {
    // Without save points, its shutdown does not try (and fail) to save.
    await server.admin().config('SET', 'save', '');
    await server.stop();
  });

  const url = () => `redis://:${ENCODED}@127.0.0.1:${server.port}`;

  it('no save points: the failed save warns, without MISCONF; writes and PING work, and the waiter is ready', async () => {
    const admin = server.admin();
    await admin.config('SET', 'save', '');
    await expect(admin.set('k', 'v')).resolves.toBe('OK');
    const r = await diagnose(url());
    expect(r.check('last save')).toMatchObject({ status: 'warn', value: 'rdb_last_bgsave_status err; aof off; no save points' });
    expect(r.check('last save').hint).toMatch(/^the last RDB save .* failed; with no save points configured, writes are not refused \(no -MISCONF\)/);
    expect(r.check('ping').status).toBe('ok');
    expect(r.code).toBe(0);
    expect((await once(url())).code).toBe(ExitCode.Ready);
  });

  it('save points and stop-writes-on-bgsave-error yes: writes and PING are refused with MISCONF, the check fails, the waiter is not ready', async () => {
    const admin = server.admin();
    await admin.config('SET', 'save', '3600 1');
    try {
      await expect(admin.set('k', 'v')).rejects.toThrow(/^MISCONF/);
      const r = await diagnose(url());
      expect(r.check('last save')).toMatchObject({ status: 'fail', value: 'rdb_last_bgsave_status err; aof off; save "3600 1", stop-writes-on-bgsave-error yes', hint: expect.stringMatching(/^writes, and PING, are refused with -MISCONF until a save succeeds/) });
      expect(r.check('ping')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^-MISCONF /) });
      expect(r.code).toBe(1);
      expect(lastNotReady(await once(url()))).toMatchObject({ stage: 'response', code: 'MISCONF' });

      // The same settings, read by a user without CONFIG: the hint says what it depends on.
      const blind = await diagnose(`redis://noconfig:${ENCODED}@127.0.0.1:${server.port}`);
      expect(blind.check('last save')).toMatchObject({ status: 'warn', hint: expect.stringMatching(/only when save points are configured and stop-writes-on-bgsave-error is yes .*cannot be read here \(CONFIG GET save was refused/) });

      await admin.config('SET', 'stop-writes-on-bgsave-error', 'no');
      await expect(admin.set('k', 'v')).resolves.toBe('OK');
      const off = await diagnose(url());
      expect(off.check('last save')).toMatchObject({ status: 'warn', value: 'rdb_last_bgsave_status err; aof off; save "3600 1", stop-writes-on-bgsave-error no', hint: expect.stringMatching(/writes are not refused/) });
    } finally {
      await admin.config('SET', 'stop-writes-on-bgsave-error', 'yes');
      await admin.config('SET', 'save', '');
    }
  });
});
