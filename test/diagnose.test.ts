/**
 * `harbor-wait diagnose` as a command: how it is reached, the report's two forms, exit codes, the pod's
 * settings, and the DNS layer through an injected resolver (run in this process, so that no DNS query ever
 * leaves the machine). The protocol layers have their own files (diagnose-redis, -postgres, -http).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/commands/cli.ts';
import { runCli, startCli } from './helpers/cli.ts';
import { findCheck, LEVELS, parseReport } from './helpers/diagnose.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';
import type { Resolver } from '../src/net/resolver.ts';


let redis: RedisServer;
let closedPort: number;
beforeAll(async () => {
  redis = await startRedis();
  closedPort = await freePort();
});
afterAll(async () => {
  await redis?.stop();
});

describe('the command', () => {
  it('--help lists the diagnose command and its options', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/harbor-wait diagnose \[options\] \[TARGET \.\.\.\]/);
    expect(r.stdout).toContain('--diagnose');
    expect(r.stdout).toContain('env WAIT_DIAGNOSE');
    expect(r.stdout).toContain('--exit-zero');
  });

  it('is reached as a command, as --diagnose and as WAIT_DIAGNOSE, with the same report', async () => {
    const target = `redis://127.0.0.1:${redis.port}`;
    const ways = [
      await runCli(['diagnose', '--log-format', 'json', target]),
      await runCli(['--log-format', 'json', 'diagnose', target]),
      await runCli(['--diagnose', '--log-format', 'json', target]),
      await runCli(['--log-format', 'json', target], { WAIT_DIAGNOSE: 'true' }),
    ];
    for (const r of ways) {
      expect(r.code).toBe(0);
      const report = parseReport(r.stdout);
      expect(report.ok).toBe(true);
      expect(report.targets.map((t) => t.target)).toEqual([target, "this pod's settings"]);
      expect(findCheck(report, target, 'connect 127.0.0.1:' + redis.port)).toMatchObject({ layer: 'tcp', status: 'ok' });
      expect(findCheck(report, target, 'lookup')).toMatchObject({ layer: 'dns', status: 'skip', value: '127.0.0.1' });
    }
  });

  it('pretty is the default: grouped by target, status first, a hint under each failure, a closing summary; exit 1 on a failure', async () => {
    const r = await runCli(['diagnose', `tcp://127.0.0.1:${closedPort}`]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^harbor-wait \S+ diagnose: 1 target, one pass, each step within 5\.0 s$/);
    expect(r.stdout).toContain(`tcp://127.0.0.1:${closedPort}  (argument) - FAILED`);
    const failLine = lines.findIndex((l) => l.includes(`[FAIL] tcp      connect 127.0.0.1:${closedPort}`));
    expect(failLine).toBeGreaterThan(0);
    expect(lines[failLine + 1]).toMatch(/^ {18}hint: connection to 127\.0\.0\.1:\d+ refused/);
    expect(lines.at(-2)).toMatch(/^diagnose: found problems in 1 of 2 groups: 1 failure, 0 warnings/);
  });

  it('the log level filters the pretty report: warn hides what is fine, error shows failures only, debug adds times (and ms in JSON)', async () => {
    const targets = [`tcp://127.0.0.1:${redis.port}`, `tcp://127.0.0.1:${closedPort}`];
    const info = await runCli(['diagnose', ...targets]);
    expect(info.stdout).toContain(`[ok]   tcp      connect 127.0.0.1:${redis.port}`);
    expect(info.stdout).toContain('[skip] dns');
    expect(info.stdout).not.toMatch(/\(\d+(\.\d)? ms\)\n/);
    const warn = await runCli(['diagnose', '--log-level', 'warn', ...targets, '--deadline', '2s']);
    expect(warn.stdout).toContain('[warn] settings attempt timeout  5s, not shorter than the deadline');
    expect(warn.stdout).not.toContain('[ok]');
    expect(warn.stdout).not.toContain('[skip]');
    expect(warn.stdout).toContain(`[FAIL] tcp      connect 127.0.0.1:${closedPort}`);
    const error = await runCli(['diagnose', '--log-level', 'error', ...targets, '--attempt-timeout', '10m', '--deadline', '1m']);
    expect(error.stdout).not.toMatch(/\[(ok|skip|warn)/);
    expect(error.stdout).toContain(`[FAIL] tcp      connect 127.0.0.1:${closedPort}`);
    const debug = await runCli(['diagnose', '--log-level', 'debug', ...targets]);
    expect(debug.stdout).toMatch(new RegExp(`\\[ok\\]   tcp      connect 127\\.0\\.0\\.1:${redis.port} +connected in [\\d.]+ ms  \\([\\d.]+ ms\\)\\n`));
    // The JSON holds every check whatever the level, with ms at debug only.
    const jsonDebug = parseReport((await runCli(['diagnose', '--log-format', 'json', '--log-level', 'debug', ...targets])).stdout);
    expect(findCheck(jsonDebug, `tcp://127.0.0.1:${redis.port}`, `connect 127.0.0.1:${redis.port}`).ms).toEqual(expect.any(Number));
    const jsonError = parseReport((await runCli(['diagnose', '--log-format', 'json', '--log-level', 'error', ...targets])).stdout);
    const ok = findCheck(jsonError, `tcp://127.0.0.1:${redis.port}`, `connect 127.0.0.1:${redis.port}`);
    expect(ok.status).toBe('ok');
    expect(ok.ms).toBeUndefined();
  });

  it('layers come in order: url, dns, tcp, then settings last', async () => {
    const r = await runCli(['diagnose', '--log-format', 'json', `tcp://127.0.0.1:${redis.port}`]);
    const layers = parseReport(r.stdout).targets.flatMap((t) => t.checks.map((c) => c.layer));
    expect(layers).toEqual(['url', 'dns', 'tcp', 'settings', 'settings', 'settings']);
  });

  it('--exit-zero (and WAIT_EXIT_ZERO) exits 0 with a failure, and still reports it', async () => {
    for (const [args, env] of [[['--exit-zero'], {}], [[], { WAIT_EXIT_ZERO: '1' }]] as const) {
      const r = await runCli(['diagnose', '--log-format', 'json', ...args, `tcp://127.0.0.1:${closedPort}`], env);
      expect(r.code).toBe(0);
      const report = parseReport(r.stdout);
      expect(report.ok).toBe(false);
      expect(findCheck(report, 'tcp://', `connect 127.0.0.1:${closedPort}`)).toMatchObject({ status: 'fail', value: expect.stringMatching(/^refused after /) });
    }
  });

  it('bad input is exit 2 naming the input, in the report format (pretty by default), no stack', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['diagnose', '--serve', ':0', 'tcp://127.0.0.1:1'], {}, /--serve: cannot be combined with diagnose/],
      [['diagnose', 'redis//nowhere'], {}, /argument "redis\/\/nowhere": not a target URL/],
      [['diagnose'], {}, /nothing to wait for/],
      [['diagnose', 'tcp://127.0.0.1:1'], { WAIT_EXIT_ZERO: 'maybe' }, /WAIT_EXIT_ZERO: "maybe" is not a boolean/],
    ];
    for (const [args, env, message] of cases) {
      const r = await runCli(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toMatch(message);
      expect(r.stdout.startsWith('{')).toBe(false);
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    }
    const json = await runCli(['diagnose', '--log-format', 'json', 'redis//nowhere']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ event: 'config_error', input: 'argument "redis//nowhere"' });
  });

  it('writes the failed checks to the termination log, and nothing when all is well', async () => {
    const dir = tempDir('harbor-wait-diag-term-');
    const file = join(dir, 'termination-log');
    writeFileSync(file, '');
    const failing = await runCli(['diagnose', '--termination-log', file, `tcp://127.0.0.1:${closedPort}`]);
    expect(failing.code).toBe(1);
    expect(readFileSync(file, 'utf8')).toMatch(
      new RegExp(`^harbor-wait: diagnose found 1 failed check:\ntcp://127\\.0\\.0\\.1:${closedPort}: tcp connect 127\\.0\\.0\\.1:${closedPort}: refused after [\\d.]+ ms\n$`),
    );
    writeFileSync(file, '');
    const fine = await runCli(['diagnose', '--termination-log', file, `tcp://127.0.0.1:${redis.port}`]);
    expect(fine.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(existsSync(file)).toBe(true);
  });
});

describe('a signal during the pass', () => {
  /** A server that accepts and never answers (a Redis login there waits until the step timeout); `asked` once the client has spoken. */
  async function hangingServer() {
    let asked = false;
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => (asked = true));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, asked: () => asked, close: () => server.close() };
  }

  /** Starts diagnose on a hanging Redis and a real one, and sends `signal` once the hanging one is in its login and the other has had time to finish. */
  async function stoppedPass(args: readonly string[], hanging: { port: number; asked(): boolean }, signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM') {
    const running = startCli(['diagnose', ...args, '--attempt-timeout', '1m', `redis://127.0.0.1:${hanging.port}`, `redis://127.0.0.1:${redis.port}`]);
    const until = Date.now() + 20_000;
    while (!hanging.asked() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    running.child.kill(signal);
    return running.result;
  }

  it('SIGTERM keeps every check that finished, marks only the step in flight as cut short (JSON), exit 143', async () => {
    const hanging = await hangingServer();
    const dir = tempDir('harbor-wait-diag-term-');
    const file = join(dir, 'termination-log');
    writeFileSync(file, '');
    try {
      const r = await stoppedPass(['--log-format', 'json', '--termination-log', file], hanging);
      expect(r.code).toBe(143);
      const report = parseReport(r.stdout);
      expect(report.ok).toBe(false);
      expect((report as unknown as { stopped?: string }).stopped).toBe('SIGTERM');
      const hung = report.targets.find((t) => t.target === `redis://127.0.0.1:${hanging.port}`);
      const answered = report.targets.find((t) => t.target === `redis://127.0.0.1:${redis.port}`);
      // The hanging target: what finished before the signal, then one mark for the step it cut short; no failure.
      expect(findCheck(report, `redis://127.0.0.1:${hanging.port}`, 'url').status).toBe('ok');
      expect(findCheck(report, `redis://127.0.0.1:${hanging.port}`, `connect 127.0.0.1:${hanging.port}`)).toMatchObject({ layer: 'tcp', status: 'ok' });
      const cut = hung?.checks.filter((c) => c.name === 'cut short') ?? [];
      expect(cut).toEqual([
        expect.objectContaining({ layer: expect.stringMatching(/^(auth|server)$/), status: 'skip', value: expect.stringMatching(/^stopped during the (login|wait for an answer) after [\d.]+ m?s$/), hint: 'cut short by SIGTERM: run diagnose again to the end' }),
      ]);
      expect(hung?.checks.some((c) => c.status === 'fail')).toBe(false);
      // The target that answered: its whole report, nothing marked.
      expect(findCheck(report, `redis://127.0.0.1:${redis.port}`, 'ping').status).toBe('ok');
      expect(findCheck(report, `redis://127.0.0.1:${redis.port}`, 'version').status).toBe('ok');
      expect(answered?.checks.some((c) => c.name === 'cut short')).toBe(false);
      expect(readFileSync(file, 'utf8')).toBe('harbor-wait: diagnose stopped by SIGTERM before the pass ended; found 0 failed checks\n');
      expect(r.ms).toBeLessThan(30_000);
    } finally {
      hanging.close();
    }
  });

  it('SIGINT: exit 130, and the report and the termination message name SIGINT', async () => {
    const hanging = await hangingServer();
    const dir = tempDir('harbor-wait-diag-int-');
    const file = join(dir, 'termination-log');
    writeFileSync(file, '');
    try {
      const r = await stoppedPass(['--log-format', 'json', '--termination-log', file], hanging, 'SIGINT');
      expect(r.code).toBe(130);
      expect((parseReport(r.stdout) as unknown as { stopped?: string }).stopped).toBe('SIGINT');
      expect(readFileSync(file, 'utf8')).toBe('harbor-wait: diagnose stopped by SIGINT before the pass ended; found 0 failed checks\n');
    } finally {
      hanging.close();
    }
  });

  it('pretty, even at --log-level error: the group and the summary say it was cut short, and the mark shows', async () => {
    const hanging = await hangingServer();
    try {
      const r = await stoppedPass(['--log-level', 'error'], hanging);
      expect(r.code).toBe(143);
      expect(r.stdout).toContain(`redis://127.0.0.1:${hanging.port}  (argument) - ok, cut short by SIGTERM`);
      expect(r.stdout).toContain(`redis://127.0.0.1:${redis.port}  (argument) - ok\n`);
      expect(r.stdout).toMatch(/\[skip\] (auth|server) +cut short +stopped during the (login|wait for an answer) after [\d.]+ m?s\n +skipped: cut short by SIGTERM: run diagnose again to the end\n/);
      expect(r.stdout).toMatch(/\ndiagnose: stopped by SIGTERM before the pass ended \(what was running is marked cut short\); no problems found in what ran \(\d+ ok, \d+ skipped\)\n$/);
    } finally {
      hanging.close();
    }
  });
});

describe("this pod's settings", () => {
  it('shows the deadline, the attempt timeout and the first delays of the backoff', async () => {
    const r = await runCli(['diagnose', '--log-format', 'json', '--deadline', '2m', '--attempt-timeout', '3s', '--backoff-initial', '250ms', '--backoff-max', '2s', `tcp://127.0.0.1:${redis.port}`]);
    const report = parseReport(r.stdout);
    expect(findCheck(report, 'this pod', 'deadline')).toMatchObject({ status: 'ok', value: '2m' });
    expect(findCheck(report, 'this pod', 'attempt timeout')).toMatchObject({ status: 'ok', value: '3s' });
    expect(findCheck(report, 'this pod', 'backoff').value).toMatch(/^250ms, 500ms, 1s, 2s, 2s, 2s, \.\.\./);
  });

  it("warns when the deadline is shorter than core's 60 s wait for its database", async () => {
    const r = await runCli(['diagnose', '--log-format', 'json', '--deadline', '30s', `postgres://harbor@127.0.0.1:${closedPort}/registry?sslmode=disable`]);
    const deadline = findCheck(parseReport(r.stdout), 'this pod', 'deadline');
    expect(deadline).toMatchObject({ status: 'warn', value: "30s: shorter than the 1m core itself waits for its database" });
    expect(deadline.hint).toMatch(/raise --deadline/);
  });

  it('turns configuration warnings into warn lines', async () => {
    const r = await runCli(['diagnose', '--log-format', 'json', `tcp://127.0.0.1:${redis.port}`], { WAIT_NOT_A_THING: 'x' });
    expect(r.code).toBe(0);
    expect(findCheck(parseReport(r.stdout), 'this pod', 'configuration')).toMatchObject({ status: 'warn', value: 'environment variable WAIT_NOT_A_THING is not one harbor-wait reads' });
  });
});

/** A resolver that answers from tables and records every name it was asked; nothing leaves the process. */
function fakeResolver(t: {
  system?: Record<string, string[]>;
  a?: Record<string, Array<{ address: string; ttl: number }>>;
  cname?: Record<string, string>;
  resolvConf?: string;
}): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const notFound = (name: string) => Object.assign(new Error(`queryA ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  const noData = (name: string) => Object.assign(new Error(`queryAaaa ENODATA ${name}`), { code: 'ENODATA' });
  return {
    asked,
    async lookupAll(name) {
      asked.push(`lookup ${name}`);
      const list = t.system?.[name];
      if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
    async resolve4(name) {
      asked.push(`A ${name}`);
      let current = name;
      for (let i = 0; i < 10 && t.cname?.[current]; i++) current = t.cname[current] as string;
      const list = t.a?.[current];
      if (!list) throw notFound(name);
      return list;
    },
    async resolve6(name) {
      asked.push(`AAAA ${name}`);
      throw noData(name);
    },
    async resolveCname(name) {
      asked.push(`CNAME ${name}`);
      const target = t.cname?.[name];
      if (!target) throw noData(name);
      return [target];
    },
    async resolvConf() {
      return t.resolvConf ?? 'nameserver 127.0.0.53\n';
    },
  };
}

/** harbor-wait diagnose in this process, with `resolver` as its only way to resolve names. */
async function diagnoseWith(resolver: Resolver, args: readonly string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run({
    argv: ['diagnose', '--log-format', 'json', ...args],
    env,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    signal: new AbortController().signal,
    resolver,
    lookup: async () => {
      throw new Error('diagnose must use its resolver, not the lookup');
    },
  });
  return { code, stdout, stderr, report: parseReport(stdout) };
}

describe('DNS, through an injected resolver', () => {
  it('warns when the system resolver and DNS disagree, showing both', async () => {
    const resolver = fakeResolver({ system: { 'harbor-redis.example': ['127.0.0.1'] }, a: { 'harbor-redis.example': [{ address: '127.0.0.2', ttl: 30 }] } });
    const { report } = await diagnoseWith(resolver, [`redis://harbor-redis.example:${redis.port}`]);
    expect(findCheck(report, 'redis://', 'system resolver')).toMatchObject({ status: 'ok', value: 'harbor-redis.example: 127.0.0.1' });
    const records = findCheck(report, 'redis://', 'dns records');
    expect(records).toMatchObject({ status: 'warn', value: 'harbor-redis.example: 127.0.0.2 (ttl 30 s)' });
    expect(records.hint).toMatch(/system resolver says 127\.0\.0\.1, DNS says 127\.0\.0\.2/);
    // Clients connect to what the system resolver says.
    expect(findCheck(report, 'redis://', `connect 127.0.0.1:${redis.port}`)).toMatchObject({ status: 'ok' });
  });

  it('shows the CNAME chain and the TTLs; agreeing answers are ok', async () => {
    const resolver = fakeResolver({
      system: { 'redis.harbor.example': ['127.0.0.1'] },
      cname: { 'redis.harbor.example': 'cache.provider.example', 'cache.provider.example': 'node-7.provider.example' },
      a: { 'node-7.provider.example': [{ address: '127.0.0.1', ttl: 5 }] },
    });
    const { report, code } = await diagnoseWith(resolver, [`tcp://redis.harbor.example:${redis.port}`]);
    expect(code).toBe(0);
    expect(findCheck(report, 'tcp://', 'dns records')).toMatchObject({
      status: 'ok',
      value: 'redis.harbor.example: CNAME cache.provider.example -> node-7.provider.example; 127.0.0.1 (ttl 5 s)',
    });
  });

  it('follows the search list and ndots as getaddrinfo does, and warns about the extra queries', async () => {
    const resolver = fakeResolver({
      system: { 'harbor-redis': ['127.0.0.1'] },
      a: { 'harbor-redis.harbor.svc.cluster.local': [{ address: '127.0.0.1', ttl: 5 }] },
      resolvConf: 'search harbor.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
    });
    const { report } = await diagnoseWith(resolver, [`tcp://harbor-redis:${redis.port}`]);
    expect(findCheck(report, 'tcp://', 'resolv.conf')).toMatchObject({ status: 'ok', value: 'search harbor.svc.cluster.local svc.cluster.local cluster.local; ndots 5; nameserver 10.96.0.10' });
    expect(findCheck(report, 'tcp://', 'dns records')).toMatchObject({ status: 'ok', value: 'harbor-redis.harbor.svc.cluster.local: 127.0.0.1 (ttl 5 s)' });
    expect(resolver.asked).not.toContain('A harbor-redis');

    const external = fakeResolver({
      system: { 'redis.corp.example': ['127.0.0.1'] },
      a: { 'redis.corp.example': [{ address: '127.0.0.1', ttl: 60 }] },
      resolvConf: 'search harbor.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
    });
    const ext = await diagnoseWith(external, [`tcp://redis.corp.example:${redis.port}`]);
    const conf = findCheck(ext.report, 'tcp://', 'resolv.conf');
    expect(conf.status).toBe('warn');
    expect(conf.hint).toMatch(/fewer than 5 dots.*"redis\.corp\.example\."/);
    expect(findCheck(ext.report, 'tcp://', 'dns records').value).toBe('redis.corp.example: 127.0.0.1 (ttl 60 s)');
  });

  it('a name that does not resolve fails the DNS layer, and what depends on it is skipped, saying why', async () => {
    const resolver = fakeResolver({});
    const { report, code } = await diagnoseWith(resolver, ['tcp://nowhere.example:6379']);
    expect(code).toBe(1);
    expect(findCheck(report, 'tcp://', 'system resolver')).toMatchObject({ status: 'fail', value: 'nowhere.example: ENOTFOUND' });
    expect(findCheck(report, 'tcp://', 'dns records')).toMatchObject({ status: 'fail', value: 'no A or AAAA record for nowhere.example' });
    expect(findCheck(report, 'tcp://', 'connect')).toMatchObject({ status: 'skip', hint: 'nowhere.example does not resolve' });
  });

  it('an ElastiCache master. endpoint over plain redis:// fails, with the TLS hint; over rediss:// the form is ok', async () => {
    const name = 'master.harbor-cache.abc123.euw1.cache.amazonaws.com';
    const resolver = fakeResolver({ system: { [name]: ['127.0.0.1'] }, a: { [name]: [{ address: '127.0.0.1', ttl: 15 }] } });
    const { report, code } = await diagnoseWith(resolver, [`redis://${name}:${redis.port}`]);
    expect(code).toBe(1);
    const form = findCheck(report, 'redis://', 'managed endpoint');
    expect(form).toMatchObject({ layer: 'dns', status: 'fail', value: 'ElastiCache primary endpoint with in-transit encryption (master.) over plain redis://' });
    expect(form.hint).toMatch(/use rediss:\/\//);

    const reader = 'harbor-cache-ro.abc123.ng.0001.euw1.cache.amazonaws.com';
    const r2 = await diagnoseWith(fakeResolver({ system: { [reader]: ['127.0.0.1'] }, a: { [reader]: [{ address: '127.0.0.1', ttl: 15 }] } }), [`redis://${reader}:${redis.port}`]);
    expect(findCheck(r2.report, 'redis://', 'managed endpoint')).toMatchObject({ status: 'fail', value: 'ElastiCache reader endpoint' });

    const node = 'harbor-cache-001.abc123.0001.euw1.cache.amazonaws.com';
    const r4 = await diagnoseWith(fakeResolver({ system: { [node]: ['127.0.0.1'] }, a: { [node]: [{ address: '127.0.0.1', ttl: 15 }] } }), [`redis://${node}:${redis.port}`]);
    const nodeForm = findCheck(r4.report, 'redis://', 'managed endpoint');
    expect(nodeForm).toMatchObject({ status: 'warn', value: 'ElastiCache node endpoint' });
    expect(nodeForm.hint).toMatch(/after a failover it is a replica/);

    const primary = 'harbor-cache.abc123.ng.0001.euw1.cache.amazonaws.com';
    const r5 = await diagnoseWith(fakeResolver({ system: { [primary]: ['127.0.0.1'] }, a: { [primary]: [{ address: '127.0.0.1', ttl: 15 }] } }), [`redis://${primary}:${redis.port}`]);
    expect(findCheck(r5.report, 'redis://', 'managed endpoint')).toMatchObject({ status: 'ok', value: 'ElastiCache primary endpoint over plain redis://' });
    expect(r5.code).toBe(0);

    const cname = fakeResolver({
      system: { 'redis.harbor.example': ['127.0.0.1'] },
      cname: { 'redis.harbor.example': 'clustercfg.harbor-cache.abc123.euw1.cache.amazonaws.com' },
      a: { 'clustercfg.harbor-cache.abc123.euw1.cache.amazonaws.com': [{ address: '127.0.0.1', ttl: 15 }] },
    });
    const r3 = await diagnoseWith(cname, [`redis://redis.harbor.example:${redis.port}`]);
    expect(findCheck(r3.report, 'redis://', 'managed endpoint')).toMatchObject({ status: 'fail', value: 'ElastiCache configuration endpoint (clustercfg.: cluster mode) over plain redis://' });
  });

  it('never prints a secret, at any log level, in either format', async () => {
    const password = markedSecret('pw');
    const name = 'harbor-redis.example';
    for (const level of LEVELS) {
      for (const format of ['json', 'pretty']) {
        const resolver = fakeResolver({ system: { [name]: ['127.0.0.1'] }, a: { [name]: [{ address: '127.0.0.2', ttl: 30 }] } });
        let stdout = '';
        let stderr = '';
        await run({
          argv: ['diagnose', '--log-level', level, '--log-format', format, `redis://:${encodeURIComponent(password)}@${name}:${redis.port}/0`, `tcp://127.0.0.1:${closedPort}`],
          env: {},
          stdout: (t) => (stdout += t),
          stderr: (t) => (stderr += t),
          signal: new AbortController().signal,
          resolver,
        });
        expect(stdout.length).toBeGreaterThan(0);
        expectNoSecret({ stdout, stderr }, [password]);
      }
    }
  });
});
