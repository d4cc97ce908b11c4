/**
 * A target's identity is its whole URL, secrets included, and output is never damaged to hide a secret: the
 * built entry, copied alone, against real Redis and PostgreSQL servers and the imitation of core.
 * - Two URLs that differ only in their password (or a secret query parameter, or core's secret) are two
 *   targets, both checked, told apart in every line, the termination message, /readyz, /metrics and diagnose
 *   by where each was given; the same URL twice is one target, with a warning.
 * - Short and common passwords (`e`, `1`, `:`, `"`, `postgres`) leave every line whole: JSON that parses, with
 *   its keys, hosts and numbers as they are, and a start-up warning naming the secret that is too short to be
 *   searched for in what servers say.
 * - The jobservice secret is sent byte for byte as jobservice sends it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { chartDatabaseEnv } from './helpers/chart-env.ts';
import { expectWellFormed, runCli, startCli, type CliResult } from './helpers/cli.ts';
import { startFakeCore, startHttp, type FakeCore } from './helpers/core.ts';
import { parseReport } from './helpers/diagnose.ts';
import { startPostgres, type PgServer } from './helpers/postgres.ts';
import { tempDir } from './helpers/processes.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';

const RIGHT = 'right-Password-1';
const WRONG = 'wrong-Password-2';
const HARBOR_SECRET = 'jobservice-Secret-3';

let redis: RedisServer;
let core: FakeCore;
let pg: PgServer;
let dir: string;

beforeAll(async () => {
  [redis, core, pg] = await Promise.all([
    startRedis({ args: ['--requirepass', RIGHT], password: RIGHT }),
    startFakeCore({ secret: HARBOR_SECRET, dbPassword: 'db-Password-4' }),
    startPostgres(),
  ]);
  // Neither owns the database: CREATE on its schema is what core's first migration needs.
  await pg.sql(`CREATE ROLE waiter LOGIN PASSWORD '${RIGHT}'; CREATE ROLE common LOGIN PASSWORD 'postgres'; GRANT CREATE ON SCHEMA public TO waiter, common`);
  dir = tempDir();
});
afterAll(async () => {
  await core.close();
});

function startTargets(r: CliResult): Array<{ target: string; from: string }> {
  return (r.events('start')[0]?.targets ?? []) as Array<{ target: string; from: string }>;
}

function terminationFile(): string {
  const path = join(dir, `termination-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, '');
  return path;
}

describe('a target is its whole URL, secrets included', () => {
  it('two Redis URLs that differ only in the password are both checked, and told apart by where each was given', async () => {
    const base = `127.0.0.1:${redis.port}/1`;
    const path = terminationFile();
    const r = await runCli(['--deadline', '2s', '--termination-log', path, `redis://:${RIGHT}@${base}`, `redis://:${WRONG}@${base}`]);
    expect(r.code, r.stdout).toBe(ExitCode.Deadline);
    expectWellFormed(r);
    const label = `redis://:***@${base}`;
    expect(startTargets(r).map((t) => t.target)).toEqual([`${label} (argument 1)`, `${label} (argument 2)`]);
    expect(r.events('warning').map((w) => w.msg).join('\n')).not.toMatch(/given twice/);
    expect(r.events('ready').map((l) => l.target)).toEqual([`${label} (argument 1)`]);
    const failed = r.events('not_ready').filter((l) => l.target === `${label} (argument 2)`);
    expect(failed[0]).toMatchObject({ stage: 'auth', code: 'WRONGPASS' });
    expect(r.events('deadline')[0]?.pending).toEqual([expect.objectContaining({ target: `${label} (argument 2)`, code: 'WRONGPASS' })]);
    expect(readFileSync(path, 'utf8')).toContain(`${label} (argument 2) (auth, WRONGPASS)`);
    expect(r.stdout).not.toContain(RIGHT);
    expect(r.stdout).not.toContain(WRONG);
  });

  it('the same URL twice is one target, checked once, with a warning naming both places', async () => {
    const url = `redis://:${RIGHT}@127.0.0.1:${redis.port}/1`;
    const r = await runCli(['--deadline', '5s', url], { WAIT_TARGETS: '' });
    expect(r.code).toBe(ExitCode.Ready);
    const twice = await runCli(['--deadline', '5s'], { WAIT_TARGETS: `${url} ${url}` });
    expect(twice.code, twice.stdout).toBe(ExitCode.Ready);
    expect(startTargets(twice)).toEqual([{ target: `redis://:***@127.0.0.1:${redis.port}/1`, from: 'WAIT_TARGETS' }]);
    expect(twice.events('warning').map((w) => w.msg)).toContain(
      `target redis://:***@127.0.0.1:${redis.port}/1 is given twice (WAIT_TARGETS item 1 and WAIT_TARGETS item 2); it is checked once`,
    );
  });

  it('--preset core: a stale _REDIS_URL_CORE beside a good _REDIS_URL_HARBOR on the same host and db is checked', async () => {
    const env = {
      ...chartDatabaseEnv(RIGHT, { host: '127.0.0.1', port: pg.port, user: 'waiter' }),
      POSTGRESQL_DATABASE: 'postgres',
      _REDIS_URL_HARBOR: `redis://:${RIGHT}@127.0.0.1:${redis.port}/0`,
      _REDIS_URL_CORE: `redis://:${WRONG}@127.0.0.1:${redis.port}/0`,
    };
    const r = await runCli(['--preset', 'core', '--once'], env);
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    expectWellFormed(r);
    const label = `redis://:***@127.0.0.1:${redis.port}/0`;
    const targets = startTargets(r).map((t) => t.target);
    expect(targets).toContain(`${label} (_REDIS_URL_HARBOR)`);
    expect(targets).toContain(`${label} (_REDIS_URL_CORE)`);
    expect(r.events('failed')[0]?.pending).toEqual([expect.objectContaining({ target: `${label} (_REDIS_URL_CORE)`, code: 'WRONGPASS' })]);
  });

  it('postgres:// URLs that differ only in the password are two targets', async () => {
    const base = `127.0.0.1:${pg.port}/postgres?sslmode=disable`;
    const r = await runCli(['--once', `postgres://waiter:${RIGHT}@${base}`, `postgres://waiter:${WRONG}@${base}`]);
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    const label = `postgres://waiter:***@${base}`;
    expect(r.events('ready').map((l) => l.target)).toEqual([`${label} (argument 1)`]);
    expect(r.events('failed')[0]?.pending).toEqual([expect.objectContaining({ target: `${label} (argument 2)`, code: 'INVALID_PASSWORD' })]);
  });

  it('http URLs that differ only in a secret query parameter are two targets, in /readyz and /metrics too', async () => {
    // Accepts the right token only: the wrong one must be checked, and seen failing, on its own.
    const server = await startHttp((req, res) => {
      res.writeHead(req.url?.endsWith(`token=${RIGHT}`) ? 200 : 403).end();
    });
    const base = `${server.url}/ping`;
    const cli = startCli(['--serve', '127.0.0.1:0', '--serve-interval', '100ms', `${base}?token=${RIGHT}`, `${base}?token=${WRONG}`]);
    try {
      const serving = await cli.waitForEvent('serving');
      await cli.waitForEvent('not_ready', (l) => l.code === 'HTTP_403');
      const origin = `http://${String(serving.address)}`;
      const readyz = (await (await fetch(`${origin}/readyz`)).json()) as { targets: Array<{ target: string; state: string; code?: string }> };
      expect(readyz.targets.map((t) => t.target)).toEqual([`${base}?token=*** (argument 1)`, `${base}?token=*** (argument 2)`]);
      expect(readyz.targets[1]).toMatchObject({ state: 'not_ready', code: 'HTTP_403' });
      const metrics = await (await fetch(`${origin}/metrics`)).text();
      expect(metrics).toContain(`harbor_wait_failures_total{target="${base}?token=*** (argument 2)",code="HTTP_403"}`);
      expect(metrics).not.toContain(RIGHT);
      expect(metrics).not.toContain(WRONG);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.result;
      await server.close();
    }
  });

  it('diagnose reports each of two URLs that differ only in the password, told apart', async () => {
    const base = `127.0.0.1:${redis.port}/1`;
    const r = await runCli(['diagnose', '--log-format', 'json', `redis://:${RIGHT}@${base}`, `redis://:${WRONG}@${base}`]);
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    const report = parseReport(r.stdout, r.stderr);
    const label = `redis://:***@${base}`;
    expect(report.targets.map((t) => t.target).slice(0, 2)).toEqual([`${label} (argument 1)`, `${label} (argument 2)`]);
    const auth = (i: number) => report.targets[i]?.checks.find((c) => c.name === 'auth')?.status;
    expect([auth(0), auth(1)]).toEqual(['ok', 'fail']);
    expect(r.stdout).not.toContain(WRONG);
  });
});

describe('short and common secrets never damage a line', () => {
  for (const password of ['e', '1', ':', '"']) {
    it(`Redis password ${JSON.stringify(password)}: every line whole, hosts and keys intact, and a warning`, async () => {
      const server = await startRedis({ args: ['--requirepass', password], password });
      try {
        const url = `redis://:${encodeURIComponent(password)}@127.0.0.1:${server.port}/1`;
        const r = await runCli(['--deadline', '10s', '--log-level', 'debug', url]);
        expect(r.code, r.stdout).toBe(ExitCode.Ready);
        expectWellFormed(r);
        const label = `redis://:***@127.0.0.1:${server.port}/1`;
        expect(startTargets(r)).toEqual([{ target: label, from: 'argument' }]);
        expect(r.events('ready')[0]).toMatchObject({ target: label, address: `127.0.0.1:${server.port}` });
        expect(r.events('start')[0]?.settings).toMatchObject({ log_level: 'debug', once: false });
        const warning = r.events('warning').find((w) => /shorter than 6 characters/.test(w.msg));
        expect(warning?.msg).toContain(`${label} (from argument)`);
        // The line with the wrong one is whole as well, its reason as the server gave it.
        const wrong = await runCli(['--once', `redis://:${encodeURIComponent(`${password}x`)}@127.0.0.1:${server.port}/1`]);
        expectWellFormed(wrong);
        expect(wrong.events('not_ready')[0]).toMatchObject({ stage: 'auth', code: 'WRONGPASS' });
      } finally {
        await server.stop();
      }
    });
  }

  it('PostgreSQL password "postgres": every line whole, the user and the host shown', async () => {
    const r = await runCli(['--deadline', '10s', `postgres://common:postgres@127.0.0.1:${pg.port}/postgres?sslmode=disable`]);
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    expectWellFormed(r);
    expect(r.events('ready')[0]).toMatchObject({ target: `postgres://common:***@127.0.0.1:${pg.port}/postgres?sslmode=disable`, address: `127.0.0.1:${pg.port}` });
    expect(r.events('warning').some((w) => /shorter than/.test(w.msg))).toBe(false);
  });
});

describe('the jobservice secret is sent byte for byte', () => {
  const core_ = () => ['--once', '--harbor-core', core.url];

  it('JOBSERVICE_SECRET with a leading space is not the secret core accepts: 401, not ready', async () => {
    const r = await runCli(core_(), { JOBSERVICE_SECRET: ` ${HARBOR_SECRET}` });
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    expect(r.events('not_ready')[0]).toMatchObject({ stage: 'auth', code: 'HTTP_401' });
  });

  it('JOBSERVICE_SECRET with a line break is a configuration error; as it is, ready', async () => {
    const broken = await runCli(core_(), { JOBSERVICE_SECRET: `${HARBOR_SECRET}\n` });
    expect(broken.code).toBe(ExitCode.ConfigError);
    expect(broken.events('config_error')[0]).toMatchObject({ input: 'JOBSERVICE_SECRET' });
    expect(broken.stdout).not.toContain(HARBOR_SECRET);
    const exact = await runCli(core_(), { JOBSERVICE_SECRET: HARBOR_SECRET });
    expect(exact.code, exact.stdout).toBe(ExitCode.Ready);
  });

  it('--harbor-secret-file: one final line ending is dropped (LF or CRLF), nothing more', async () => {
    const file = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    for (const text of [HARBOR_SECRET, `${HARBOR_SECRET}\n`, `${HARBOR_SECRET}\r\n`]) {
      const r = await runCli([...core_(), '--harbor-secret-file', file('ok', text)]);
      expect(r.code, JSON.stringify(text)).toBe(ExitCode.Ready);
    }
    const twice = await runCli([...core_(), '--harbor-secret-file', file('two', `${HARBOR_SECRET}\n\n`)]);
    expect(twice.code).toBe(ExitCode.ConfigError);
    expect(twice.events('config_error')[0]).toMatchObject({ input: '--harbor-secret-file' });
    const spaced = await runCli([...core_(), '--harbor-secret-file', file('spaced', ` ${HARBOR_SECRET}\n`)]);
    expect(spaced.code).toBe(ExitCode.Failure);
    expect(spaced.events('not_ready')[0]).toMatchObject({ code: 'HTTP_401' });
  });
});
