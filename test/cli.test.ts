/**
 * The built bundle, spawned as users run it, against real servers: exit codes, log lines, signals,
 * configuration errors and secret hygiene. Exit codes and env names are public API: these tests lock them.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { cachedDataFor, CODE_CACHE, compileProgram } from '../src/launch/program.ts';
import { makeCerts, type Certs } from './helpers/certs.ts';
import { ALONE, BUILT, BUNDLE, expectWellFormed, runCli, startCli, type CliResult, type LogLine } from './helpers/cli.ts';
import { startFakeCore, type FakeCore } from './helpers/core.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';

const REDIS_PASSWORD = 'redis-PW-mark/1';
const HARBOR_SECRET = 'harbor-SECRET-mark';
const DB_PASSWORD = 'db-PASSWORD-mark';
const SECRETS = [REDIS_PASSWORD, encodeURIComponent(REDIS_PASSWORD), HARBOR_SECRET, DB_PASSWORD];

function expectNoSecret(r: CliResult): void {
  for (const s of SECRETS) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

let redis: RedisServer;
let core: FakeCore;
let certs: Certs;
let secretFile: string;
let redisUrl: string;

beforeAll(async () => {
  [redis, core, certs] = await Promise.all([
    startRedis({ args: ['--requirepass', REDIS_PASSWORD] }),
    startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD }),
    makeCerts(),
  ]);
  secretFile = join(tempDir(), 'secret');
  writeFileSync(secretFile, `${HARBOR_SECRET}\n`);
  redisUrl = `redis://:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${redis.port}/1?idle_timeout_seconds=30`;
});
afterAll(() => core.close());

describe('when everything is up', () => {
  it('exits 0 with start, ready for each target, and done', async () => {
    const r = await runCli(['--harbor-core', core.url, '--harbor-secret-file', secretFile, redisUrl, `tcp://127.0.0.1:${redis.port}`]);
    expect(r.code).toBe(ExitCode.Ready);
    expectWellFormed(r);
    expectNoSecret(r);
    expect(r.lines[0]?.event).toBe('start');
    expect(r.lines.at(-1)?.event).toBe('done');
    const start = r.lines[0] as unknown as { targets: Array<{ target: string; from: string }>; settings: Record<string, unknown> };
    expect(start.targets).toEqual([
      { target: `redis://:***@127.0.0.1:${redis.port}/1?idle_timeout_seconds=30`, from: 'argument' },
      { target: `tcp://127.0.0.1:${redis.port}`, from: 'argument' },
      { target: `${core.url}/api/v2.0/internalconfig`, from: '--harbor-core' },
    ]);
    expect(start.settings).toMatchObject({ deadline_ms: 300_000, attempt_timeout_ms: 5000, expect_status: '200-299', once: false });
    const ready = r.events('ready');
    expect(ready).toHaveLength(3);
    for (const l of ready) {
      expect(l).toMatchObject({ attempts: 1, address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
      expect(typeof l.elapsed_ms).toBe('number');
    }
    expect(r.stderr).toBe('');
  });

  it('reads targets and settings from the environment; flags beat env', async () => {
    const r = await runCli(['--deadline', '7s'], {
      WAIT_TARGETS: `  ${redisUrl}\n tcp://127.0.0.1:${redis.port} `,
      WAIT_DEADLINE: '1s',
      WAIT_ATTEMPT_TIMEOUT: '2s',
      WAIT_HARBOR_CORE: core.url,
      JOBSERVICE_SECRET: HARBOR_SECRET,
    });
    expect(r.code).toBe(ExitCode.Ready);
    expect(r.lines[0]).toMatchObject({ settings: { deadline_ms: 7000, attempt_timeout_ms: 2000 } });
    expect(r.events('ready')).toHaveLength(3);
    expect((r.lines[0] as unknown as { targets: Array<{ from: string }> }).targets.map((t) => t.from)).toEqual([
      'WAIT_TARGETS',
      'WAIT_TARGETS',
      'WAIT_HARBOR_CORE',
    ]);
    expectNoSecret(r);
  });
});

describe('waiting', () => {
  it('waits for a Redis that starts late, logging not_ready until it is ready', async () => {
    const port = await freePort();
    const waiter = startCli([`redis://127.0.0.1:${port}`]);
    await waiter.waitForEvent('not_ready');
    const late = await startRedis({ port });
    const r = await waiter.result;
    expect(r.code).toBe(ExitCode.Ready);
    expect(r.events('not_ready')[0]).toMatchObject({ level: 'info', stage: 'connect', code: 'ECONNREFUSED', attempt: 1 });
    expect(r.events('not_ready')[0]?.retry_in_ms).toEqual(expect.any(Number));
    expect(r.events('ready')[0]?.attempts).toBeGreaterThan(1);
    await late.stop();
  });

  it("follows core from refused to 401 to 500 to 200, naming each", async () => {
    const port = await freePort();
    const waiter = startCli(['--harbor-core', `http://127.0.0.1:${port}`, '--log-level', 'debug'], { JOBSERVICE_SECRET: HARBOR_SECRET });
    await waiter.waitForEvent('not_ready', (l) => l.code === 'ECONNREFUSED');
    const late = await startFakeCore({ secret: 'a-secret-core-does-not-share', dbPassword: DB_PASSWORD, port });
    await waiter.waitForEvent('not_ready', (l) => l.code === 'HTTP_401');
    await late.close();
    const fixed = await startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD, port });
    fixed.mode = 'db-down';
    await waiter.waitForEvent('not_ready', (l) => l.code === 'HTTP_500');
    fixed.mode = 'ok';
    const r = await waiter.result;
    expect(r.code).toBe(ExitCode.Ready);
    const rejected = r.events('not_ready').find((l) => l.code === 'HTTP_401');
    expect(rejected).toMatchObject({ stage: 'auth' });
    expect(String(rejected?.reason)).toContain('JOBSERVICE_SECRET');
    expectNoSecret(r);
    await fixed.close();
  });

  it('exits 124 at the deadline, listing each pending target with its last stage, code and reason', async () => {
    const port = await freePort();
    const r = await runCli(['--deadline', '1s', `redis://:wrong@127.0.0.1:${redis.port}`, `tcp://127.0.0.1:${port}`, `tcp://127.0.0.1:${redis.port}`]);
    expect(r.code).toBe(ExitCode.Deadline);
    const deadline = r.events('deadline')[0];
    expect(deadline).toMatchObject({ level: 'error', deadline_ms: 1000 });
    expect(deadline?.elapsed_ms).toBeGreaterThanOrEqual(1000);
    expect(deadline?.pending).toEqual([
      expect.objectContaining({ target: `redis://:***@127.0.0.1:${redis.port}`, stage: 'auth', code: 'WRONGPASS', reason: expect.any(String) }),
      expect.objectContaining({ target: `tcp://127.0.0.1:${port}`, stage: 'connect', code: 'ECONNREFUSED', reason: expect.any(String) }),
    ]);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('times out an attempt against a server that accepts and never answers', async () => {
    const silent = net.createServer((s) => s.resume());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    const r = await runCli(['--deadline', '1500ms', '--attempt-timeout', '300ms', `redis://127.0.0.1:${port}`, `http://127.0.0.1:${port}/`]);
    expect(r.code).toBe(ExitCode.Deadline);
    const codes = r.events('not_ready').map((l) => [l.stage, l.code]);
    expect(codes).toContainEqual(['timeout', 'RESPONSE_TIMEOUT']);
    silent.close();
  });

  it('--once: exit 0 when ready, 1 when not, without retrying', async () => {
    expect((await runCli(['--once', redisUrl])).code).toBe(ExitCode.Ready);
    const r = await runCli([`tcp://127.0.0.1:${await freePort()}`], { WAIT_ONCE: 'true' });
    expect(r.code).toBe(ExitCode.Failure);
    expect(r.events('not_ready')).toHaveLength(1);
    expect(r.events('failed')).toHaveLength(1);
  });

  it('logs waiting every 10 s while anything is pending', async () => {
    const r = await runCli(['--deadline', '10500ms', `tcp://127.0.0.1:${await freePort()}`]);
    expect(r.code).toBe(ExitCode.Deadline);
    const waiting = r.events('waiting');
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ level: 'info', pending: [expect.objectContaining({ code: 'ECONNREFUSED' })] });
    expect(waiting[0]?.elapsed_ms).toBeGreaterThanOrEqual(9900);
    expect(waiting[0]?.remaining_ms).toBeLessThanOrEqual(600);
  }, 30_000);
});

describe('signals', () => {
  for (const [signal, code] of [['SIGTERM', ExitCode.Sigterm], ['SIGINT', ExitCode.Sigint]] as const) {
    it(`${signal} between attempts: exits ${code}, logging cancelled`, async () => {
      const waiter = startCli([`tcp://127.0.0.1:${await freePort()}`]);
      await waiter.waitForEvent('not_ready');
      const sent = performance.now();
      waiter.child.kill(signal);
      const r = await waiter.result;
      expect(r.code).toBe(code);
      expect(performance.now() - sent).toBeLessThan(3000);
      expect(r.events('cancelled')[0]).toMatchObject({ level: 'warn', signal });
    });
  }

  it('SIGTERM during an attempt in flight: exits 143 and the connection is closed', async () => {
    const open = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      s.resume();
      open.add(s);
      s.on('close', () => open.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    const waiter = startCli([`redis://127.0.0.1:${port}`, '--attempt-timeout', '60s', '--log-level', 'debug']);
    await waiter.waitForEvent('start');
    while (open.size === 0) await new Promise((r) => setTimeout(r, 10));
    waiter.child.kill('SIGTERM');
    const r = await waiter.result;
    expect(r.code).toBe(ExitCode.Sigterm);
    while (open.size > 0) await new Promise((r) => setTimeout(r, 10));
    silent.close();
  });
});

describe('TLS', () => {
  it('verifies rediss against --ca-file', async () => {
    const tlsRedis = await startRedis({ tls: certs });
    const ok = await runCli(['--ca-file', certs.caCert, `rediss://127.0.0.1:${tlsRedis.port}`]);
    expect(ok.code).toBe(ExitCode.Ready);
    expect(ok.lines[0]).toMatchObject({ settings: { ca_file: certs.caCert } });
    const untrusted = await runCli(['--once', `rediss://127.0.0.1:${tlsRedis.port}`]);
    expect(untrusted.code).toBe(ExitCode.Failure);
    expect(untrusted.events('not_ready')[0]).toMatchObject({ stage: 'tls' });
    const skipped = await runCli(['--once', `rediss://127.0.0.1:${tlsRedis.port}`], { WAIT_INSECURE_SKIP_VERIFY: 'true' });
    expect(skipped.code).toBe(ExitCode.Ready);
    expect(skipped.events('warning')[0]).toMatchObject({ level: 'warn', msg: expect.stringContaining('verification is off') });
    await tlsRedis.stop();
  });
});

describe('log options', () => {
  it('--log-level debug shows repeats; warn hides info lines', async () => {
    const port = await freePort();
    const debug = await runCli(['--deadline', '800ms', '--log-level', 'debug', `tcp://127.0.0.1:${port}`]);
    expect(debug.events('not_ready').some((l) => l.level === 'debug')).toBe(true);
    const warn = await runCli(['--deadline', '500ms', `tcp://127.0.0.1:${port}`], { WAIT_LOG_LEVEL: 'warn' });
    expect(warn.lines.map((l) => l.level)).toEqual(['error']);
    expect(warn.events('deadline')).toHaveLength(1);
  });

  it('--log-format pretty writes lines for a person', async () => {
    const r = await runCli(['--log-format', 'pretty', redisUrl]);
    expect(r.code).toBe(ExitCode.Ready);
    expect(r.lines).toHaveLength(0);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO: harbor-wait .* waiting for 1 target/m);
    expect(r.stdout).toMatch(/INFO: the target is ready after /);
    expectNoSecret(r);
  });
});

describe('secrets', () => {
  it('never prints a password, the Harbor secret or core\'s answer, at debug level, on any path', async () => {
    const wrongSecretFile = join(tempDir(), 'wrong');
    writeFileSync(wrongSecretFile, 'some-other-secret');
    const runs = await Promise.all([
      runCli(['--log-level', 'debug', '--harbor-core', core.url, '--harbor-secret-file', secretFile, redisUrl]),
      runCli(['--log-level', 'debug', '--deadline', '600ms', `redis://:${encodeURIComponent(REDIS_PASSWORD)}x@127.0.0.1:${redis.port}`]),
      runCli(['--log-level', 'debug', '--deadline', '600ms', `redis://default:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${await freePort()}`]),
      runCli(['--log-level', 'debug', '--deadline', '600ms', '--harbor-core', core.url], { JOBSERVICE_SECRET: `${HARBOR_SECRET}-wrong` }),
      runCli(['--log-level', 'debug', `redis://:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${redis.port}?bogus=1`]),
      runCli(['--log-level', 'debug', `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`]),
    ]);
    for (const r of runs) expectNoSecret(r);
    expect(runs.map((r) => r.code)).toEqual([0, 124, 124, 124, 2, 2]);
  });

  it("DEBUG=* (the libraries' debug switch) writes nothing more: their debug output is left out of the bundle", async () => {
    const env = { DEBUG: '*', NODE_DEBUG: '' };
    const runs = await Promise.all([
      runCli(['--harbor-core', core.url, '--harbor-secret-file', secretFile, redisUrl], env),
      runCli(['--deadline', '600ms', `redis://:${encodeURIComponent(REDIS_PASSWORD)}x@127.0.0.1:${redis.port}`], env),
    ]);
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n').filter(Boolean).every((l) => l.startsWith('{'))).toBe(true);
      expectNoSecret(r);
    }
    expect(runs.map((r) => r.code)).toEqual([0, 124]);
  });
});

describe('configuration errors', () => {
  const cases: Array<[string, string[], Record<string, string>, string]> = [
    ['no target', [], {}, 'targets'],
    ['an unknown option', ['--deadlin', '5s', 'tcp://a:1'], {}, '--deadlin'],
    ['a secret on the command line', ['--harbor-secret', HARBOR_SECRET, '--harbor-core', 'http://harbor-core:80'], {}, '--harbor-secret'],
    ['a bad duration flag', ['--deadline', '5 minutes', 'tcp://a:1'], {}, '--deadline'],
    ['a bad duration env var', ['tcp://a:1'], { WAIT_ATTEMPT_TIMEOUT: '-1s' }, 'WAIT_ATTEMPT_TIMEOUT'],
    ['a bad boolean env var', ['tcp://a:1'], { WAIT_ONCE: 'sometimes' }, 'WAIT_ONCE'],
    ['a bad status list', ['--expect-status', '2xx', 'http://a/'], {}, '--expect-status'],
    ['an unknown scheme', ['postgres://harbor-database:5432'], {}, 'argument'],
    ['a Redis query parameter Harbor rejects', [`redis://:${REDIS_PASSWORD}@harbor-redis:6379?idle_timeout_secs=30`], {}, 'argument'],
    ['redis+sentinel without a master name', ['redis+sentinel://s1:26379,s2:26379'], {}, 'argument'],
    ['an unreadable secret file', ['--harbor-core', 'http://harbor-core:80', '--harbor-secret-file', '/nonexistent/secret'], {}, '--harbor-secret-file'],
    ['no secret for core', ['--harbor-core', 'http://harbor-core:80'], { CORE_SECRET: HARBOR_SECRET }, '--harbor-core'],
    ["core's old configuration path", ['--harbor-core', 'http://harbor-core/api/internal/configurations'], { JOBSERVICE_SECRET: HARBOR_SECRET }, '--harbor-core'],
    ['an unreadable CA file', ['--ca-file', '/nonexistent/ca.crt', 'https://a/'], {}, '--ca-file'],
    ['a bad log level', ['--log-level', 'verbose', 'tcp://a:1'], {}, '--log-level'],
    ['a bad target in WAIT_TARGETS', [], { WAIT_TARGETS: 'tcp://harbor-redis' }, 'WAIT_TARGETS'],
  ];
  for (const [name, args, env, input] of cases) {
    it(`${name}: exit 2, one config_error line naming ${input}, no stack trace, no secret`, async () => {
      const r = await runCli(args, env);
      expect(r.code).toBe(ExitCode.ConfigError);
      expect(r.lines).toHaveLength(1);
      expect(r.lines[0]).toMatchObject({ level: 'error', event: 'config_error' });
      expect(String(r.lines[0]?.input)).toContain(input);
      expect(r.lines[0]?.msg).toContain(input);
      expect(r.stderr).toBe('');
      expect(r.stdout).not.toMatch(/\bat .*\.(m?js|ts):\d+/);
      expectNoSecret(r);
    });
  }

  it('hints at JOBSERVICE_SECRET when only CORE_SECRET is set', async () => {
    const r = await runCli(['--harbor-core', 'http://harbor-core:80'], { CORE_SECRET: 'x' });
    expect(r.lines[0]?.msg).toContain('JOBSERVICE_SECRET');
    expect(r.lines[0]?.msg).toContain('--harbor-secret-file');
  });

  it('comes out pretty when pretty was asked for', async () => {
    const r = await runCli(['--log-format', 'pretty', '--deadline', 'soon', 'tcp://a:1']);
    expect(r.code).toBe(ExitCode.ConfigError);
    expect(r.stdout).toMatch(/ERROR: --deadline: "soon" is not a duration/);
  });
});

describe('the entry file', () => {
  /** Runs `entry` with a plain env, from its own directory, and returns what a person would compare. */
  function runEntry(entry: string, args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [entry, ...args], { cwd: dirname(entry), env: { PATH: '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }
  /** A run's log lines without what differs from run to run (times, durations, the jitter). */
  const shape = (stdout: string) =>
    stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogLine)
      .map(({ event, level, target, code, stage }) => JSON.stringify({ event, level, target, code, stage }))
      .sort(); // targets checked side by side finish in either order

  it('is one file: the program and every library it loads are inside it', () => {
    const text = readFileSync(BUILT, 'utf8');
    // The code of each library, not only its name: a string each one's own source holds.
    expect(text).toContain('Stream isn\'t writeable and enableOfflineQueue options is false'); // ioredis
    expect(text).toContain('UND_ERR_HEADERS_OVERFLOW'); // undici
    expect(text).toContain('Expected `retries` to be a non-negative number.'); // p-retry
    expect(text).toContain('only one of option.transport or stream can be specified'); // pino
    expect(text).not.toMatch(/require\("\.{1,2}\//); // nothing required from beside it
  });

  // The code cache may only make it faster: any other cache beside it changes nothing else. Each case also
  // says what the entry hands V8 (seen by an observer preloaded into it): the cache or nothing, and whether
  // V8 took it.
  const caches: Array<[string, (cache: Buffer) => Buffer | undefined, { given: boolean; rejected: boolean | null }]> = [
    ['the code cache the build made', (c) => c, { given: true, rejected: false }],
    ['no code cache', () => undefined, { given: false, rejected: null }],
    ['a truncated code cache', (c) => c.subarray(0, Math.floor(c.length / 2)), { given: true, rejected: true }],
    ['a code cache that is garbage', (c) => Buffer.from(c.map((_, i) => (i * 7919) & 0xff)), { given: false, rejected: null }],
    // Its first line names the build it was made for: another build's is not handed to V8 (which would take it
    // for a program of the same length).
    ['the code cache of another harbor-wait build', (c) => Buffer.concat([Buffer.from(c.toString('latin1', 0, c.indexOf(10)).replace(/[0-9a-f]{16}$/, '0123456789abcdef'), 'latin1'), c.subarray(c.indexOf(10))]), { given: false, rejected: null }],
    // V8's header holds a hash of the version that made it: a cache from another Node build differs there.
    ['a code cache from another Node build', (c) => fromAnotherNode(c), { given: true, rejected: true }],
  ];
  /** The cache with the bytes of V8's version hash (just after its 4-byte magic number) changed. */
  function fromAnotherNode(file: Buffer): Buffer {
    const at = file.indexOf(10) + 1; // after our first line
    const copy = Buffer.from(file);
    for (let i = at + 4; i < at + 8; i++) copy[i] = (copy[i] as number) ^ 0xff;
    return copy;
  }
  const scenarios: Array<[string, () => string[], number]> = [
    ['ready', () => [redisUrl, `--harbor-core`, core.url, '--harbor-secret-file', secretFile], ExitCode.Ready],
    ['a deadline', () => ['--deadline', '500ms', `redis://127.0.0.1:${closedPort}`], ExitCode.Deadline],
    ['a configuration error', () => ['--deadline', 'soon', redisUrl], ExitCode.ConfigError],
    ['--version', () => ['--version'], ExitCode.Ready],
  ];
  let closedPort: number;
  let observer: string;
  beforeAll(async () => {
    closedPort = await freePort();
    observer = join(tempDir('harbor-wait-observer-'), 'observer.cjs');
    writeFileSync(
      observer,
      `const vm = require('node:vm');
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(source, options) {
    super(source, options);
    const seen = { given: options?.cachedData !== undefined, rejected: options?.cachedData === undefined ? null : this.cachedDataRejected };
    process.on('exit', () => require('node:fs').writeFileSync(process.env.SEEN_OUT, JSON.stringify(seen)));
  }
};\n`,
    );
  });

  it.each(caches)('copied with %s into an empty directory, alone, it behaves as in every other test, and writes nothing there', async (_, alter, expected) => {
    const dir = tempDir('harbor-wait-alone-');
    copyFileSync(BUILT, join(dir, 'harbor-wait.cjs'));
    const cache = alter(readFileSync(join(dirname(BUILT), CODE_CACHE)));
    if (cache) writeFileSync(join(dir, CODE_CACHE), cache);
    const listing = readdirSync(dir).sort();
    for (const [name, args, code] of scenarios) {
      const [alone, reference] = await Promise.all([runEntry(join(dir, 'harbor-wait.cjs'), args()), runEntry(ALONE, args())]);
      expect(alone.stderr, name).toBe('');
      expect(alone.code, name).toBe(code);
      if (name === '--version') expect(alone.stdout).toBe(reference.stdout);
      else expect(shape(alone.stdout), name).toEqual(shape(reference.stdout));
    }
    expect(readdirSync(dir).sort()).toEqual(listing);
    const seenOut = join(tempDir(), 'seen.json');
    const observed = await runEntry(join(dir, 'harbor-wait.cjs'), ['--version'], { NODE_OPTIONS: `--require ${observer}`, SEEN_OUT: seenOut });
    expect(observed.code).toBe(ExitCode.Ready);
    expect(JSON.parse(readFileSync(seenOut, 'utf8'))).toEqual(expected);
  });

  it('ships a code cache that this node accepts, made for this build', () => {
    const { source, id } = createRequire(import.meta.url)(BUILT) as { source: string; id: string };
    const cachedData = cachedDataFor(id, readFileSync(join(dirname(BUILT), CODE_CACHE)));
    expect(cachedData).toBeDefined();
    expect(compileProgram(source, BUILT, cachedData).cachedDataRejected).toBe(false);
  });

  it('still exits by the outcome when whoever read its stdout has gone away (EPIPE)', async () => {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [BUNDLE, redisUrl], { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.destroy();
      child.on('close', resolve);
    });
    expect(code).toBe(ExitCode.Ready);
  });
});

describe('--help and --version', () => {
  it('--help prints usage with every option and env var, exit 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['--deadline', 'WAIT_DEADLINE', '--harbor-core', 'WAIT_HARBOR_CORE', 'WAIT_TARGETS', 'redis+sentinel://', '124']) {
      expect(r.stdout).toContain(word);
    }
  });

  it('--version prints the package version, exit 0', async () => {
    const { version } = (await import('../package.json', { with: { type: 'json' } })).default as { version: string };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });
});
