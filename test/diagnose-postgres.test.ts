/**
 * `harbor-wait diagnose` on PostgreSQL targets, through the built entry as users run it, against real
 * PostgreSQL servers (Debian's postgresql): the login as core makes it (SQLSTATE on failure), TLS per sslmode,
 * primary or standby, the database, golang-migrate's schema_migrations, the connection slots, and core's
 * unquoted connection string from the core preset. Each case asserts the status and value of the named check
 * in the JSON report, and the exit code; every run is checked for the marked secrets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type Certs } from './helpers/certs.ts';
import { runCli, type CliResult } from './helpers/cli.ts';
import { LEVELS, parseReport, type DiagnoseCheck, type DiagnoseReport } from './helpers/diagnose.ts';
import { holdConnections, startPostgres, type PgServer } from './helpers/postgres.ts';
import { freePort } from './helpers/processes.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';
import { chartDatabaseEnv } from './helpers/chart-env.ts';

const PASSWORD = markedSecret('pg');
const WRONG = markedSecret('wpg');
/** A password with white space inside: fine for a client that quotes it, broken in core's unquoted string. */
const SPACED = `${markedSecret('sp')} ${markedSecret('spq')}`;
const SECRETS = [PASSWORD, WRONG, SPACED];
const enc = encodeURIComponent;
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

const HBA = ['local all all trust', 'local replication all trust', 'host all all 127.0.0.1/32 scram-sha-256', 'host replication all 127.0.0.1/32 scram-sha-256', ''].join('\n');

const ROLES = `
CREATE ROLE harbor LOGIN PASSWORD ${literal(PASSWORD)};
CREATE ROLE spaced LOGIN PASSWORD ${literal(SPACED)};
CREATE ROLE boss SUPERUSER LOGIN PASSWORD ${literal(PASSWORD)};
CREATE DATABASE registry OWNER harbor;
CREATE DATABASE migrated OWNER harbor;
CREATE DATABASE dirty OWNER harbor;
CREATE DATABASE spaced OWNER spaced;
CREATE DATABASE foreign_owned OWNER harbor;
`;
/** golang-migrate's table as core leaves it. */
const MIGRATIONS = (version: number, dirty: boolean) =>
  `CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); ALTER TABLE schema_migrations OWNER TO harbor; INSERT INTO schema_migrations VALUES (${version}, ${dirty});`;

type Check = DiagnoseCheck;
type Report = DiagnoseReport;

let primary: PgServer;
let standby: PgServer;
/** max_connections 13, 3 of them reserved for superusers: 10 slots for ordinary roles. */
let small: PgServer;
let tlsServer: PgServer;
let redis: RedisServer;
let certs: Certs;

const url = (server: { port: number }, o: { user?: string; password?: string; db?: string; query?: string } = {}) =>
  `postgres://${o.user ?? 'harbor'}:${enc(o.password ?? PASSWORD)}@127.0.0.1:${server.port}/${o.db ?? 'registry'}${o.query ? `?${o.query}` : ''}`;

/** Runs `harbor-wait diagnose --log-format json ...` and returns the exit code and the report, checked for secrets. */
async function diagnose(args: readonly string[], env: Record<string, string> = {}, level = 'info'): Promise<{ r: CliResult; report: Report }> {
  const r = await runCli(['diagnose', '--log-format', 'json', '--log-level', level, ...args], env);
  expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, SECRETS);
  expect(r.stderr).toBe('');
  return { r, report: parseReport(r.stdout) };
}

/** The checks of the first postgres:// target. */
function checks(report: Report): Check[] {
  const group = report.targets.find((t) => t.target.startsWith('postgres://'));
  if (!group) throw new Error(`no postgres:// target in ${report.targets.map((t) => t.target).join(', ')}`);
  return group.checks;
}

function check(report: Report, name: string): Check {
  const found = checks(report).find((c) => c.name === name);
  if (!found) throw new Error(`no check "${name}": ${checks(report).map((c) => c.name).join(', ')}`);
  return found;
}

beforeAll(async () => {
  certs = await makeCerts();
  [primary, small, tlsServer, redis] = await Promise.all([
    startPostgres({ hba: HBA }),
    startPostgres({ hba: HBA, settings: { max_connections: '13', superuser_reserved_connections: '3' } }),
    startPostgres({ hba: HBA, tls: { certFile: certs.serverCert, keyFile: certs.serverKey } }),
    startRedis(),
  ]);
  await Promise.all([primary.sql(ROLES), small.sql(ROLES), tlsServer.sql(ROLES)]);
  await primary.sql(MIGRATIONS(140, false), 'migrated');
  await primary.sql(MIGRATIONS(42, true), 'dirty');
  // A table core's user may not read (made by another user, never granted).
  await primary.sql(MIGRATIONS(140, false).replace('ALTER TABLE schema_migrations OWNER TO harbor;', ''), 'foreign_owned');
  standby = await startPostgres({ standbyOf: primary });
});

afterAll(async () => {
  await Promise.all([standby?.stop(), primary?.stop(), small?.stop(), tlsServer?.stop(), redis?.stop()]);
});

describe('a ready server', () => {
  it('every layer ok, exit 0, at every log level, the password never shown', async () => {
    for (const level of LEVELS) {
      const { r, report } = await diagnose([url(primary, { query: 'sslmode=disable' })], {}, level);
      expect(r.code, r.stdout).toBe(0);
      expect(report.ok).toBe(true);
      expect(check(report, 'url')).toMatchObject({
        layer: 'url',
        status: 'ok',
        value: `host 127.0.0.1, port ${primary.port}, database "registry", user "harbor", password given, sslmode=disable, target_session_attrs=read-write`,
      });
      expect(check(report, 'lookup')).toMatchObject({ layer: 'dns', status: 'skip' });
      expect(check(report, `connect 127.0.0.1:${primary.port}`)).toMatchObject({ layer: 'tcp', status: 'ok' });
      expect(check(report, 'handshake')).toMatchObject({ layer: 'tls', status: 'skip', value: 'plain text', hint: expect.stringContaining('sslmode=disable') });
      expect(check(report, 'login')).toMatchObject({ layer: 'auth', status: 'ok', value: expect.stringMatching(/^as user "harbor" to database "registry", TLS off, in \d/) });
      expect(check(report, 'version')).toMatchObject({ layer: 'server', status: 'ok', value: expect.stringMatching(/^PostgreSQL \d+(\.\d+)? /) });
      expect(check(report, 'recovery')).toMatchObject({ layer: 'server', status: 'ok', value: 'primary, read-write' });
      expect(check(report, 'database')).toMatchObject({ layer: 'server', status: 'ok', value: '"registry" exists (the login reached it)' });
      expect(check(report, 'migrations')).toMatchObject({ layer: 'server', status: 'ok', value: 'not migrated yet (core migrates at its first start)' });
      expect(check(report, 'connections')).toMatchObject({ layer: 'limits', status: 'ok', value: expect.stringMatching(/^\d+ of 97 client connections in use \(\d+%; max_connections 100 less 3 reserved for superusers; this one included\)$/) });
      // The report's layers in order.
      const layers = checks(report).map((c) => c.layer);
      expect(layers).toEqual([...layers].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)));
    }
  });

  it('a migrated database: its version, clean', async () => {
    const { r, report } = await diagnose([url(primary, { db: 'migrated', query: 'sslmode=disable' })]);
    expect(r.code).toBe(0);
    expect(check(report, 'migrations')).toMatchObject({ status: 'ok', value: 'version 140, clean' });
  });
});

const ORDER = ['url', 'dns', 'tcp', 'tls', 'auth', 'server', 'limits', 'settings'];

describe('the login, by SQLSTATE', () => {
  it('a wrong password: login fails with 28P01 and a hint; what needs the login is skipped; exit 1, at every log level', async () => {
    for (const level of LEVELS) {
      const { r, report } = await diagnose([url(primary, { password: WRONG, query: 'sslmode=disable' })], {}, level);
      expect(r.code, r.stdout).toBe(1);
      expect(report.ok).toBe(false);
      const login = check(report, 'login');
      expect(login).toMatchObject({ layer: 'auth', status: 'fail', value: 'INVALID_PASSWORD (SQLSTATE 28P01): "password authentication failed for user "harbor""' });
      expect(login.hint).toMatch(/not user "harbor"'s: fix the Secret .*POSTGRESQL_PASSWORD/);
      for (const name of ['version', 'recovery', 'database', 'migrations', 'connections']) {
        expect(check(report, name), name).toMatchObject({ status: 'skip', hint: 'the login failed (INVALID_PASSWORD)' });
      }
    }
  });

  it('a missing database: login fails with 3D000, and database fails saying Harbor never creates it', async () => {
    const { r, report } = await diagnose([url(primary, { db: 'nosuchdb', query: 'sslmode=disable' })]);
    expect(r.code).toBe(1);
    expect(check(report, 'login')).toMatchObject({ status: 'fail', value: 'INVALID_CATALOG_NAME (SQLSTATE 3D000): "database "nosuchdb" does not exist"' });
    const database = check(report, 'database');
    expect(database).toMatchObject({ layer: 'server', status: 'fail', value: '"nosuchdb" does not exist (SQLSTATE 3D000)' });
    expect(database.hint).toMatch(/Harbor never creates its database.*CREATE DATABASE nosuchdb OWNER harbor/);
    expect(check(report, 'migrations')).toMatchObject({ status: 'skip' });
  });

  it('nothing listens: tcp fails, the rest is skipped saying so', async () => {
    const port = await freePort();
    const { r, report } = await diagnose([`postgres://harbor:${enc(PASSWORD)}@127.0.0.1:${port}/registry?sslmode=disable`]);
    expect(r.code).toBe(1);
    expect(check(report, `connect 127.0.0.1:${port}`)).toMatchObject({ status: 'fail', value: expect.stringMatching(/^refused after /) });
    expect(check(report, 'login')).toMatchObject({ status: 'skip', hint: 'no address accepted a TCP connection' });
    expect(check(report, 'connections')).toMatchObject({ status: 'skip', hint: 'no login: no address accepted a TCP connection' });
  });
});

describe('server state', () => {
  it('a standby: recovery fails for core (read-only), exit 1; target_session_attrs=any accepts it with a warning, exit 0', async () => {
    const { r, report } = await diagnose([url(standby, { query: 'sslmode=disable' })]);
    expect(r.code, r.stdout).toBe(1);
    const recovery = check(report, 'recovery');
    expect(recovery).toMatchObject({ layer: 'server', status: 'fail', value: 'standby (in recovery), read-only; target_session_attrs=read-write' });
    expect(recovery.hint).toMatch(/core's writes would fail there \(goharbor\/harbor#15972\).*target_session_attrs=any/);
    expect(check(report, 'login')).toMatchObject({ status: 'ok' });

    const any = await diagnose([url(standby, { query: 'sslmode=disable&target_session_attrs=any' })]);
    expect(any.r.code, any.r.stdout).toBe(0);
    const accepted = check(any.report, 'recovery');
    expect(accepted).toMatchObject({ status: 'warn', value: 'standby (in recovery), read-only; target_session_attrs=any accepts it' });
    expect(accepted.hint).toMatch(/goharbor\/harbor#15972/);
  });

  it('a dirty migration: migrations fails with the version and the migrate force hint; and says when an advisory lock is held', async () => {
    const { r, report } = await diagnose([url(primary, { db: 'dirty', query: 'sslmode=disable' })]);
    expect(r.code, r.stdout).toBe(1);
    const migrations = check(report, 'migrations');
    expect(migrations).toMatchObject({ layer: 'server', status: 'fail', value: 'version 42, dirty; no advisory lock is held now' });
    expect(migrations.hint).toMatch(/a migration was interrupted.*"Dirty database version 42\. Fix and force version\.".*migrate force 42/);

    // golang-migrate holds an advisory lock while it migrates: another core may be at it now.
    const locker = await holdConnections(primary, 1, 'dirty');
    try {
      await locker.query('SELECT pg_advisory_lock(12345)');
      const locked = await diagnose([url(primary, { db: 'dirty', query: 'sslmode=disable' })]);
      expect(locked.r.code).toBe(1);
      const m = check(locked.report, 'migrations');
      expect(m).toMatchObject({ status: 'fail', value: 'version 42, dirty; an advisory lock is held now' });
      expect(m.hint).toMatch(/another core may be migrating right now/);
    } finally {
      await locker.release();
    }
  });

  it('schema_migrations that core\'s user may not read: migrations fails (core could not migrate), not a skip', async () => {
    const { r, report } = await diagnose([url(primary, { db: 'foreign_owned', query: 'sslmode=disable' })]);
    expect(r.code, r.stdout).toBe(1);
    const migrations = check(report, 'migrations');
    expect(migrations).toMatchObject({ status: 'fail', value: 'schema_migrations not readable: SQLSTATE 42501 (INSUFFICIENT_PRIVILEGE) "permission denied for table schema_migrations"' });
    expect(migrations.hint).toMatch(/core migrates as user "harbor"/);
  });

  it('a standby with hot_standby = off: the login fails with 57P03 and its kind', async () => {
    const cold = await startPostgres({ standbyOf: primary, settings: { hot_standby: 'off' }, noWait: true });
    try {
      const { r, report } = await diagnose([url(cold, { query: 'sslmode=disable' })]);
      expect(r.code, r.stdout).toBe(1);
      const login = check(report, 'login');
      expect(login).toMatchObject({ status: 'fail', value: expect.stringMatching(/^CANNOT_CONNECT_NOW \(SQLSTATE 57P03\): it is a standby with hot_standby = off, which never accepts connections/) });
      expect(login.hint).toBe('this standby never accepts connections: point core at the primary');
      expect(check(report, 'recovery')).toMatchObject({ status: 'skip', hint: 'the login failed (CANNOT_CONNECT_NOW)' });
    } finally {
      await cold.stop();
    }
  });
});

describe('connection slots', () => {
  it('near max_connections: warn at 90 % of the slots an ordinary role may use', async () => {
    // 8 held + this one = 9 of the 10 slots left after the 3 reserved for superusers.
    const held = await holdConnections(small, 8);
    try {
      const { r, report } = await diagnose([url(small, { query: 'sslmode=disable' })]);
      expect(r.code, r.stdout).toBe(0);
      const c = check(report, 'connections');
      expect(c).toMatchObject({ layer: 'limits', status: 'warn', value: '9 of 10 client connections in use (90%; max_connections 13 less 3 reserved for superusers; this one included)' });
      expect(c.hint).toMatch(/SQLSTATE 53300.*max_connections/);
    } finally {
      await held.release();
    }
  });

  it('at the limit: the login meets 53300, and connections fails with no slot left', async () => {
    const held = await holdConnections(small, 10);
    try {
      const { r, report } = await diagnose([url(small, { query: 'sslmode=disable' })]);
      expect(r.code, r.stdout).toBe(1);
      expect(check(report, 'login')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^TOO_MANY_CONNECTIONS \(SQLSTATE 53300\): "remaining connection slots are reserved/) });
      const c = check(report, 'connections');
      // Which limit: the slots left are those reserved for superusers (item 10 of issue 17).
      expect(c).toMatchObject({
        layer: 'limits',
        status: 'fail',
        value: expect.stringMatching(/^no slot left: every slot but those reserved for superusers \(superuser_reserved_connections\) is in use \(SQLSTATE 53300: "remaining connection slots are reserved/),
      });
      expect(c.hint).toMatch(/raise max_connections \(a restart\), or lower superuser_reserved_connections/);

      // A superuser may still take the reserved slots: for it, 11 of 13.
      const su = await diagnose([url(small, { user: 'boss', db: 'postgres', query: 'sslmode=disable' })]);
      expect(su.r.code, su.r.stdout).toBe(0);
      expect(check(su.report, 'connections')).toMatchObject({ status: 'ok', value: '11 of 13 client connections in use (84%; user "boss" is a superuser and may take all of max_connections 13; ordinary roles 10; this one included)' });
    } finally {
      await held.release();
    }
  });
});

describe('TLS per sslmode', () => {
  it('verify-full with the right CA: the certificate and its verification shown, the login over TLS', async () => {
    const { r, report } = await diagnose([url(tlsServer, { query: `sslmode=verify-full&sslrootcert=${enc(certs.caCert)}` })]);
    expect(r.code, r.stdout).toBe(0);
    expect(check(report, 'handshake')).toMatchObject({ layer: 'tls', status: 'ok', value: expect.stringMatching(/^TLSv1\.[23], /) });
    // The test CA's certificates are valid for 30 days: more than the 14 days left that warn.
    expect(check(report, 'certificate')).toMatchObject({ status: 'ok', value: expect.stringMatching(/^CN=server; DNS:localhost, IP Address:127\.0\.0\.1; valid /) });
    expect(check(report, 'verification')).toMatchObject({ status: 'ok', value: 'chain verified; host name 127.0.0.1 matches' });
    expect(check(report, 'login')).toMatchObject({ status: 'ok', value: expect.stringMatching(/, TLS on, in /) });
  });

  it('prefer against a server with ssl on: the handshake shown, not verified (as pgx), the login over TLS', async () => {
    const { r, report } = await diagnose([url(tlsServer)]);
    expect(r.code, r.stdout).toBe(0);
    expect(check(report, 'handshake')).toMatchObject({ status: 'ok', value: expect.stringMatching(/^TLSv1\.[23], /) });
    expect(check(report, 'verification')).toMatchObject({ status: 'ok', value: expect.stringMatching(/\(not checked: sslmode=prefer does not verify\)$/) });
    expect(check(report, 'login')).toMatchObject({ status: 'ok', value: expect.stringMatching(/, TLS on, in /) });
  });

  it('require against a server with ssl off: the handshake fails (refused) and blocks the login', async () => {
    const { r, report } = await diagnose([url(primary, { query: 'sslmode=require' })]);
    expect(r.code).toBe(1);
    expect(check(report, 'handshake')).toMatchObject({ status: 'fail', value: 'refused by the server', hint: expect.stringMatching(/refused SSL \(ssl is off on the server\), but sslmode=require requires it/) });
    expect(check(report, 'login')).toMatchObject({ status: 'skip', hint: 'the TLS handshake failed' });
  });

  it('prefer against a server with ssl off: a warning, and the login goes on in plain text as pgx does', async () => {
    const { r, report } = await diagnose([url(primary)]);
    expect(r.code, r.stdout).toBe(0);
    expect(check(report, 'handshake')).toMatchObject({ status: 'warn', value: 'refused by the server (ssl is off): sslmode=prefer logs in in plain text' });
    expect(check(report, 'login')).toMatchObject({ status: 'ok', value: expect.stringContaining('TLS off (sslmode=prefer went on without it)') });
  });
});

describe('--preset core: the database as core reads it', () => {
  const coreEnv = (password: string, user = 'harbor', database = 'registry') => ({
    _REDIS_URL_CORE: `redis://127.0.0.1:${redis.port}/0`,
    ...chartDatabaseEnv(password, { host: '127.0.0.1', port: primary.port, user }),
    POSTGRESQL_DATABASE: database,
  });

  it("core's connection string carries the password as it is: ok, with its length and nothing of it", async () => {
    const { r, report } = await diagnose(['--preset', 'core'], coreEnv(PASSWORD));
    expect(r.code, r.stdout).toBe(0);
    expect(check(report, 'core connection string')).toMatchObject({
      layer: 'url',
      status: 'ok',
      value: `user, dbname and password (${PASSWORD.length} characters, not shown) go into core's unquoted "key=value" string as they are`,
    });
    expect(check(report, 'login')).toMatchObject({ status: 'ok' });
  });

  it('POSTGRESQL_PASSWORD with white space: core connection string fails (the password never shown), though the login itself works; exit 1, at every log level', async () => {
    for (const level of LEVELS) {
      const { r, report } = await diagnose(['--preset', 'core'], coreEnv(SPACED, 'spaced', 'spaced'), level);
      expect(r.code, r.stdout).toBe(1);
      const string = check(report, 'core connection string');
      expect(string).toMatchObject({ layer: 'url', status: 'fail', value: 'POSTGRESQL_PASSWORD holds white space (not shown)' });
      expect(string.hint).toMatch(/unquoted \("\.\.\. password=<value> \.\.\."\)/);
      // A client that sends the password as it is logs in: the string is what breaks.
      expect(check(report, 'login')).toMatchObject({ status: 'ok', value: expect.stringMatching(/^as user "spaced" to database "spaced"/) });
    }
  });
});
