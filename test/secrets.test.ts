/**
 * Secret hygiene, end to end: the built bundle against real servers holding marked secrets — a Redis password
 * (requirepass, also over TLS and behind a sentinel), an ACL user's password, the Harbor secret core checks,
 * the database password in core's 200 body, and PostgreSQL passwords (SCRAM, given in postgres:// URLs and as
 * core's POSTGRESQL_PASSWORD) — at every log level and in both log formats. No fragment of any secret may
 * appear on stdout, on stderr, or in the bodies of /readyz and /metrics, whatever happens: ready, wrong or
 * missing password, core answering 401, 500 or 200, the deadline, SIGTERM, configuration errors that hold the
 * secret, the jobservice and core presets, and the sidecar.
 */
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { makeCerts, type Certs } from './helpers/certs.ts';
import { runCli, startCli, type CliResult, type LogLine } from './helpers/cli.ts';
import { startFakeCore, startHttp, type FakeCore } from './helpers/core.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { startPostgres, type PgServer } from './helpers/postgres.ts';
import { startRedis, startSentinel, type RedisServer, type Sentinel } from './helpers/redis.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';
import { chartDatabaseEnv } from './helpers/chart-env.ts';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../src/engine/log.ts';

// Characters that need percent-encoding in a URL and escaping in JSON, so that every spelling is exercised.
const REDIS_PASSWORD = `${markedSecret('rpw')}/@"\\`;
const ACL_PASSWORD = markedSecret('acl');
const WRONG_PASSWORD = markedSecret('wpw');
const HTTP_PASSWORD = markedSecret('http');
/** A token in an http target's query (`?access_token=...`): sent, but never shown. */
const QUERY_TOKEN = markedSecret('qt');
const HARBOR_SECRET = markedSecret('hs');
const WRONG_SECRET = markedSecret('whs');
const DB_PASSWORD = markedSecret('db');
const CORE_SECRET = markedSecret('cs');
/** Role harbor's password, given as core's POSTGRESQL_PASSWORD too: so no backslash or white space, which core's unquoted connection string breaks on. */
const PG_PASSWORD = `${markedSecret('pg')}/@"%`;
/** Role waiter's password, given in postgres:// URLs only: a backslash as well. */
const PG_URL_PASSWORD = `${markedSecret('pgu')}/@"\\`;
const PG_WRONG = markedSecret('wpg');
/** PG_PASSWORD with a space inside: refused through the core preset, never shown. */
const PG_SPACED = `${PG_PASSWORD.slice(0, 14)} ${PG_PASSWORD.slice(14)}`;
const SECRETS = [REDIS_PASSWORD, ACL_PASSWORD, WRONG_PASSWORD, HTTP_PASSWORD, QUERY_TOKEN, HARBOR_SECRET, WRONG_SECRET, DB_PASSWORD, CORE_SECRET, PG_PASSWORD, PG_URL_PASSWORD, PG_WRONG, PG_SPACED];
/** HTTP Basic credentials, whose base64 form must not appear either. */
const BASIC = [`harbor:${HTTP_PASSWORD}`];
const enc = encodeURIComponent;

let redis: RedisServer;
let tlsRedis: RedisServer;
let acl: RedisServer;
let sentinel: Sentinel;
let core: FakeCore;
let coreDown: FakeCore;
let basic: Awaited<ReturnType<typeof startHttp>>;
let pg: PgServer;
let certs: Certs;
let secretFile: string;
let wrongSecretFile: string;
let configFile: string;

/** The URLs each scenario combines. */
const url = {
  redis: () => `redis://:${enc(REDIS_PASSWORD)}@127.0.0.1:${redis.port}/1?idle_timeout_seconds=30`,
  rediss: () => `rediss://:${enc(REDIS_PASSWORD)}@127.0.0.1:${tlsRedis.port}/0`,
  acl: () => `redis://harbor:${enc(ACL_PASSWORD)}@127.0.0.1:${acl.port}/2`,
  sentinel: (password = REDIS_PASSWORD) => `redis+sentinel://:${enc(password)}@127.0.0.1:${sentinel.port}/mymaster/0`,
  basic: () => `http://harbor:${enc(HTTP_PASSWORD)}@127.0.0.1:${basic.port}/api/v1/stats?access_token=${enc(QUERY_TOKEN)}`,
  wrongPassword: () => `redis://:${enc(WRONG_PASSWORD)}@127.0.0.1:${redis.port}/0`,
  noPassword: () => `redis://127.0.0.1:${redis.port}/0`,
  wrongAcl: () => `redis://harbor:${enc(WRONG_PASSWORD)}@127.0.0.1:${acl.port}`,
  pg: () => `postgres://waiter:${enc(PG_URL_PASSWORD)}@127.0.0.1:${pg.port}/registry?sslmode=disable&application_name=harbor-wait-test`,
  pgHarbor: () => `postgresql://harbor:${enc(PG_PASSWORD)}@127.0.0.1:${pg.port}/registry?sslmode=prefer&connect_timeout=10`,
  pgWrong: () => `postgres://waiter:${enc(PG_WRONG)}@127.0.0.1:${pg.port}/registry?sslmode=disable`,
  pgNoPassword: () => `postgres://waiter@127.0.0.1:${pg.port}/registry?sslmode=disable`,
};

/** Core's environment as the chart gives it, with the database's password from Secret <fullname>-core. */
const coreEnv = (o: Record<string, string> = {}): Record<string, string> => ({
  _REDIS_URL_CORE: url.redis(),
  _REDIS_URL_REG: `redis://:${enc(REDIS_PASSWORD)}@127.0.0.1:${redis.port}/2?idle_timeout_seconds=30`,
  ...chartDatabaseEnv(PG_PASSWORD, { host: '127.0.0.1', port: pg.port, user: 'harbor' }),
  CORE_SECRET,
  ...o,
});

const sqlLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;

beforeAll(async () => {
  certs = await makeCerts();
  [redis, tlsRedis, acl, core, coreDown, basic, pg] = await Promise.all([
    startRedis({ args: ['--requirepass', REDIS_PASSWORD] }),
    startRedis({ tls: certs, args: ['--requirepass', REDIS_PASSWORD] }),
    startRedis({ args: ['--user', 'harbor', 'on', `>${ACL_PASSWORD}`, '~*', '&*', '+@all', '--user', 'default', 'off'] }),
    startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD }),
    startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD }),
    // An endpoint behind HTTP Basic: 200 for the right credentials, 401 otherwise.
    startHttp((req, res) => {
      const ok =
        req.headers.authorization === `Basic ${Buffer.from(BASIC[0] as string).toString('base64')}` &&
        new URL(req.url ?? '/', 'http://x').searchParams.get('access_token') === QUERY_TOKEN;
      res.writeHead(ok ? 200 : 401);
      res.end();
    }),
    // Every TCP login by SCRAM: a URL without a password meets a server that asks for one.
    startPostgres(),
  ]);
  await pg.sql(
    `CREATE ROLE harbor LOGIN PASSWORD ${sqlLiteral(PG_PASSWORD)}; CREATE ROLE waiter LOGIN PASSWORD ${sqlLiteral(PG_URL_PASSWORD)}; CREATE DATABASE registry OWNER harbor;`,
  );
  // waiter does not own registry: without CREATE on its public schema (PostgreSQL 15) core could not migrate, so it would not be ready.
  await pg.sql('GRANT CREATE ON SCHEMA public TO waiter', 'registry');
  coreDown.mode = 'db-down';
  // The sentinel names `redis` as the master; the password goes to the master only (harbor-facts §3).
  sentinel = await startSentinel('mymaster', redis.port);
  const dir = tempDir('harbor-wait-secrets-');
  secretFile = join(dir, 'jobservice-secret');
  writeFileSync(secretFile, `${HARBOR_SECRET}\n`);
  wrongSecretFile = join(dir, 'wrong-secret');
  writeFileSync(wrongSecretFile, `${WRONG_SECRET}\n`);
  // jobservice's config.yml as the chart renders it; the URL is percent-encoded, so it needs no YAML escaping.
  configFile = join(dir, 'config.yml');
  writeFileSync(
    configFile,
    `protocol: "http"\nport: 8080\nworker_pool:\n  workers: 10\n  backend: "redis"\n  redis_pool:\n    redis_url: "${url.redis()}"\n    namespace: "harbor_job_service_namespace"\n`,
  );
});

afterAll(async () => {
  await Promise.all([core?.close(), coreDown?.close(), basic?.close()]);
});

// ---------------------------------------------------------------------------------------------------------

/** The flags every run gets for its level and format. */
const logArgs = (level: LogLevel, format: LogFormat) => ['--log-level', level, '--log-format', format];

/** No fragment of any secret in any output; and nothing on stderr, which only a bug writes to. */
function expectClean(where: string, r: CliResult, more: Record<string, string> = {}): void {
  expectNoSecret({ [`${where} stdout`]: r.stdout, [`${where} stderr`]: r.stderr, ...more }, SECRETS, BASIC);
  expect(r.stderr, `${where} stderr`).toBe('');
}

/** The JSON lines of a run (none in the pretty format). */
const jsonLines = (r: CliResult): LogLine[] => r.lines;

/** The codes the deadline line lists for the pending targets (JSON format, every level shows it). */
function pendingCodes(r: CliResult): string[] {
  const deadline = jsonLines(r).find((l) => l.event === 'deadline') as { pending?: Array<{ code: string | null }> } | undefined;
  return (deadline?.pending ?? []).map((p) => String(p.code));
}

/** One GET without keep-alive, as a kubelet probe does. */
function get(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${path}`, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Polls `fn` until it returns a value (generous bound: the point is the state reached, not the time). */
async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} never happened${last ? `: ${String(last)}` : ''}`);
}

const bothFormats = (fn: (format: LogFormat) => Promise<void>) => Promise.all(LOG_FORMATS.map(fn));

describe.each(LOG_LEVELS)('log level %s', (level) => {
  describe.concurrent('no secret shows, in either format', () => {
    it('ready: core 200 (its body holds the database password), Redis with a password, TLS, an ACL user, a sentinel, HTTP Basic, PostgreSQL by SCRAM', async () => {
      await bothFormats(async (format) => {
        const r = await runCli(
          [...logArgs(level, format), '--ca-file', certs.caCert, '--harbor-core', core.url, url.redis(), url.rediss(), url.acl(), url.sentinel(), url.basic(), url.pg(), url.pgHarbor()],
          { JOBSERVICE_SECRET: HARBOR_SECRET, CORE_SECRET },
        );
        expect(r.code, `${level}/${format}: ${r.stdout}`).toBe(ExitCode.Ready);
        expectClean(`${level}/${format} ready`, r);
      });
    });

    it('deadline with WRONGPASS, NOAUTH, a wrong ACL password, a wrong password through the sentinel, core 401, and PostgreSQL INVALID_PASSWORD and PASSWORD_REQUIRED', async () => {
      await bothFormats(async (format) => {
        const r = await runCli(
          [
            ...logArgs(level, format),
            '--deadline',
            '2500ms',
            '--harbor-core',
            core.url,
            '--harbor-secret-file',
            wrongSecretFile,
            url.wrongPassword(),
            url.noPassword(),
            url.wrongAcl(),
            url.sentinel(WRONG_PASSWORD),
            url.pgWrong(),
            url.pgNoPassword(),
          ],
          // The right secret is in the env too: the file wins, and the unused secret must not show either.
          { JOBSERVICE_SECRET: HARBOR_SECRET, CORE_SECRET },
        );
        expect(r.code, `${level}/${format}: ${r.stdout}`).toBe(ExitCode.Deadline);
        if (format === 'json') expect(pendingCodes(r).sort()).toEqual(['HTTP_401', 'INVALID_PASSWORD', 'NOAUTH', 'PASSWORD_REQUIRED', 'WRONGPASS', 'WRONGPASS', 'WRONGPASS']);
        expectClean(`${level}/${format} auth failures`, r);
      });
    });

    it('deadline with core answering 500, beside a ready Redis', async () => {
      await bothFormats(async (format) => {
        const r = await runCli([...logArgs(level, format), '--deadline', '2s', '--harbor-core', coreDown.url, url.redis()], { JOBSERVICE_SECRET: HARBOR_SECRET });
        expect(r.code, `${level}/${format}: ${r.stdout}`).toBe(ExitCode.Deadline);
        if (format === 'json') expect(pendingCodes(r)).toEqual(['HTTP_500']);
        expectClean(`${level}/${format} core 500`, r);
      });
    });

    it('SIGTERM while core rejects the secret, Redis the password and PostgreSQL the password', async () => {
      await bothFormats(async (format) => {
        // A core of its own, so that its requests say when the waiter is under way, whatever the level.
        const own = await startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD });
        try {
          const waiter = startCli([...logArgs(level, format), '--harbor-core', own.url, url.wrongPassword(), url.acl(), url.pgWrong(), url.pg()], { JOBSERVICE_SECRET: WRONG_SECRET });
          await until('a call to core', async () => (own.requests.length > 0 ? true : undefined));
          waiter.child.kill('SIGTERM');
          const r = await waiter.result;
          expect(r.code).toBe(ExitCode.Sigterm);
          expectClean(`${level}/${format} SIGTERM`, r);
        } finally {
          await own.close();
        }
      });
    });

    it('configuration errors whose input holds the secret', async () => {
      // The last field, when there is one: the input the error must name (JSON format), so that it is the error meant.
      const cases: Array<[string, string[], Record<string, string>, RegExp?]> = [
        ['a rejected query parameter', [`redis://:${enc(REDIS_PASSWORD)}@127.0.0.1:${redis.port}/0?password=${enc(REDIS_PASSWORD)}`], {}],
        ['a password cut at white space', [], { WAIT_TARGETS: `redis://:${REDIS_PASSWORD.slice(0, 12)} ${REDIS_PASSWORD.slice(12)}@127.0.0.1:${redis.port}` }],
        ['a mistyped scheme', [`redis:/:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`], {}],
        ['a bad port with a password', [`rediss+sentinel://:${enc(REDIS_PASSWORD)}@127.0.0.1:99999/mymaster`], {}],
        ['the secret on the command line', ['--harbor-secret', HARBOR_SECRET, '--harbor-core', core.url], {}],
        ["core's old path", ['--harbor-core', `${core.url}/api/internal/configurations`], { JOBSERVICE_SECRET: HARBOR_SECRET }],
        ['CORE_SECRET only, for the jobservice preset', ['--preset', 'jobservice', '--jobservice-config', configFile], { CORE_URL: core.url, CORE_SECRET }],
        ['the secret as the whole header value', ['--harbor-core', core.url], { JOBSERVICE_SECRET: `Harbor-Secret ${HARBOR_SECRET}` }],
        ['a parameter harbor-wait does not apply, in a postgres:// URL holding the password (twice)', [`postgres://waiter:${enc(PG_URL_PASSWORD)}@127.0.0.1:${pg.port}/registry?sslpassword=${enc(PG_URL_PASSWORD)}`], {}, /^argument "postgres:\/\/\*\*\*@.*\?sslpassword=\*\*\*" sslpassword$/],
        ['a bad sslmode in a postgresql:// URL holding the password', [`postgresql://harbor:${enc(PG_PASSWORD)}@127.0.0.1:${pg.port}/registry?sslmode=verify`], {}, / sslmode$/],
        ['an unreadable sslrootcert in a postgres:// URL holding the password', [`postgres://waiter:${enc(PG_URL_PASSWORD)}@127.0.0.1:${pg.port}/registry?sslmode=verify-full&sslrootcert=%2Fnonexistent%2Fca.crt`], {}, / sslrootcert$/],
        ['a postgres:// URL with the password and no user', [`postgres://:${enc(PG_URL_PASSWORD)}@127.0.0.1:${pg.port}/registry`], {}, /^argument "postgres:\/\/\*\*\*@127\.0\.0\.1:\d+\/registry"$/],
        ['a postgres:// password cut at white space, in WAIT_TARGETS', [], { WAIT_TARGETS: `postgres://waiter:${PG_PASSWORD.slice(0, 12)} ${PG_PASSWORD.slice(12)}@127.0.0.1:${pg.port}/registry` }, /^WAIT_TARGETS$/],
        ['POSTGRESQL_PASSWORD with white space, through --preset core', ['--preset', 'core'], coreEnv({ POSTGRESQL_PASSWORD: PG_SPACED }), /^POSTGRESQL_PASSWORD$/],
        ['POSTGRESQL_PASSWORD ending in a backslash, through --preset core', ['--preset', 'core'], coreEnv({ POSTGRESQL_PASSWORD: `${PG_PASSWORD}\\` }), /^POSTGRESQL_PASSWORD$/],
        ['POSTGRESQL_SSLMODE not one of the six, beside a good POSTGRESQL_PASSWORD', ['--preset', 'core'], coreEnv({ POSTGRESQL_SSLMODE: 'verify' }), /^POSTGRESQL_SSLMODE$/],
      ];
      await bothFormats(async (format) => {
        const runs = await Promise.all(cases.map(([, args, env]) => runCli([...logArgs(level, format), ...args], env)));
        for (const [i, r] of runs.entries()) {
          const name = `${level}/${format} ${cases[i]?.[0]}`;
          expect(r.code, `${name}: ${r.stdout}`).toBe(ExitCode.ConfigError);
          // A configuration error is an error line: it shows at every level.
          expect(r.stdout.split('\n').filter(Boolean), name).toHaveLength(1);
          if (format === 'json') expect(r.lines[0]?.event, name).toBe('config_error');
          const input = cases[i]?.[3];
          if (format === 'json' && input) expect(String(r.lines[0]?.input), name).toMatch(input);
          expectClean(name, r);
        }
      });
    });

    it('the jobservice preset: the secret from JOBSERVICE_SECRET, then from --harbor-secret-file; the Redis password from config.yml', async () => {
      await bothFormats(async (format) => {
        const env = { CORE_URL: core.url, WAIT_JOBSERVICE_CONFIG: configFile, CORE_SECRET };
        const [fromEnv, fromFile] = await Promise.all([
          runCli([...logArgs(level, format), '--preset', 'jobservice'], { ...env, JOBSERVICE_SECRET: HARBOR_SECRET }),
          runCli([...logArgs(level, format), '--preset', 'jobservice', '--harbor-secret-file', secretFile], env),
        ]);
        for (const [name, r] of [['JOBSERVICE_SECRET', fromEnv], ['--harbor-secret-file', fromFile]] as const) {
          expect(r.code, `${level}/${format} ${name}: ${r.stdout}`).toBe(ExitCode.Ready);
          expectClean(`${level}/${format} preset with ${name}`, r);
        }
      });
    });

    it("the core preset: Redis and the database from core's variables (POSTGRESQL_PASSWORD), ready; a wrong POSTGRESQL_PASSWORD until the deadline", async () => {
      await bothFormats(async (format) => {
        const [ready, wrong] = await Promise.all([
          runCli([...logArgs(level, format), '--preset', 'core'], coreEnv()),
          runCli([...logArgs(level, format), '--preset', 'core', '--deadline', '2s'], coreEnv({ POSTGRESQL_PASSWORD: PG_WRONG })),
        ]);
        expect(ready.code, `${level}/${format} ready: ${ready.stdout}`).toBe(ExitCode.Ready);
        expectClean(`${level}/${format} core preset ready`, ready);
        expect(wrong.code, `${level}/${format} wrong: ${wrong.stdout}`).toBe(ExitCode.Deadline);
        if (format === 'json') expect(pendingCodes(wrong)).toEqual(['INVALID_PASSWORD']);
        expectClean(`${level}/${format} core preset, wrong POSTGRESQL_PASSWORD`, wrong);
      });
    });

    it('the sidecar: logs, /readyz and /metrics while one target is refused, others ready', async () => {
      await bothFormats(async (format) => {
        const port = await freePort();
        const base = `http://127.0.0.1:${port}`;
        const sidecar = startCli(
          [...logArgs(level, format), '--serve', `127.0.0.1:${port}`, '--serve-interval', '200ms', '--harbor-core', core.url, url.redis(), url.acl(), url.sentinel(), url.wrongPassword(), url.basic(), url.pg(), url.pgWrong()],
          { JOBSERVICE_SECRET: HARBOR_SECRET, CORE_SECRET },
        );
        try {
          // Every target checked at least once, the wrong passwords seen as such, the database ready.
          const readyz = await until('every target checked', async () => {
            const reply = await get(base, '/readyz');
            const body = JSON.parse(reply.body) as { targets: Array<{ state: string; code: string | null; attempts: number }> };
            const done =
              body.targets.every((t) => t.attempts > 0 && t.state !== 'pending') &&
              body.targets.some((t) => t.code === 'WRONGPASS') &&
              body.targets.some((t) => t.code === 'INVALID_PASSWORD') &&
              body.targets.filter((t) => t.state === 'ready').length === body.targets.length - 2;
            return done ? reply : undefined;
          });
          expect(readyz.status).toBe(503);
          const metrics = await get(base, '/metrics');
          expect(metrics.status).toBe(200);
          expect(metrics.body).toContain('harbor_wait_failures_total');
          const livez = await get(base, '/livez');
          sidecar.child.kill('SIGTERM');
          const r = await sidecar.result;
          expect(r.code).toBe(ExitCode.Sigterm);
          expectClean(`${level}/${format} sidecar`, r, {
            [`${level}/${format} /readyz`]: readyz.body,
            [`${level}/${format} /metrics`]: metrics.body,
            [`${level}/${format} /livez`]: livez.body,
          });
        } finally {
          if (sidecar.child.exitCode === null && sidecar.child.signalCode === null) sidecar.child.kill('SIGKILL');
        }
      });
    });
  });
});
