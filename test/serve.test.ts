/**
 * Sidecar mode, as the kubelet sees it: the built bundle with --serve against a real Redis (started late, then
 * restarted mid-run) and the imitation of core (500, then 200); /readyz, /livez and /metrics read over HTTP;
 * SIGTERM with a probe connection still open.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { runCli, startCli, type Running } from './helpers/cli.ts';
import { startFakeCore, type FakeCore } from './helpers/core.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { family } from './helpers/prometheus.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';

const REDIS_PASSWORD = 'redis-PW-mark/serve';
const HARBOR_SECRET = 'harbor-SECRET-mark-serve';
const DB_PASSWORD = 'db-PASSWORD-mark-serve';
const SECRETS = [REDIS_PASSWORD, encodeURIComponent(REDIS_PASSWORD), HARBOR_SECRET, DB_PASSWORD];

interface Reply {
  readonly status: number;
  readonly type: string | undefined;
  readonly body: string;
}

/** One GET (or other method) without keep-alive, as a kubelet probe does. */
function request(base: string, path: string, method = 'GET', agent?: http.Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Readyz {
  status: 'ready' | 'not_ready';
  targets: Array<{ target: string; state: string; stage: string | null; code: string | null; reason: string | null; since: string; last_check: string | null; attempts: number }>;
}

/** Polls /readyz until `until` holds (generous bound: the point is the state reached, not the time). */
async function readyzUntil(base: string, until: (r: Readyz, status: number) => boolean, ms = 20_000): Promise<Readyz> {
  const end = Date.now() + ms;
  let last: Reply | undefined;
  while (Date.now() < end) {
    last = await request(base, '/readyz');
    const body = JSON.parse(last.body) as Readyz;
    if (until(body, last.status)) return body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`/readyz never reached the state; last answer ${last?.status}: ${last?.body}`);
}

function expectNoSecret(text: string): void {
  for (const s of SECRETS) expect(text).not.toContain(s);
}


describe('--serve: readiness follows the dependencies', () => {
  let redis: RedisServer | undefined;
  let redisPort: number;
  let redisDir: string;
  let core: FakeCore;
  let cli: Running;
  let base: string;
  let redisLabel: string;
  let coreLabel: string;

  beforeAll(async () => {
    redisPort = await freePort();
    redisDir = tempDir('harbor-wait-serve-redis-');
    core = await startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD });
    core.mode = 'db-down';
    const url = `redis://:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${redisPort}/0`;
    redisLabel = `redis://:***@127.0.0.1:${redisPort}/0`;
    coreLabel = `${core.url}/api/v2.0/internalconfig`;
    cli = startCli(['--serve', '127.0.0.1:0', '--serve-interval', '200ms', '--harbor-core', core.url, url], {
      JOBSERVICE_SECRET: HARBOR_SECRET,
      WAIT_LOG_LEVEL: 'debug',
    });
    const serving = await cli.waitForEvent('serving');
    base = `http://${String(serving.address)}`;
  });
  afterAll(async () => {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await redis?.stop();
    await core.close();
  });

  it('answers /readyz 503 with each target\'s stage, code and reason while they are down; /livez 200', async () => {
    const body = await readyzUntil(base, (r, status) => status === 503 && r.targets.every((t) => t.state === 'not_ready'));
    expect(body.status).toBe('not_ready');
    expect(body.targets.map((t) => [t.target, t.stage, t.code])).toEqual([
      [redisLabel, 'connect', 'ECONNREFUSED'],
      [coreLabel, 'response', 'HTTP_500'],
    ]);
    for (const t of body.targets) {
      expect(t.reason).toEqual(expect.any(String));
      expect(Date.parse(t.since)).not.toBeNaN();
      expect(t.attempts).toBeGreaterThan(0);
    }
    const live = await request(base, '/livez');
    expect(live.status).toBe(200);
    expect(JSON.parse(live.body)).toEqual({ status: 'ok' });
  });

  it('answers 200 once Redis is up and core answers 200', async () => {
    redis = await startRedis({ port: redisPort, dir: redisDir, args: ['--requirepass', REDIS_PASSWORD], password: REDIS_PASSWORD });
    core.mode = 'ok';
    const body = await readyzUntil(base, (_r, status) => status === 200);
    expect(body.status).toBe('ready');
    expect(body.targets.map((t) => [t.state, t.code])).toEqual([
      ['ready', null],
      ['ready', null],
    ]);
    await cli.waitForEvent('readiness', (l) => l.ready === true);
  });

  it('follows Redis restarted mid-run: 503 while it is down, 200 again once it is back', async () => {
    const before = await readyzUntil(base, (_r, status) => status === 200);
    const readySince = before.targets[0]?.since;
    await redis?.stop();
    const down = await readyzUntil(base, (r, status) => status === 503 && r.targets[0]?.state === 'not_ready');
    expect(down.targets[0]).toMatchObject({ target: redisLabel, stage: 'connect', code: 'ECONNREFUSED' });
    expect(down.targets[1]?.state).toBe('ready');
    expect(Date.parse(down.targets[0]?.since ?? '')).toBeGreaterThan(Date.parse(readySince ?? ''));
    await cli.waitForEvent('readiness', (l) => l.ready === false);

    redis = await startRedis({ port: redisPort, dir: redisDir, args: ['--requirepass', REDIS_PASSWORD], password: REDIS_PASSWORD });
    const back = await readyzUntil(base, (_r, status) => status === 200);
    expect(back.targets[0]?.state).toBe('ready');
  });

  it('serves /metrics in the Prometheus text format: up, attempts, failures by code, latency, age', async () => {
    await readyzUntil(base, (_r, status) => status === 200);
    const reply = await request(base, '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = reply.body;
    const value = (name: string, labels: Record<string, string> = {}) =>
      family(text, name).samples.find((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v) && m.name === name)?.value;
    expect(family(text, 'harbor_wait_ready').type).toBe('gauge');
    expect(value('harbor_wait_ready')).toBe(1);
    const up = family(text, 'harbor_wait_up');
    expect(up.type).toBe('gauge');
    expect(up.samples.map((m) => [m.labels.target, m.value])).toEqual([
      [redisLabel, 1],
      [coreLabel, 1],
    ]);
    expect(family(text, 'harbor_wait_failures_total').type).toBe('counter');
    expect(value('harbor_wait_failures_total', { target: redisLabel, code: 'ECONNREFUSED' })).toBeGreaterThan(0);
    expect(value('harbor_wait_failures_total', { target: coreLabel, code: 'HTTP_500' })).toBeGreaterThan(0);
    const latency = family(text, 'harbor_wait_probe_duration_seconds');
    expect(latency.type).toBe('histogram');
    for (const target of [redisLabel, coreLabel]) {
      const attempts = value('harbor_wait_attempts_total', { target }) ?? NaN;
      const count = latency.samples.find((m) => m.name === 'harbor_wait_probe_duration_seconds_count' && m.labels.target === target)?.value;
      const buckets = latency.samples.filter((m) => m.name === 'harbor_wait_probe_duration_seconds_bucket' && m.labels.target === target);
      // Every finished attempt is observed once (one may be in flight between the two numbers).
      expect(count).toBeGreaterThanOrEqual(attempts - 1);
      expect(count).toBeLessThanOrEqual(attempts);
      const cumulative = buckets.map((b) => b.value);
      expect(cumulative).toEqual([...cumulative].sort((a, b) => a - b));
      expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: count });
      const sum = latency.samples.find((m) => m.name === 'harbor_wait_probe_duration_seconds_sum' && m.labels.target === target)?.value;
      expect(sum).toBeGreaterThan(0);
    }
    const ages = family(text, 'harbor_wait_state_age_seconds').samples.map((m) => m.value);
    expect(ages).toHaveLength(2);
    for (const age of ages) expect(age).toBeGreaterThanOrEqual(0);
  });

  it('answers 404 for other paths and 405 for other methods; HEAD works for probes', async () => {
    expect((await request(base, '/healthz')).status).toBe(404);
    const post = await request(base, '/readyz', 'POST');
    expect(post.status).toBe(405);
    const head = await request(base, '/readyz', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('routes an absolute-form request line (RFC 9112 §3.2.2) on its path, as the origin form', async () => {
    const { hostname: host, port } = new URL(base);
    /** One request over a raw socket, the request line exactly as given; resolves with the status line and the body. */
    const raw = (target: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const socket = net.connect({ host, port: Number(port) });
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        socket.on('error', reject);
        socket.on('end', () => {
          const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0);
          resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
        });
        socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`);
      });
    const origin = await request(base, '/readyz');
    const absolute = await raw(`http://${host}:${port}/readyz`);
    expect(absolute.status).toBe(origin.status);
    expect(JSON.parse(absolute.body)).toMatchObject({ status: (JSON.parse(origin.body) as Readyz).status });
    expect(await raw('http://harbor-wait.invalid/livez')).toEqual({ status: 200, body: '{"status":"ok"}\n' });
    expect((await raw(`HTTP://${host}:${port}/metrics?name[]=x`)).body).toContain('# TYPE harbor_wait_up gauge');
    expect((await raw('https://elsewhere:1/livez')).status).toBe(200);
    expect((await raw(`http://${host}:${port}`)).status).toBe(404);
    expect((await raw(`http://${host}:${port}/healthz`)).status).toBe(404);
  });

  it('never shows a secret, in /readyz, /metrics or the log, at debug level', async () => {
    for (const path of ['/readyz', '/metrics', '/livez']) expectNoSecret((await request(base, path)).body);
  });

  it('on SIGTERM closes the server, even with a probe connection kept open, and exits 143', async () => {
    const agent = new http.Agent({ keepAlive: true });
    expect((await request(base, '/livez', 'GET', agent)).status).toBe(200);
    const sent = performance.now();
    cli.child.kill('SIGTERM');
    const r = await cli.result;
    const ms = performance.now() - sent;
    agent.destroy();
    expect(r.code).toBe(ExitCode.Sigterm);
    // Generous: a kept-alive connection left open would hold the process for its 5 s keep-alive timeout.
    expect(ms).toBeLessThan(3_000);
    expect(r.lines.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGTERM' });
    expect(r.stderr).toBe('');
    expectNoSecret(r.stdout);
    await expect(request(base, '/livez')).rejects.toThrow(/ECONNREFUSED/);
    expect(core.openConnections()).toBe(0);
    const clients = await redis?.admin().info('clients');
    expect(clients).toMatch(/connected_clients:1\r?\n/);
  });
});

describe('--serve: bad input', () => {
  it.each([
    [['--serve', '8099'], {}, '--serve', 'not a listen address'],
    [['--serve', 'host:99999'], {}, '--serve', 'not a listen address'],
    [[], { WAIT_SERVE: ':8099', WAIT_ONCE: 'true' }, 'WAIT_SERVE', 'cannot be combined with --once'],
    [['--serve', ':8099', '--serve-interval', '0'], {}, '--serve-interval', 'more than 0'],
  ] as const)('%j %j is a configuration error naming %s', async (argv, env, input, message) => {
    const r = await runCli([...argv, 'tcp://127.0.0.1:1'], env);
    expect(r.code).toBe(ExitCode.ConfigError);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatchObject({ event: 'config_error', input });
    expect(r.lines[0]?.msg).toContain(message);
    expect(r.stderr).toBe('');
  });

  it('exits 2 when the port is taken, before contacting any target', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const core = await startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD });
    try {
      const r = await runCli(['--serve', `127.0.0.1:${port}`, '--harbor-core', core.url], { JOBSERVICE_SECRET: HARBOR_SECRET });
      expect(r.code).toBe(ExitCode.ConfigError);
      expect(r.events('config_error')[0]).toMatchObject({ input: '--serve' });
      expect(r.events('config_error')[0]?.msg).toContain('in use');
      expect(core.requests).toHaveLength(0);
    } finally {
      taken.close();
      await core.close();
    }
  });

  it('warns that a deadline does not apply to a sidecar', async () => {
    const cli = startCli(['--serve', '127.0.0.1:0', 'tcp://127.0.0.1:1'], { WAIT_DEADLINE: '1s' });
    const warning = await cli.waitForEvent('warning');
    expect(warning.msg).toContain('WAIT_DEADLINE is ignored with --serve');
    await cli.waitForEvent('serving');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(cli.child.exitCode).toBeNull(); // still running past the 1 s deadline: a sidecar never gives up
    cli.child.kill('SIGINT');
    expect((await cli.result).code).toBe(ExitCode.Sigint);
  });
});
