/**
 * postgres:// targets and the core preset's database, through the built entry file, against real PostgreSQL
 * servers (Debian's postgresql): each state core meets at start-up, named by its SQLSTATE (harbor-facts §4).
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { makeCerts, type Certs } from './helpers/certs.ts';
import { runCli, startCli, type CliResult, type LogLine } from './helpers/cli.ts';
import { socketsTo } from './helpers/faulty.ts';
import { freePort } from './helpers/processes.ts';
import { startPostgres, type PgServer } from './helpers/postgres.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';
import { chartDatabaseEnv } from './helpers/chart-env.ts';

const PASSWORD = markedSecret('pg');
const MD5_PASSWORD = markedSecret('md');
const WRONG = markedSecret('wpg');
const SECRETS = [PASSWORD, MD5_PASSWORD, WRONG];
const enc = encodeURIComponent;
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** md5user logs in by md5, harbor by SCRAM; stranger has no pg_hba.conf line at all. */
const HBA = [
  'local all all trust',
  'local replication all trust',
  'host all md5user 127.0.0.1/32 md5',
  'host all harbor,postgres 127.0.0.1/32 scram-sha-256',
  'host replication all 127.0.0.1/32 scram-sha-256',
  '',
].join('\n');

/** A TLS server that takes harbor over SSL only. */
const HBA_SSL_ONLY = ['local all all trust', 'hostssl all harbor 127.0.0.1/32 scram-sha-256', ''].join('\n');

const ROLES = `
CREATE ROLE harbor LOGIN PASSWORD ${literal(PASSWORD)};
SET password_encryption = 'md5';
CREATE ROLE md5user LOGIN PASSWORD ${literal(MD5_PASSWORD)};
RESET password_encryption;
CREATE ROLE stranger LOGIN PASSWORD ${literal(PASSWORD)};
CREATE DATABASE registry OWNER harbor;
CREATE DATABASE migrated OWNER harbor;
CREATE DATABASE md5db OWNER md5user;
`;

let primary: PgServer;
let certs: Certs;

const url = (server: { port: number }, o: { user?: string; password?: string; db?: string; query?: string } = {}) =>
  `postgres://${o.user ?? 'harbor'}:${enc(o.password ?? PASSWORD)}@127.0.0.1:${server.port}/${o.db ?? 'registry'}${o.query ? `?${o.query}` : ''}`;

/** Runs one --once attempt and returns the result and its only not_ready line (if any). */
async function once(target: string, more: readonly string[] = []): Promise<{ r: CliResult; notReady: LogLine | undefined }> {
  const r = await runCli(['--once', '--attempt-timeout', '20s', ...more, target]);
  expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, SECRETS);
  expect(r.stderr).toBe('');
  return { r, notReady: r.events('not_ready')[0] };
}

async function expectNotReady(target: string, stage: string, code: string, reason: RegExp, more: readonly string[] = []): Promise<LogLine> {
  const { r, notReady } = await once(target, more);
  expect(r.code, r.stdout).toBe(ExitCode.Failure);
  expect(notReady, r.stdout).toMatchObject({ stage, code });
  expect(String(notReady?.reason)).toMatch(reason);
  return notReady as LogLine;
}

async function expectReady(target: string, more: readonly string[] = []): Promise<LogLine> {
  const { r } = await once(target, more);
  expect(r.code, r.stdout).toBe(ExitCode.Ready);
  return r.events('ready')[0] as LogLine;
}

beforeAll(async () => {
  [primary, certs] = await Promise.all([startPostgres({ hba: HBA }), makeCerts()]);
  await primary.sql(ROLES);
});

describe('ready', () => {
  it('logs in by SCRAM, answers SELECT 1, and reports the version and that it is a primary', async () => {
    const ready = await expectReady(url(primary, { query: 'sslmode=disable' }));
    expect(ready).toMatchObject({ address: `127.0.0.1:${primary.port}`, primary: true });
    expect(String(ready.server_version)).toMatch(/^\d+(\.\d+)?/);
    expect(ready.msg).toMatch(/PostgreSQL \d+.*, primary/);
    // The label shows no password.
    expect(ready.target).toBe(`postgres://harbor:***@127.0.0.1:${primary.port}/registry?sslmode=disable`);
  });

  it('logs in by md5', async () => {
    // Its own database: on another's, PostgreSQL 15 gives it no CREATE on public, and core could not migrate (test/postgres-hardening.test.ts).
    await expectReady(url(primary, { user: 'md5user', password: MD5_PASSWORD, db: 'md5db', query: 'sslmode=disable' }));
  });

  it('the postgresql:// scheme too; the database defaults to the user name, as in libpq', async () => {
    await primary.sql('CREATE DATABASE harbor OWNER harbor');
    await expectReady(`postgresql://harbor:${enc(PASSWORD)}@127.0.0.1:${primary.port}`);
  });
});

describe('not ready, by SQLSTATE', () => {
  it('a wrong password: auth, INVALID_PASSWORD (28P01)', async () => {
    const line = await expectNotReady(url(primary, { password: WRONG, query: 'sslmode=disable' }), 'auth', 'INVALID_PASSWORD', /rejected the password of user "harbor"/);
    expect(line.sqlstate).toBe('28P01');
  });

  it('no pg_hba.conf entry: auth, INVALID_AUTHORIZATION_SPECIFICATION (28000), saying pg_hba.conf and that SSL was off', async () => {
    const line = await expectNotReady(url(primary, { user: 'stranger', query: 'sslmode=disable' }), 'auth', 'INVALID_AUTHORIZATION_SPECIFICATION', /pg_hba\.conf.*/);
    expect(line.sqlstate).toBe('28000');
    expect(String(line.reason)).toMatch(/without SSL/);
  });

  it('a missing database: response, INVALID_CATALOG_NAME (3D000), naming it and saying Harbor never creates it', async () => {
    const line = await expectNotReady(url(primary, { db: 'nosuchdb' }), 'response', 'INVALID_CATALOG_NAME', /database "nosuchdb" does not exist.*Harbor never creates it/);
    expect(line.sqlstate).toBe('3D000');
  });

  it('no password given, the server asks for one: auth, PASSWORD_REQUIRED', async () => {
    await expectNotReady(`postgres://harbor@127.0.0.1:${primary.port}/registry`, 'auth', 'PASSWORD_REQUIRED', /asks user "harbor" for a password/);
  });

  it('another SQLSTATE is named by its condition, with the SQLSTATE in its own field (42501: no CONNECT privilege)', async () => {
    await primary.sql('CREATE DATABASE locked OWNER postgres; REVOKE CONNECT ON DATABASE locked FROM PUBLIC;');
    const line = await expectNotReady(url(primary, { db: 'locked', query: 'sslmode=disable' }), 'response', 'INSUFFICIENT_PRIVILEGE', /SQLSTATE 42501/);
    expect(line.sqlstate).toBe('42501');
  });
});

describe('a server that is not there yet, or not ready', () => {
  it('not started yet: refused, then ready soon after it starts on that port', async () => {
    const port = await freePort();
    const waiter = startCli(['--deadline', '60s', url({ port }, { query: 'sslmode=disable' })]);
    await waiter.waitForEvent('not_ready', (l) => l.code === 'ECONNREFUSED');
    const late = await startPostgres({ port, hba: HBA });
    await late.sql(ROLES);
    const r = await waiter.result;
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    expect(r.events('ready')).toHaveLength(1);
    await late.stop();
  });

  it('a standby with hot_standby = off: CANNOT_CONNECT_NOW (57P03) for as long as it runs', async () => {
    const standby = await startPostgres({ standbyOf: primary, settings: { hot_standby: 'off' }, noWait: true });
    const r = await runCli(['--deadline', '3s', url(standby, { query: 'sslmode=disable' })]);
    expect(r.code, r.stdout).toBe(ExitCode.Deadline);
    const codes = new Set(r.lines.filter((l) => l.event === 'not_ready').map((l) => `${l.stage}/${l.code}/${l.sqlstate}`));
    expect([...codes]).toEqual(['response/CANNOT_CONNECT_NOW/57P03']);
    expect(String(r.events('not_ready')[0]?.reason)).toMatch(/hot_standby = off/);
    await standby.stop();
  });

  it('a hot standby made with pg_basebackup: READ_ONLY; ready with target_session_attrs=any, as a standby', async () => {
    const standby = await startPostgres({ standbyOf: primary });
    await expectNotReady(url(standby, { query: 'sslmode=disable' }), 'response', 'READ_ONLY', /read-only \(it is a standby, in recovery\).*target_session_attrs=any/);
    const ready = await expectReady(url(standby, { query: 'sslmode=disable&target_session_attrs=any' }));
    expect(ready).toMatchObject({ primary: false });
    expect(ready.msg).toMatch(/standby/);
    await expectReady(url(standby, { query: 'target_session_attrs=standby' }));
    await expectNotReady(url(standby, { query: 'target_session_attrs=primary' }), 'response', 'NOT_PRIMARY', /standby/);
    await expectNotReady(url(primary, { query: 'target_session_attrs=standby' }), 'response', 'NOT_STANDBY', /primary/);
    await expectReady(url(standby, { query: 'target_session_attrs=read-only' }));
    await standby.stop();
  });

  it('max_connections reached by held connections: TOO_MANY_CONNECTIONS (53300); ready once one is free', async () => {
    const small = await startPostgres({ hba: HBA, settings: { max_connections: '3', superuser_reserved_connections: '0' } });
    await small.sql(ROLES);
    const { default: Client } = await import('pg/lib/client.js');
    const held = await Promise.all(
      [1, 2, 3].map(async () => {
        const c = new Client({ host: '127.0.0.1', port: small.port, user: 'harbor', database: 'registry', password: async () => PASSWORD } as never);
        await c.connect();
        return c;
      }),
    );
    // Named as the limit it is (issue 17, item 10): not a CONNECTION LIMIT, not the reserved slots.
    const line = await expectNotReady(
      url(small, { query: 'sslmode=disable' }),
      'response',
      'TOO_MANY_CONNECTIONS',
      /no connection slot left for user "harbor": max_connections is reached \("sorry, too many clients already"\); raise max_connections \(a restart\), or lower the pools/,
    );
    expect(line.sqlstate).toBe('53300');
    await held[0]?.end();
    await expectReady(url(small, { query: 'sslmode=disable' }));
    await Promise.all(held.slice(1).map((c) => c.end()));
    await small.stop();
  });

  it('schema_migrations with dirty = true: DIRTY_SCHEMA naming the version and both causes; ready once it is clean', async () => {
    await primary.sql(
      'CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (142, true); ALTER TABLE schema_migrations OWNER TO harbor;',
      'migrated',
    );
    const line = await expectNotReady(url(primary, { db: 'migrated' }), 'response', 'DIRTY_SCHEMA', /version 142 is dirty/);
    expect(String(line.reason)).toMatch(/another core is migrating right now/);
    expect(String(line.reason)).toMatch(/Dirty database version 142\. Fix and force version\./);
    await primary.sql('UPDATE schema_migrations SET dirty = false', 'migrated');
    await expectReady(url(primary, { db: 'migrated' }));
  });
});

describe('TLS, as pgx applies sslmode', () => {
  let tlsServer: PgServer;
  let wrongName: PgServer;
  beforeAll(async () => {
    [tlsServer, wrongName] = await Promise.all([
      startPostgres({ hba: HBA_SSL_ONLY, tls: { certFile: certs.serverCert, keyFile: certs.serverKey } }),
      startPostgres({ hba: HBA_SSL_ONLY, tls: { certFile: certs.wrongNameCert, keyFile: certs.wrongNameKey } }),
    ]);
    await Promise.all([tlsServer.sql(ROLES), wrongName.sql(ROLES)]);
  });

  it('verify-full with sslrootcert: ready; with --ca-file: ready', async () => {
    await expectReady(url(tlsServer, { query: `sslmode=verify-full&sslrootcert=${enc(certs.caCert)}` }));
    await expectReady(url(tlsServer, { query: 'sslmode=verify-full' }), ['--ca-file', certs.caCert]);
  });

  it('verify-full with a certificate for another name: tls, HOSTNAME_MISMATCH; verify-ca passes it', async () => {
    await expectNotReady(url(wrongName, { query: `sslmode=verify-full&sslrootcert=${enc(certs.caCert)}` }), 'tls', 'HOSTNAME_MISMATCH', /does not name that host/);
    await expectReady(url(wrongName, { query: `sslmode=verify-ca&sslrootcert=${enc(certs.caCert)}` }));
  });

  it('verify-ca without a trusted CA: tls, a certificate code', async () => {
    await expectNotReady(url(tlsServer, { query: 'sslmode=verify-ca' }), 'tls', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', /not signed by a trusted CA/);
  });

  it('require with an untrusted certificate passes, as in pgx; require with sslrootcert verifies the chain', async () => {
    await expectReady(url(wrongName, { query: 'sslmode=require' }));
    await expectNotReady(url(tlsServer, { query: `sslmode=require&sslrootcert=${enc(certs.serverCert)}` }), 'tls', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', /trusted CA/);
  });

  it('prefer: TLS when the server has it; allow: plain first, then TLS when pg_hba.conf asks for SSL', async () => {
    await expectReady(url(tlsServer, { query: 'sslmode=prefer' }));
    await expectReady(url(tlsServer, { query: 'sslmode=allow' }));
    // disable: no TLS at all, so no pg_hba.conf line matches.
    const line = await expectNotReady(url(tlsServer, { query: 'sslmode=disable' }), 'auth', 'INVALID_AUTHORIZATION_SPECIFICATION', /without SSL/);
    expect(line.sqlstate).toBe('28000');
  });

  it('require against a server without SSL: tls, SSL_REFUSED; prefer falls back to plain', async () => {
    await expectNotReady(url(primary, { query: 'sslmode=require' }), 'tls', 'SSL_REFUSED', /refused SSL.*sslmode=require/);
    await expectReady(url(primary, { query: 'sslmode=prefer' }));
  });

  it('a wrong password over SSL says so, and does not fall back (prefer)', async () => {
    await expectNotReady(url(tlsServer, { password: WRONG, query: 'sslmode=prefer' }), 'auth', 'INVALID_PASSWORD', /rejected the password/);
  });
});

describe('what is not PostgreSQL', () => {
  let other: Server;
  beforeAll(async () => {
    other = createServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => other.close(() => resolve())));

  it('a server that never answers, with connect_timeout=1: AUTH_TIMEOUT within connect_timeout, not the attempt timeout', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const line = await expectNotReady(url({ port }, { query: 'sslmode=disable&connect_timeout=1' }), 'timeout', 'AUTH_TIMEOUT', /within the 1s connect_timeout/);
    expect(line.elapsed_ms).toBeLessThan(15_000);
    silent.close();
  });

  it('an HTTP server on the port: NOT_POSTGRES, quoting what it sent', async () => {
    const port = (other.address() as { port: number }).port;
    await expectNotReady(url({ port }, { query: 'sslmode=disable' }), 'auth', 'NOT_POSTGRES', /not PostgreSQL, beginning "HTTP\/1\.1 400/);
  });
});

describe('the core preset', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });

  /** Core's environment as the chart gives it: ConfigMap <fullname>-core and the password from Secret <fullname>-core. */
  const chartEnv = (o: Record<string, string> = {}) => ({
    _REDIS_URL_CORE: `redis://127.0.0.1:${redis.port}?idle_timeout_seconds=30`,
    _REDIS_URL_REG: `redis://127.0.0.1:${redis.port}/2?idle_timeout_seconds=30`,
    ...chartDatabaseEnv(PASSWORD, { host: '127.0.0.1', port: primary.port, user: 'harbor' }),
    ...o,
  });

  it("waits for Redis and the database with the chart's variables", async () => {
    const r = await runCli(['--preset', 'core', '--once'], chartEnv());
    expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, SECRETS);
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    const start = r.events('start')[0] as LogLine & { targets: Array<{ target: string; from: string; defaults?: object }> };
    const db = start.targets.find((t) => t.target.startsWith('postgres://'));
    expect(db).toEqual({ target: `postgres://harbor:***@127.0.0.1:${primary.port}/registry?sslmode=disable`, from: 'POSTGRESQL_*' });
    expect(r.events('ready').map((l) => l.target)).toContain(db?.target);
  });

  it("says which values were core's defaults", async () => {
    const env = chartEnv();
    delete (env as Record<string, string>).POSTGRESQL_SSLMODE;
    delete (env as Record<string, string>).POSTGRESQL_DATABASE;
    await primary.sql('CREATE DATABASE registry_default OWNER harbor').catch(() => {});
    const r = await runCli(['--preset', 'core', '--once'], env);
    const start = r.events('start')[0] as LogLine & { targets: Array<{ target: string; defaults?: Record<string, string> }> };
    const db = start.targets.find((t) => t.target.startsWith('postgres://'));
    expect(db?.defaults).toEqual({ POSTGRESQL_DATABASE: 'registry', POSTGRESQL_SSLMODE: 'disable' });
    expect(start.msg).toMatch(/core's defaults: POSTGRESQL_DATABASE=registry, POSTGRESQL_SSLMODE=disable/);
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
  });

  it('a wrong POSTGRESQL_PASSWORD: INVALID_PASSWORD, never the password', async () => {
    const r = await runCli(['--preset', 'core', '--once'], chartEnv({ POSTGRESQL_PASSWORD: WRONG }));
    expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, SECRETS);
    expect(r.code).toBe(ExitCode.Failure);
    expect(r.events('not_ready').map((l) => l.code)).toEqual(['INVALID_PASSWORD']);
  });

  it("a hot standby: READ_ONLY; PGTARGETSESSIONATTRS=any, which core's driver reads too, accepts it", async () => {
    const standby = await startPostgres({ standbyOf: primary });
    const env = chartEnv({ POSTGRESQL_PORT: String(standby.port) });
    const readOnly = await runCli(['--preset', 'core', '--once'], env);
    expect(readOnly.code, readOnly.stdout).toBe(ExitCode.Failure);
    expect(readOnly.events('not_ready').map((l) => l.code)).toEqual(['READ_ONLY']);
    const any = await runCli(['--preset', 'core', '--once'], { ...env, PGTARGETSESSIONATTRS: 'any', PGCONNECT_TIMEOUT: '10' });
    expect(any.code, any.stdout).toBe(ExitCode.Ready);
    await standby.stop();
  });

  it('no POSTGRESQL_PASSWORD: exit 2 naming Secret <fullname>-core and its key', async () => {
    const env = chartEnv();
    delete (env as Record<string, string>).POSTGRESQL_PASSWORD;
    const r = await runCli(['--preset', 'core', '--once'], env);
    expect(r.code).toBe(ExitCode.ConfigError);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatchObject({ event: 'config_error', input: 'POSTGRESQL_PASSWORD' });
    expect(r.lines[0]?.msg).toMatch(/Secret <fullname>-core, key POSTGRESQL_PASSWORD/);
    expect(r.lines[0]?.msg).toMatch(/built-in default password/);
  });

  it('without POSTGRESQL_HOST: Redis only, and a warning', async () => {
    const env = chartEnv();
    delete (env as Record<string, string>).POSTGRESQL_HOST;
    const r = await runCli(['--preset', 'core', '--once'], env);
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    expect(r.events('start')[0]?.targets).toHaveLength(2);
    expect(r.events('warning').map((l) => l.msg)).toContainEqual(expect.stringMatching(/PostgreSQL is not configured \(POSTGRESQL_HOST is unset\)/));
  });
});

describe('SIGTERM mid-login', () => {
  it('exits 143 at once and leaves no connection open at the server (pg_stat_activity)', async () => {
    // auth_delay holds a failed login for 3 s before the server answers: harbor-wait is stopped in that wait.
    const slow = await startPostgres({
      hba: HBA,
      settings: { shared_preload_libraries: 'auth_delay', 'auth_delay.milliseconds': '3000', log_connections: 'on' },
    });
    await slow.sql(ROLES);
    const others = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()";
    const received = () => (slow.output().match(/connection received: host=127\.0\.0\.1/g) ?? []).length;
    const before = received();
    const waiter = startCli(['--deadline', '60s', url(slow, { password: WRONG, query: 'sslmode=disable' })]);
    // The login is under way once the server has logged the connection and it is established on our side.
    for (let i = 0; i < 400 && (received() === before || socketsTo(slow.port).length === 0); i++) await new Promise((r) => setTimeout(r, 25));
    expect(received()).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 300)); // the password is sent; the server is in its delay
    expect(slow.output()).not.toMatch(/password authentication failed/);
    const sent = performance.now();
    waiter.child.kill('SIGTERM');
    const r = await waiter.result;
    expect(r.code, r.stdout).toBe(ExitCode.Sigterm);
    expect(performance.now() - sent).toBeLessThan(2000);
    expect(r.events('cancelled')).toHaveLength(1);
    expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, SECRETS);
    // The server ends the backend once its delay is over and it finds the client gone.
    let left = '1';
    for (let i = 0; i < 300 && left !== '0'; i++) {
      left = await slow.sql(others);
      if (left !== '0') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(left).toBe('0');
    expect(socketsTo(slow.port).filter((s) => s.state === 'ESTABLISHED')).toEqual([]);
    await slow.stop();
  });
});
