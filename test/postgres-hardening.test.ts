/**
 * Issue 17's PostgreSQL items, through the built entry file copied alone, against real PostgreSQL 15 servers and
 * misbehaving peers on loopback, both as the waiter and as `diagnose`:
 * - 3: trust is per target: --insecure-skip-verify never turns off what a postgres:// URL's sslmode asks for;
 * - 7: a peer that answers in another protocol and keeps the connection open is NOT_POSTGRES at once;
 * - 10: which limit a 53300 met (a database's or a role's CONNECTION LIMIT, the reserved slots, max_connections);
 * - 12: a user that cannot create in the schema core migrates into is not ready before the first migration;
 * - 15: whatever SQLSTATE a peer sends, the code is one of a closed list, the raw SQLSTATE in its own field;
 * - 20: a lone user name in a postgres:// URL is the user name, shown as such.
 * Every run carries marked secrets and must keep them out of its output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { makeCerts, type Certs } from './helpers/certs.ts';
import { runCli, type CliResult, type LogLine } from './helpers/cli.ts';
import { parseReport, type DiagnoseCheck, type DiagnoseReport } from './helpers/diagnose.ts';
import { halfReply, startFaulty, type Fault, type FaultyServer } from './helpers/faulty.ts';
import { holdConnections, startPostgres, type PgServer } from './helpers/postgres.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';
import { chartDatabaseEnv } from './helpers/chart-env.ts';

const PASSWORD = markedSecret('pg');
const SECRETS = [PASSWORD];
const enc = encodeURIComponent;
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** lone logs in without a password (trust), everyone else by SCRAM. */
const HBA = ['local all all trust', 'host all lone 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 scram-sha-256', ''].join('\n');
const HBA_SSL_ONLY = ['local all all trust', 'hostssl all harbor 127.0.0.1/32 scram-sha-256', ''].join('\n');

/**
 * harbor owns registry; guest owns nothing (so PostgreSQL 15 gives it no CREATE on public); capped may open no
 * connection at all, and neither may anyone to database crowded; lost has a search_path with no schema in it.
 */
const ROLES = `
CREATE ROLE harbor LOGIN PASSWORD ${literal(PASSWORD)};
CREATE ROLE guest LOGIN PASSWORD ${literal(PASSWORD)};
CREATE ROLE capped LOGIN PASSWORD ${literal(PASSWORD)} CONNECTION LIMIT 0;
CREATE ROLE lost LOGIN PASSWORD ${literal(PASSWORD)};
ALTER ROLE lost SET search_path = nowhere;
CREATE ROLE lone LOGIN;
CREATE ROLE pair LOGIN PASSWORD ${literal(PASSWORD)} CONNECTION LIMIT 2;
CREATE DATABASE registry OWNER harbor;
CREATE DATABASE fresh OWNER harbor;
CREATE DATABASE elsewhere OWNER harbor;
CREATE DATABASE migrated OWNER harbor;
CREATE DATABASE crowded OWNER harbor CONNECTION LIMIT 0;
CREATE DATABASE lonedb OWNER lone;
CREATE DATABASE pairdb OWNER pair;
CREATE DATABASE duo OWNER harbor CONNECTION LIMIT 3;
`;

type Query = { user?: string; db?: string; query?: string; password?: string | null };

const url = (server: { port: number }, o: Query = {}) => {
  const user = o.user ?? 'harbor';
  const info = o.password === null ? user : `${user}:${enc(o.password ?? PASSWORD)}`;
  return `postgres://${info}@127.0.0.1:${server.port}/${o.db ?? 'registry'}${o.query ? `?${o.query}` : ''}`;
};

async function once(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await runCli(['--once', '--attempt-timeout', '30s', ...args], env);
  expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, SECRETS);
  expect(r.stderr).toBe('');
  return r;
}

/** The one not_ready line of a --once run of `target` that failed. */
async function notReady(target: string, more: readonly string[] = []): Promise<{ r: CliResult; line: LogLine }> {
  const r = await once([...more, target]);
  expect(r.code, r.stdout).toBe(ExitCode.Failure);
  const lines = r.events('not_ready');
  expect(lines, r.stdout).toHaveLength(1);
  return { r, line: lines[0] as LogLine };
}

async function diagnose(args: readonly string[], env: Record<string, string> = {}): Promise<{ r: CliResult; report: DiagnoseReport }> {
  const r = await runCli(['diagnose', '--log-format', 'json', ...args], env);
  expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, SECRETS);
  expect(r.stderr).toBe('');
  return { r, report: parseReport(r.stdout, `${r.stdout}\n${r.stderr}`) };
}

function check(report: DiagnoseReport, name: string): DiagnoseCheck {
  const group = report.targets.find((t) => t.target.startsWith('postgres://'));
  const found = group?.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check "${name}": ${group?.checks.map((c) => c.name).join(', ')}`);
  return found;
}

let primary: PgServer;
let certs: Certs;

beforeAll(async () => {
  [primary, certs] = await Promise.all([startPostgres({ hba: HBA }), makeCerts()]);
  await primary.sql(ROLES);
  // elsewhere: core's user's first schema is app, which another role owns and lets it use, not create in.
  await primary.sql('CREATE SCHEMA app AUTHORIZATION guest; GRANT USAGE ON SCHEMA app TO harbor; ALTER ROLE harbor IN DATABASE elsewhere SET search_path = app', 'elsewhere');
  // migrated: core has migrated it (as harbor), and guest may read the table but create nothing.
  await primary.sql(
    'CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (140, false); ALTER TABLE schema_migrations OWNER TO harbor; GRANT SELECT ON schema_migrations TO guest;',
    'migrated',
  );
});

describe('3: trust is per target', () => {
  let wrongName: PgServer;
  let redis: RedisServer;
  beforeAll(async () => {
    [wrongName, redis] = await Promise.all([startPostgres({ hba: HBA_SSL_ONLY, tls: { certFile: certs.wrongNameCert, keyFile: certs.wrongNameKey } }), startRedis()]);
    await wrongName.sql(ROLES);
  });
  afterAll(async () => {
    await Promise.all([wrongName?.stop(), redis?.stop()]);
  });

  /** The start-up warnings about the flag and PostgreSQL targets. */
  const flagWarnings = (r: CliResult) => r.events('warning').map((l) => l.msg).filter((m) => /does not apply to postgres/.test(m));

  it('verify-full with sslrootcert and a certificate for another name: not ready with the flag too (it would fail core\'s handshake), and a warning naming the target', async () => {
    const target = url(wrongName, { query: `sslmode=verify-full&sslrootcert=${enc(certs.caCert)}` });
    for (const flag of [['--insecure-skip-verify'], []]) {
      const { r, line } = await notReady(target, flag);
      expect(line).toMatchObject({ stage: 'tls', code: 'HOSTNAME_MISMATCH' });
      expect(flagWarnings(r)).toEqual(
        flag.length > 0 ? [`--insecure-skip-verify does not apply to ${line.target} (argument): its sslmode=verify-full is checked, as core's driver checks it`] : [],
      );
    }
    // WAIT_INSECURE_SKIP_VERIFY is the same switch.
    const r = await once([target], { WAIT_INSECURE_SKIP_VERIFY: 'true' });
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    expect(r.events('not_ready').map((l) => `${l.stage}/${l.code}`)).toEqual(['tls/HOSTNAME_MISMATCH']);
    expect(flagWarnings(r)).toHaveLength(1);
  });

  it('verify-ca without a CA that signed it, and require with the wrong sslrootcert: not ready with the flag, each with its warning', async () => {
    const { r: ca } = await notReady(url(wrongName, { query: 'sslmode=verify-ca' }), ['--insecure-skip-verify']);
    expect(ca.events('not_ready')[0]).toMatchObject({ stage: 'tls', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(flagWarnings(ca)).toEqual([expect.stringMatching(/: its sslmode=verify-ca is checked/)]);
    const { r: req } = await notReady(url(wrongName, { query: `sslmode=require&sslrootcert=${enc(certs.serverCert)}` }), ['--insecure-skip-verify']);
    expect(req.events('not_ready')[0]).toMatchObject({ stage: 'tls', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(flagWarnings(req)).toEqual([expect.stringMatching(/: its sslmode=require with sslrootcert is checked/)]);
  });

  it('what the URL asks for passes with the flag as without it (verify-ca with the right CA); a URL that verifies nothing gets no warning', async () => {
    const verifyCa = await once(['--insecure-skip-verify', url(wrongName, { query: `sslmode=verify-ca&sslrootcert=${enc(certs.caCert)}` })]);
    expect(verifyCa.code, verifyCa.stdout).toBe(ExitCode.Ready);
    for (const query of ['sslmode=require', 'sslmode=prefer', '']) {
      const r = await once(['--insecure-skip-verify', url(wrongName, { query })]);
      expect(r.code, `${query}: ${r.stdout}`).toBe(ExitCode.Ready);
      expect(flagWarnings(r)).toEqual([]);
    }
  });

  it('--preset core with POSTGRESQL_SSLMODE=verify-full: not ready with WAIT_INSECURE_SKIP_VERIFY, as core would fail; the warning names the target and POSTGRESQL_*', async () => {
    const env = {
      _REDIS_URL_CORE: `redis://127.0.0.1:${redis.port}/0`,
      ...chartDatabaseEnv(PASSWORD, { host: '127.0.0.1', port: wrongName.port, user: 'harbor' }),
      POSTGRESQL_SSLMODE: 'verify-full',
      PGSSLROOTCERT: certs.caCert,
      WAIT_INSECURE_SKIP_VERIFY: 'true',
    };
    const r = await once(['--preset', 'core'], env);
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    const label = `postgres://harbor:***@127.0.0.1:${wrongName.port}/registry?sslmode=verify-full`;
    expect(r.events('not_ready').map((l) => [l.target, l.stage, l.code])).toEqual([[label, 'tls', 'HOSTNAME_MISMATCH']]);
    expect(flagWarnings(r)).toEqual([`--insecure-skip-verify does not apply to ${label} (POSTGRESQL_*): its sslmode=verify-full is checked, as core's driver checks it`]);
    // verify-ca, which checks no host name, is what makes this server ready for core.
    const ca = await once(['--preset', 'core'], { ...env, POSTGRESQL_SSLMODE: 'verify-ca' });
    expect(ca.code, ca.stdout).toBe(ExitCode.Ready);
  });

  it('diagnose: verification fails with the flag (not "ignored"), and the login is not tried', async () => {
    const { r, report } = await diagnose(['--insecure-skip-verify', url(wrongName, { query: `sslmode=verify-full&sslrootcert=${enc(certs.caCert)}` })]);
    expect(r.code, r.stdout).toBe(1);
    expect(check(report, 'verification')).toMatchObject({ status: 'fail', value: 'chain verified; host name 127.0.0.1 not in the certificate' });
    expect(check(report, 'login')).toMatchObject({ status: 'skip', hint: 'the certificate is not accepted' });
  });
});

/** Sends `data` as soon as the connection is accepted, and keeps it open: a server that speaks first (SSH). */
const greet =
  (data: string | Buffer): Fault =>
  (conn) => {
    conn.socket.write(data);
  };

/** A fixed run of bytes that no protocol begins with. */
const NOISE = Buffer.from('9c3be01f77d4a2065e18c9f3b4400d6a81e25f9b3c7d', 'hex');

describe('7: a peer that speaks another protocol and keeps the connection open is NOT_POSTGRES at once', () => {
  const peers: Record<string, FaultyServer> = {};
  beforeAll(async () => {
    [peers.http, peers.ssh, peers.noise] = await Promise.all([
      startFaulty(halfReply('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n')),
      startFaulty(greet('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n')),
      startFaulty(greet(NOISE)),
    ]);
  });
  afterAll(async () => {
    await Promise.all(Object.values(peers).map((p) => p.close()));
  });

  const cases = [
    ['an HTTP status line', 'http', /beginning "HTTP\/1\.1 400 Bad Request/],
    ['an SSH banner', 'ssh', /beginning "SSH-2\.0-OpenSSH_9\.2p1/],
    ['random bytes', 'noise', /beginning "\.;\.\.w\.\.\.\^\.\./],
  ] as const;

  for (const [what, peer, said] of cases) {
    it.each([
      ['disable', 'auth'],
      ['require', 'tls'],
      ['prefer', 'auth'],
    ])(`${what}, sslmode=%s: NOT_POSTGRES at stage %s, long before the 30 s attempt timeout`, async (sslmode, stage) => {
      const server = peers[peer] as FaultyServer;
      const { r, line } = await notReady(url(server, { query: `sslmode=${sslmode}` }));
      expect(line).toMatchObject({ stage, code: 'NOT_POSTGRES' });
      expect(String(line.reason)).toMatch(said);
      expect(String(line.reason)).toMatch(/is not PostgreSQL.*check the host and port/);
      expect(Number(line.elapsed_ms)).toBeLessThan(10_000);
      expect(r.ms).toBeLessThan(15_000);
      // Every connection it opened is closed.
      for (let i = 0; i < 100 && server.open() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(server.open()).toBe(0);
    });
  }

  it('a peer that sends a valid first message, then one PostgreSQL never sends: NOT_POSTGRES', async () => {
    // AuthenticationOk, then a message of type q.
    const fake = await startFaulty(halfReply(Buffer.concat([Buffer.from('R\0\0\0\x08\0\0\0\0', 'latin1'), Buffer.from('q\0\0\0\x04', 'latin1')]).toString('latin1')));
    try {
      const { line } = await notReady(url(fake, { query: 'sslmode=disable' }));
      expect(line).toMatchObject({ code: 'NOT_POSTGRES', reason: expect.stringMatching(/sent a message that PostgreSQL does not send/) });
      expect(Number(line.elapsed_ms)).toBeLessThan(10_000);
    } finally {
      await fake.close();
    }
  });

  it('diagnose: the login fails with NOT_POSTGRES at once (sslmode=disable); the SSL request is answered wrongly (require)', async () => {
    const plain = await diagnose(['--attempt-timeout', '30s', url(peers.ssh as FaultyServer, { query: 'sslmode=disable' })]);
    expect(plain.r.code, plain.r.stdout).toBe(1);
    expect(check(plain.report, 'login')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^NOT_POSTGRES: .*beginning "SSH-2\.0-OpenSSH/) });
    expect(plain.r.ms).toBeLessThan(15_000);
    const tls = await diagnose(['--attempt-timeout', '30s', url(peers.http as FaultyServer, { query: 'sslmode=require' })]);
    expect(tls.r.code, tls.r.stdout).toBe(1);
    expect(check(tls.report, 'handshake')).toMatchObject({ status: 'fail' });
    expect(JSON.stringify(check(tls.report, 'handshake'))).toMatch(/NOT_POSTGRES|not PostgreSQL's S or N/);
    expect(tls.r.ms).toBeLessThan(15_000);
  });
});

describe('10: which limit a 53300 met, and the setting to raise', () => {
  /** max_connections 5, one slot reserved for superusers: four for everyone else. */
  let small: PgServer;
  beforeAll(async () => {
    small = await startPostgres({ hba: HBA, settings: { max_connections: '5', superuser_reserved_connections: '1' } });
    await small.sql(ROLES);
  });
  afterAll(() => small?.stop());

  const expectLimit = async (target: string, reason: RegExp) => {
    const { line } = await notReady(target);
    expect(line).toMatchObject({ stage: 'response', code: 'TOO_MANY_CONNECTIONS', sqlstate: '53300' });
    expect(String(line.reason)).toMatch(reason);
    return line;
  };

  it("a database's CONNECTION LIMIT: names the database and ALTER DATABASE ... CONNECTION LIMIT", async () => {
    await expectLimit(
      url(small, { db: 'crowded', query: 'sslmode=disable' }),
      /no connection slot left for user "harbor": database "crowded" is at its CONNECTION LIMIT \("too many connections for database "crowded""\); raise it \(ALTER DATABASE crowded CONNECTION LIMIT <n>/,
    );
  });

  it("a role's CONNECTION LIMIT: names the role and ALTER ROLE ... CONNECTION LIMIT", async () => {
    await expectLimit(
      url(small, { user: 'capped', query: 'sslmode=disable' }),
      /role "capped" is at its CONNECTION LIMIT \("too many connections for role "capped""\); raise it \(ALTER ROLE capped CONNECTION LIMIT <n>/,
    );
  });

  // max_connections itself ("sorry, too many clients already"): test/postgres.test.ts, with every slot held.
  it('the slots left are reserved for superusers: names superuser_reserved_connections, not a CONNECTION LIMIT; ready again once one is free', async () => {
    const held = await holdConnections(small, 4);
    try {
      const line = await expectLimit(url(small, { query: 'sslmode=disable' }), /every slot but those reserved for superusers \(superuser_reserved_connections\) is in use \("remaining connection slots are reserved/);
      expect(String(line.reason)).toMatch(/raise max_connections \(a restart\), or lower superuser_reserved_connections/);
      expect(String(line.reason)).not.toMatch(/CONNECTION LIMIT/);
    } finally {
      await held.release();
    }
    const r = await once([url(small, { query: 'sslmode=disable' })]);
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
  });

  it('diagnose: the connections check names the limit and its fix', async () => {
    const role = await diagnose([url(small, { user: 'capped', query: 'sslmode=disable' })]);
    expect(role.r.code, role.r.stdout).toBe(1);
    const c = check(role.report, 'connections');
    expect(c).toMatchObject({ layer: 'limits', status: 'fail', value: 'no slot left: role "capped" is at its CONNECTION LIMIT (SQLSTATE 53300: "too many connections for role "capped"")' });
    expect(c.hint).toMatch(/^core cannot connect either; raise it \(ALTER ROLE capped CONNECTION LIMIT <n>/);
    const db = await diagnose([url(small, { db: 'crowded', query: 'sslmode=disable' })]);
    expect(check(db.report, 'connections')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^no slot left: database "crowded" is at its CONNECTION LIMIT/) });
  });

  it("diagnose, logged in: the role's and the database's CONNECTION LIMIT against their sessions; a failure when none is left", async () => {
    const ok = await diagnose([url(primary, { user: 'pair', db: 'pairdb', query: 'sslmode=disable' })]);
    expect(ok.r.code, ok.r.stdout).toBe(0);
    expect(check(ok.report, 'connection limit')).toMatchObject({ layer: 'limits', status: 'ok', value: 'role "pair": 1 of its CONNECTION LIMIT 2 (this one included)' });

    // One more session of pair's: this one is the last it may open.
    const { default: Client } = await import('pg/lib/client.js');
    const other = new Client({ host: '127.0.0.1', port: primary.port, user: 'pair', database: 'pairdb', password: async () => PASSWORD } as never);
    await other.connect();
    try {
      const last = await diagnose([url(primary, { user: 'pair', db: 'pairdb', query: 'sslmode=disable' })]);
      expect(last.r.code, last.r.stdout).toBe(1);
      const c = check(last.report, 'connection limit');
      expect(c).toMatchObject({ status: 'fail', value: 'role "pair": 2 of its CONNECTION LIMIT 2 (this one included)' });
      expect(c.hint).toMatch(/core's next connection fails with SQLSTATE 53300; raise it \(ALTER ROLE pair CONNECTION LIMIT <n>; -1 for none\)/);
    } finally {
      await other.end();
    }

    const held = await holdConnections(primary, 2, 'duo');
    try {
      const duo = await diagnose([url(primary, { db: 'duo', query: 'sslmode=disable' })]);
      expect(duo.r.code, duo.r.stdout).toBe(1);
      expect(check(duo.report, 'connection limit')).toMatchObject({ status: 'fail', value: 'database "duo": 3 of its CONNECTION LIMIT 3 (this one included)', hint: expect.stringMatching(/ALTER DATABASE duo CONNECTION LIMIT <n>/) });
    } finally {
      await held.release();
    }

    // Neither limited: no such check.
    const plain = await diagnose([url(primary, { query: 'sslmode=disable' })]);
    expect(plain.report.targets[0]?.checks.map((c) => c.name)).not.toContain('connection limit');
  });
});

describe("12: a user that cannot create in core's schema is not ready before the first migration", () => {
  it('a user that does not own the database (PostgreSQL 15: no CREATE on public): NO_CREATE_ON_SCHEMA with the GRANT and the owner change; ready once granted', async () => {
    const target = url(primary, { user: 'guest', db: 'fresh', query: 'sslmode=disable' });
    const { line } = await notReady(target);
    expect(line).toMatchObject({ stage: 'response', code: 'NO_CREATE_ON_SCHEMA' });
    expect(line.sqlstate).toBeUndefined();
    const reason = String(line.reason);
    expect(reason).toMatch(/^user "guest" may not create tables in schema "public" of database "fresh" \(owned by "harbor"\): core's first migration creates its tables there/);
    expect(reason).toContain('GRANT USAGE, CREATE ON SCHEMA public TO guest');
    expect(reason).toContain('ALTER DATABASE fresh OWNER TO guest');
    // The database's owner may: ready.
    const owner = await once([url(primary, { db: 'fresh', query: 'sslmode=disable' })]);
    expect(owner.code, owner.stdout).toBe(ExitCode.Ready);
    await primary.sql('GRANT CREATE ON SCHEMA public TO guest', 'fresh');
    try {
      const granted = await once([target]);
      expect(granted.code, granted.stdout).toBe(ExitCode.Ready);
    } finally {
      await primary.sql('REVOKE CREATE ON SCHEMA public FROM guest', 'fresh');
    }
  });

  it("the first schema of the user's search_path, owned by another role: names it and ALTER SCHEMA ... OWNER TO", async () => {
    const { line } = await notReady(url(primary, { db: 'elsewhere', query: 'sslmode=disable' }));
    expect(line).toMatchObject({ code: 'NO_CREATE_ON_SCHEMA' });
    expect(String(line.reason)).toMatch(/may not create tables in schema "app" of database "elsewhere"/);
    expect(String(line.reason)).toContain('GRANT USAGE, CREATE ON SCHEMA app TO harbor');
    expect(String(line.reason)).toContain('ALTER SCHEMA app OWNER TO harbor');
  });

  it('no schema of the search_path exists: NO_SCHEMA, saying what core would meet', async () => {
    const { line } = await notReady(url(primary, { user: 'lost', db: 'fresh', query: 'sslmode=disable' }));
    expect(line).toMatchObject({ stage: 'response', code: 'NO_SCHEMA' });
    expect(String(line.reason)).toMatch(/no schema of the search_path \(nowhere\) exists that user "lost" may use.*"no schema has been selected to create in"/);
  });

  it('once core has migrated (schema_migrations exists), CREATE is not required: ready', async () => {
    const r = await once([url(primary, { user: 'guest', db: 'migrated', query: 'sslmode=disable' })]);
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
  });

  it('diagnose: the schema check fails before the first migration, warns after it, and is ok for the owner', async () => {
    const before = await diagnose([url(primary, { user: 'guest', db: 'fresh', query: 'sslmode=disable' })]);
    expect(before.r.code, before.r.stdout).toBe(1);
    const fail = check(before.report, 'schema');
    expect(fail).toMatchObject({ layer: 'server', status: 'fail', value: 'user "guest" may not create tables in schema "public" of database "fresh" (owned by "harbor")' });
    expect(fail.hint).toMatch(/^core's first migration creates its tables there .*GRANT USAGE, CREATE ON SCHEMA public TO guest.*ALTER DATABASE fresh OWNER TO guest/);
    expect(check(before.report, 'login')).toMatchObject({ status: 'ok' });

    const after = await diagnose([url(primary, { user: 'guest', db: 'migrated', query: 'sslmode=disable' })]);
    expect(after.r.code, after.r.stdout).toBe(0);
    expect(check(after.report, 'schema')).toMatchObject({ status: 'warn', hint: expect.stringMatching(/the migrations of a Harbor upgrade create tables there too/) });

    const owner = await diagnose([url(primary, { db: 'fresh', query: 'sslmode=disable' })]);
    expect(owner.r.code, owner.r.stdout).toBe(0);
    expect(check(owner.report, 'schema')).toMatchObject({ status: 'ok', value: `"public": user "harbor" may create tables in it, as core's migrations do` });

    const lost = await diagnose([url(primary, { user: 'lost', db: 'fresh', query: 'sslmode=disable' })]);
    expect(check(lost.report, 'schema')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^no schema of the search_path \(nowhere\) exists/) });
  });
});

/** An ErrorResponse with these fields (type byte and value each). */
function errorResponse(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  const body = Buffer.concat([...fields.map(([k, v]) => Buffer.from(`${k}${v}\0`, 'utf8')), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write('E', 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** A peer that answers each StartupMessage with the ErrorResponse `make(n)` (n counts the connections) and closes. */
function erring(make: (n: number) => Buffer): Fault {
  let n = 0;
  return (conn) => conn.socket.once('data', () => conn.socket.end(make(n++)));
}

describe('15: whatever SQLSTATE a peer sends, the code is one of a closed list', () => {
  const run = async (fields: ReadonlyArray<readonly [string, string]>) => {
    const peer = await startFaulty(erring(() => errorResponse(fields)));
    try {
      return await notReady(url(peer, { query: 'sslmode=disable' }));
    } finally {
      await peer.close();
    }
  };

  it('a SQLSTATE of no known class: SQLSTATE_UNKNOWN, the SQLSTATE in its field, the message quoted (and a password it echoes never shown)', async () => {
    const { line } = await run([['S', 'FATAL'], ['C', 'ZZ999'], ['M', `no entry for ${PASSWORD}`]]);
    expect(line).toMatchObject({ stage: 'auth', code: 'SQLSTATE_UNKNOWN', sqlstate: 'ZZ999' });
    expect(String(line.reason)).toMatch(/answered with SQLSTATE ZZ999 FATAL: "no entry for /);
  });

  it('a newer code of a known class: the class name', async () => {
    const { line } = await run([['S', 'FATAL'], ['C', '08Q42'], ['M', 'something new']]);
    expect(line).toMatchObject({ code: 'CONNECTION_EXCEPTION', sqlstate: '08Q42' });
  });

  it('no SQLSTATE, or one that is not five characters [0-9A-Z]: SQLSTATE_UNKNOWN, and no sqlstate field', async () => {
    for (const fields of [
      [['S', 'FATAL'], ['C', 'HACKED_CODE_1'], ['M', 'made up']],
      [['S', 'FATAL'], ['C', '28p01'], ['M', 'lower case']],
      [['S', 'FATAL'], ['M', 'no code at all']],
    ] as const) {
      const { line } = await run(fields);
      expect(line.code).toBe('SQLSTATE_UNKNOWN');
      expect(line).not.toHaveProperty('sqlstate');
      expect(String(line.reason)).toMatch(/an error without a valid SQLSTATE: "(made up|lower case|no code at all)"/);
    }
  });

  it('a peer that varies its SQLSTATE on every attempt: one code for all of them, each SQLSTATE five characters in its own field', async () => {
    const peer = await startFaulty(erring((n) => errorResponse([['S', 'FATAL'], ['C', `Z${String(n).padStart(4, '0')}`], ['M', `attempt ${n}`]])));
    try {
      // At debug, to see every attempt: a repeated stage and code is logged at debug only, which is the point.
      const r = await runCli(['--deadline', '2s', '--backoff-initial', '10ms', '--backoff-max', '20ms', '--log-level', 'debug', url(peer, { query: 'sslmode=disable' })]);
      expect(r.code, r.stdout).toBe(ExitCode.Deadline);
      const lines = r.events('not_ready');
      expect(lines.length).toBeGreaterThan(10);
      expect(new Set(lines.map((l) => l.code))).toEqual(new Set(['SQLSTATE_UNKNOWN']));
      const sqlstates = lines.map((l) => String(l.sqlstate));
      expect(new Set(sqlstates).size).toBe(lines.length);
      for (const s of sqlstates) expect(s).toMatch(/^[0-9A-Z]{5}$/);
      // So only the first is at info.
      expect(lines.filter((l) => l.level === 'info')).toHaveLength(1);
    } finally {
      await peer.close();
    }
  });
});

describe('20: a lone user name in a postgres:// URL is the user name, and shown', () => {
  it('trust: ready, the label is the URL as given; the user is not scrubbed from the output', async () => {
    const target = url(primary, { user: 'lone', password: null, db: 'lonedb', query: 'sslmode=disable' });
    expect(target).toBe(`postgres://lone@127.0.0.1:${primary.port}/lonedb?sslmode=disable`);
    const r = await once([target]);
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    expect(r.events('start')[0]?.targets).toEqual([{ target, from: 'argument' }]);
    expect(r.events('ready')[0]?.target).toBe(target);
  });

  it('a server that asks for a password: PASSWORD_REQUIRED, the label and the reason naming the user', async () => {
    const target = url(primary, { password: null, query: 'sslmode=disable' });
    const { line } = await notReady(target);
    expect(line).toMatchObject({ target, stage: 'auth', code: 'PASSWORD_REQUIRED', reason: expect.stringMatching(/asks user "harbor" for a password, but none is given/) });
  });

  it('diagnose shows it in the target and the url check', async () => {
    const target = url(primary, { user: 'lone', password: null, db: 'lonedb', query: 'sslmode=disable' });
    const { r, report } = await diagnose([target]);
    expect(r.code, r.stdout).toBe(0);
    expect(report.targets[0]?.target).toBe(target);
    expect(check(report, 'url').value).toMatch(/user "lone", no password given/);
  });

  it('with a password, the password is hidden and the user shown', async () => {
    const r = await once([url(primary, { query: 'sslmode=disable' })]);
    expect(r.events('ready')[0]?.target).toBe(`postgres://harbor:***@127.0.0.1:${primary.port}/registry?sslmode=disable`);
  });
});
