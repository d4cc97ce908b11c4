/**
 * Secret hygiene, end to end: the built bundle against real servers holding marked secrets — a Redis password
 * (requirepass, also over TLS and behind a sentinel), an ACL user's password, the Harbor secret core checks,
 * and the database password in core's 200 body — at every log level and in both log formats. No fragment of
 * any secret may appear on stdout, on stderr, or in the bodies of /readyz and /metrics, whatever happens:
 * ready, wrong or missing password, core answering 401, 500 or 200, the deadline, SIGTERM, configuration
 * errors that hold the secret, the jobservice preset, and the sidecar.
 */
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../src/config.ts';
import { ExitCode } from '../src/exit-codes.ts';
import { makeCerts, type Certs } from './helpers/certs.ts';
import { runCli, startCli, type CliResult, type LogLine } from './helpers/cli.ts';
import { startFakeCore, startHttp, type FakeCore } from './helpers/core.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { startRedis, startSentinel, type RedisServer, type Sentinel } from './helpers/redis.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

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
const SECRETS = [REDIS_PASSWORD, ACL_PASSWORD, WRONG_PASSWORD, HTTP_PASSWORD, QUERY_TOKEN, HARBOR_SECRET, WRONG_SECRET, DB_PASSWORD, CORE_SECRET];
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
};

beforeAll(async () => {
  certs = await makeCerts();
  [redis, tlsRedis, acl, core, coreDown, basic] = await Promise.all([
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
  ]);
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
    it('ready: core 200 (its body holds the database password), Redis with a password, TLS, an ACL user, a sentinel, HTTP Basic', async () => {
      await bothFormats(async (format) => {
        const r = await runCli(
          [...logArgs(level, format), '--ca-file', certs.caCert, '--harbor-core', core.url, url.redis(), url.rediss(), url.acl(), url.sentinel(), url.basic()],
          { JOBSERVICE_SECRET: HARBOR_SECRET, CORE_SECRET },
        );
        expect(r.code, `${level}/${format}: ${r.stdout}`).toBe(ExitCode.Ready);
        expectClean(`${level}/${format} ready`, r);
      });
    });

    it('deadline with WRONGPASS, NOAUTH, a wrong ACL password, a wrong password through the sentinel, and core 401', async () => {
      await bothFormats(async (format) => {
        const r = await runCli(
          [...logArgs(level, format), '--deadline', '2500ms', '--harbor-core', core.url, '--harbor-secret-file', wrongSecretFile, url.wrongPassword(), url.noPassword(), url.wrongAcl(), url.sentinel(WRONG_PASSWORD)],
          // The right secret is in the env too: the file wins, and the unused secret must not show either.
          { JOBSERVICE_SECRET: HARBOR_SECRET, CORE_SECRET },
        );
        expect(r.code, `${level}/${format}: ${r.stdout}`).toBe(ExitCode.Deadline);
        if (format === 'json') expect(pendingCodes(r).sort()).toEqual(['HTTP_401', 'NOAUTH', 'WRONGPASS', 'WRONGPASS', 'WRONGPASS']);
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

    it('SIGTERM while core rejects the secret and Redis the password', async () => {
      await bothFormats(async (format) => {
        // A core of its own, so that its requests say when the waiter is under way, whatever the level.
        const own = await startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD });
        try {
          const waiter = startCli([...logArgs(level, format), '--harbor-core', own.url, url.wrongPassword(), url.acl()], { JOBSERVICE_SECRET: WRONG_SECRET });
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
      const cases: Array<[string, string[], Record<string, string>]> = [
        ['a rejected query parameter', [`redis://:${enc(REDIS_PASSWORD)}@127.0.0.1:${redis.port}/0?password=${enc(REDIS_PASSWORD)}`], {}],
        ['a password cut at white space', [], { WAIT_TARGETS: `redis://:${REDIS_PASSWORD.slice(0, 12)} ${REDIS_PASSWORD.slice(12)}@127.0.0.1:${redis.port}` }],
        ['a mistyped scheme', [`redis:/:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`], {}],
        ['a bad port with a password', [`rediss+sentinel://:${enc(REDIS_PASSWORD)}@127.0.0.1:99999/mymaster`], {}],
        ['the secret on the command line', ['--harbor-secret', HARBOR_SECRET, '--harbor-core', core.url], {}],
        ["core's old path", ['--harbor-core', `${core.url}/api/internal/configurations`], { JOBSERVICE_SECRET: HARBOR_SECRET }],
        ['CORE_SECRET only, for the jobservice preset', ['--preset', 'jobservice', '--jobservice-config', configFile], { CORE_URL: core.url, CORE_SECRET }],
        ['the secret as the whole header value', ['--harbor-core', core.url], { JOBSERVICE_SECRET: `Harbor-Secret ${HARBOR_SECRET}` }],
      ];
      await bothFormats(async (format) => {
        const runs = await Promise.all(cases.map(([, args, env]) => runCli([...logArgs(level, format), ...args], env)));
        for (const [i, r] of runs.entries()) {
          const name = `${level}/${format} ${cases[i]?.[0]}`;
          expect(r.code, `${name}: ${r.stdout}`).toBe(ExitCode.ConfigError);
          // A configuration error is an error line: it shows at every level.
          expect(r.stdout.split('\n').filter(Boolean), name).toHaveLength(1);
          if (format === 'json') expect(r.lines[0]?.event, name).toBe('config_error');
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

    it('the sidecar: logs, /readyz and /metrics while one target is refused, others ready', async () => {
      await bothFormats(async (format) => {
        const port = await freePort();
        const base = `http://127.0.0.1:${port}`;
        const sidecar = startCli(
          [...logArgs(level, format), '--serve', `127.0.0.1:${port}`, '--serve-interval', '200ms', '--harbor-core', core.url, url.redis(), url.acl(), url.sentinel(), url.wrongPassword(), url.basic()],
          { JOBSERVICE_SECRET: HARBOR_SECRET, CORE_SECRET },
        );
        try {
          // Every target checked at least once, the wrong password seen as such.
          const readyz = await until('every target checked', async () => {
            const reply = await get(base, '/readyz');
            const body = JSON.parse(reply.body) as { targets: Array<{ state: string; code: string | null; attempts: number }> };
            const done = body.targets.every((t) => t.attempts > 0 && t.state !== 'pending') && body.targets.some((t) => t.code === 'WRONGPASS');
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
