/**
 * diagnose for PostgreSQL targets: the settings as core reads them, DNS, TCP, TLS as sslmode asks for it
 * (PostgreSQL's SSLRequest first), the login exactly as the waiter (and so core) makes it, then what the
 * server says about itself: version, primary or standby, the database, golang-migrate's schema_migrations,
 * and its connection slots. Every query is one any role may run; a refused one is a skip. One session, closed
 * on every path; nothing is retried.
 */
import type net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { abortable } from '../../basics/abort.ts';
import { dial, hostPort } from '../../net/dial.ts';
import { NotReady, preview } from '../../basics/errors.ts';
import { scrubText } from '../../basics/redact.ts';
import type { PostgresSpec } from './url.ts';
import {
  cannotConnectKind,
  checkSession,
  connect,
  ident,
  LOCKS_SQL,
  MIGRATIONS_SQL,
  plansFor,
  query,
  schemaProblem,
  serverError,
  serverSaid,
  slotLimit,
  STATE_SQL,
  tlsFor,
  type Peer,
  type Session,
} from './check.ts';
import { ms, Report, type StepResult, failed, type Finding, type TargetReport } from '../../net/report.ts';
import { diagnoseDns } from '../../net/dns-findings.ts';
import { diagnoseTcp } from '../../net/tcp-findings.ts';
import { diagnoseTls, type TlsProbe } from '../../net/tls-findings.ts';
import type { DiagnoseContext, DiagnosisReport } from '../types.ts';

/**
 * The client backends in use against the slots, and against the CONNECTION LIMIT of the role and of the
 * database (-1: none; neither applies to a superuser). A role without pg_read_all_stats sees other roles' sessions
 * with backend_type NULL, but still with their database and user: those are client backends too (the server's
 * own processes have neither, or no user). reserved_connections exists from PostgreSQL 16 only, so it is read
 * with missing_ok (NULL before 16: no such slots). pg_roles says whether the user is a superuser, who may
 * take the superuser-reserved slots too.
 */
const CONNECTIONS_SQL =
  "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' " +
  'OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL)) AS used, ' +
  "current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS superuser, " +
  "current_setting('reserved_connections', true) AS reserved, " +
  '(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS is_superuser, ' +
  '(SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user) AS role_limit, ' +
  "(SELECT count(*) FROM pg_stat_activity WHERE usename = current_user AND (backend_type = 'client backend' OR backend_type IS NULL)) AS role_used, " +
  '(SELECT datconnlimit FROM pg_database WHERE datname = current_database()) AS db_limit, ' +
  "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND (backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL))) AS db_used";

/** PostgreSQL's SSLRequest: length 8, then the code 1234.5679. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * Asks for TLS as PostgreSQL clients do, and waits for the server's one-byte answer: `S` goes on with the
 * handshake, `N` rejects with SSL_REFUSED (ssl is off on the server), anything else with NOT_POSTGRES.
 */
function sslRequest(peer: Peer): (socket: net.Socket, signal: AbortSignal) => Promise<void> {
  return (socket, signal) =>
    abortable(
      new Promise<void>((resolve, reject) => {
        const done = () => {
          socket.off('data', onData);
          socket.off('error', onError);
          socket.off('close', onClose);
        };
        const onData = (chunk: Buffer) => {
          done();
          if (chunk.length === 1 && chunk[0] === 0x53) return resolve();
          if (chunk.length === 1 && chunk[0] === 0x4e) {
            return reject(
              new NotReady(
                'tls',
                'SSL_REFUSED',
                `${peer.name} refused SSL (ssl is off on the server), but sslmode=${peer.spec.sslmode} requires it: turn ssl on there, or use sslmode=disable or prefer as the server allows`,
              ),
            );
          }
          reject(new NotReady('tls', 'NOT_POSTGRES', `${peer.name} answered the SSL request with "${scrubText(preview(chunk))}", not PostgreSQL's S or N: check the host and port`));
        };
        const onError = (err: Error) => {
          done();
          reject(err);
        };
        const onClose = () => {
          done();
          reject(new NotReady('tls', 'CONNECTION_CLOSED', `${peer.name} closed the connection instead of answering the SSL request: check that it is PostgreSQL`));
        };
        socket.on('data', onData);
        socket.once('error', onError);
        socket.once('close', onClose);
        socket.write(SSL_REQUEST);
      }),
      signal,
    );
}

/** The settings as the login uses them, without the password. */
function describeSettings(spec: PostgresSpec): string {
  const parts = [
    `host ${spec.host}`,
    `port ${spec.port}`,
    `database "${spec.database}"`,
    `user "${spec.user}"`,
    spec.password === undefined ? 'no password given' : 'password given',
    `sslmode=${spec.sslmode}`,
    `target_session_attrs=${spec.targetSessionAttrs}`,
  ];
  if (spec.connectTimeoutMs > 0) parts.push(`connect_timeout=${spec.connectTimeoutMs / 1000}`);
  if (spec.rootCert !== undefined) parts.push(`sslrootcert=${spec.rootCert === 'system' ? 'system' : spec.rootCert.path}`);
  if (spec.clientCert !== undefined) parts.push(`sslcert=${spec.clientCert.cert.path}`);
  return parts.join(', ');
}

/** How sslmode has the certificate checked, for the TLS probe (as tlsFor sets the options). */
function verification(spec: PostgresSpec): Pick<TlsProbe, 'verify' | 'reason'> {
  if (spec.sslmode === 'verify-full') return { verify: 'full' };
  if (spec.sslmode === 'verify-ca') return { verify: 'chain', reason: 'sslmode=verify-ca checks the chain only' };
  if (spec.sslmode === 'require' && spec.rootCert !== undefined) return { verify: 'chain', reason: 'sslmode=require with sslrootcert checks the chain only, as verify-ca' };
  return { verify: 'none', reason: `sslmode=${spec.sslmode} does not verify` };
}

/**
 * The TLS layer. For require and verify-* a failure blocks the login (`tls`); for prefer and allow the login
 * goes on without TLS when the server refuses it, as pgx does. Returns the TLS options for the login, or
 * undefined when its plan has no TLS connection.
 */
async function tlsLayer(r: DiagnosisReport, peer: Peer, open: readonly string[] | undefined): Promise<ConnectionOptions | undefined> {
  const { spec } = peer;
  const plans = plansFor(spec);
  if (!plans.includes(true)) {
    r.skip('tls', 'handshake', 'plain text', 'sslmode=disable: the login does not ask for TLS');
    return undefined;
  }
  const built = await r.step(async () => tlsFor(spec, r.ctx), 'tls');
  if (!built.ok) {
    r.fail('tls', 'handshake', failed(built.error), 'the TLS settings were refused before connecting: check sslrootcert, sslcert and sslkey (or --ca-file, --cert-file, --key-file)');
    // The waiter builds these options before each login whose plan has TLS, and fails there: so does the login here.
    r.block('tls settings', 'the TLS settings were refused');
    return undefined;
  }
  const options = built.value;
  const address = open?.[0];
  if (address === undefined) {
    r.skip('tls', 'handshake', peer.name, r.blocked('dns', 'tcp') ?? '');
    return options;
  }
  const probe: TlsProbe = { host: spec.host, address, port: spec.port, options, ...verification(spec), startTls: sslRequest(peer), plainHint: 'sslmode=disable' };
  if (plans.length === 1) {
    await diagnoseTls(r, probe);
    return options;
  }
  // prefer and allow: first ask whether the server speaks TLS at all; a refusal is the plain-text login pgx goes on with.
  const asked = await r.step(async (signal, progress) => {
    const dialed = await dial({ host: address, port: spec.port, lookup: r.ctx.lookup, signal, progress });
    progress.stage = 'tls';
    try {
      await sslRequest(peer)(dialed.socket, signal);
      return true;
    } catch (err) {
      if (err instanceof NotReady && err.code === 'SSL_REFUSED') return false;
      throw err;
    } finally {
      dialed.socket.destroy();
    }
  }, 'tls');
  const mode = spec.sslmode;
  if (!asked.ok) {
    r.warn('tls', 'handshake', failed(asked.error), `sslmode=${mode} goes on without TLS after a failed TLS connection, as core's driver does: the login below shows what core meets`, asked.ms);
  } else if (!asked.value) {
    const value = `refused by the server (ssl is off): sslmode=${mode} logs in in plain text`;
    if (mode === 'allow') r.ok('tls', 'handshake', value, asked.ms);
    else r.warn('tls', 'handshake', value, 'the login goes on unencrypted, as core\'s driver does with prefer: turn ssl on at the server (and use sslmode=require or verify-full), or say sslmode=disable if plain text is meant', asked.ms);
  } else {
    await diagnoseTls(r, probe);
  }
  return options;
}

/** A login failure's value: its code and SQLSTATE, with the server's own words (and, for 57P03, what kind). */
function loginValue(err: NotReady): string {
  const server = serverError(err.cause);
  if (err.sqlstate === undefined || !server) return failed(err);
  const said = serverSaid(server);
  if (err.sqlstate === '57P03') return `${err.code} (SQLSTATE 57P03): ${cannotConnectKind(server)} (${said})`;
  return `${err.code} (SQLSTATE ${err.sqlstate}): ${said}`;
}

/** What to do about a failed login, by its SQLSTATE (or code). */
function loginHint(err: NotReady, spec: PostgresSpec): string {
  switch (err.sqlstate) {
    case '28P01':
      return `the password given is not user "${spec.user}"'s: fix the Secret that gives it (core reads POSTGRESQL_PASSWORD), or set the role's password on the server (ALTER ROLE ... PASSWORD)`;
    case '28000':
      return err.reason;
    case '3D000':
      return `the server accepted the login, but database "${spec.database}" does not exist: see the database check`;
    case '53300':
      return 'the server has no connection slot left: see the connections check';
    case '57P03': {
      const server = serverError(err.cause);
      const kind = server ? cannotConnectKind(server) : '';
      if (/hot_standby = off/.test(kind)) return 'this standby never accepts connections: point core at the primary';
      if (/starting up|consistent state|recovery mode/.test(kind)) return 'wait for it to finish: core tries to log in once at start-up and exits, so its pod restarts until then';
      if (/shutting down/.test(kind)) return 'it is stopping: wait for it (or its failover) to come back';
      return err.reason;
    }
  }
  if (err.code === 'PASSWORD_REQUIRED') return 'give the password (core: POSTGRESQL_PASSWORD; a URL: postgres://user:password@host/database)';
  if (err.stage === 'timeout') return `${err.reason}: the server did not finish the login; check its load and its log`;
  return err.reason;
}

/** The server's error as it said it: SQLSTATE, condition and message. */
function said(err: NotReady): string {
  const server = serverError(err.cause);
  return `SQLSTATE ${err.sqlstate ?? '?'} (${err.code})${server ? ` ${serverSaid(server)}` : ''}`;
}

/** Why the last step did not answer: a refused query (the server said no, with a SQLSTATE) is a skip; anything else ends the session. */
function unanswered(r: DiagnosisReport, layer: Finding['layer'], name: string, what: string, result: StepResult<unknown> & { ok: false }): void {
  const err = result.error;
  if (err.sqlstate !== undefined) {
    r.skip(layer, name, what, `refused: ${said(err)}`);
    return;
  }
  r.fail(layer, name, failed(err), 'the session stopped answering: see the server\'s log', result.ms);
  r.block('session', `the session stopped answering (${err.code})`);
}

/** The server's answers on the logged-in session: version, recovery, database, migrations, connections. */
async function serverLayers(r: DiagnosisReport, peer: Peer, session: Session): Promise<void> {
  const { spec } = peer;
  const run = (text: string) => r.step((signal, progress) => query(session, text, { peer, ctx: r.ctx, signal, progress, tls: undefined }), 'response');

  const state = await run(STATE_SQL);
  if (!state.ok) {
    unanswered(r, 'server', 'version', 'server_version', state);
    const why = r.blocked('session') ?? 'the server state query was refused';
    r.skip('server', 'recovery', 'pg_is_in_recovery()', why);
    r.ok('server', 'database', `"${spec.database}" exists (the login reached it)`);
    r.skip('server', 'migrations', 'schema_migrations', why);
    r.skip('server', 'schema', 'current_schema()', why);
  } else {
    const row = state.value;
    r.ok('server', 'version', `PostgreSQL ${String(row.version)}`, state.ms);
    recovery(r, peer, row);
    r.ok('server', 'database', `"${spec.database}" exists (the login reached it)`);
    await migrations(r, spec, run, row.migrations === true);
    schema(r, spec, row);
  }

  const why = r.blocked('session');
  if (why) {
    r.skip('limits', 'connections', 'client backends against max_connections', why);
    return;
  }
  const slots = await run(CONNECTIONS_SQL);
  if (!slots.ok) unanswered(r, 'limits', 'connections', 'client backends against max_connections', slots);
  else {
    connections(r, spec, slots.value);
    connectionLimits(r, spec, slots.value);
  }
}

/** Primary or standby, read-write or not, against target_session_attrs (as the waiter checks it). */
function recovery(r: DiagnosisReport, peer: Peer, row: Record<string, unknown>): void {
  const inRecovery = row.recovery === true;
  const readOnly = row.read_only === 'on';
  const value = inRecovery ? 'standby (in recovery), read-only' : readOnly ? 'primary, read-only (default_transaction_read_only is on)' : 'primary, read-write';
  const attrs = peer.spec.targetSessionAttrs;
  try {
    checkSession(row, peer);
  } catch (err) {
    if (!(err instanceof NotReady)) throw err;
    r.fail('server', 'recovery', `${value}; target_session_attrs=${attrs}`, err.reason);
    return;
  }
  if (readOnly) {
    r.warn('server', 'recovery', `${value}; target_session_attrs=${attrs} accepts it`, "core writes as soon as it has migrated (configuration, the admin password, scanners): on a read-only server those writes fail (goharbor/harbor#15972); point core at the primary");
  } else r.ok('server', 'recovery', value);
}

/** golang-migrate's table: absent, clean, or dirty (and whether a migration may be running now). */
async function migrations(r: DiagnosisReport, spec: PostgresSpec, run: (text: string) => Promise<StepResult<Record<string, unknown>>>, present: boolean): Promise<void> {
  if (!present) {
    r.ok('server', 'migrations', 'not migrated yet (core migrates at its first start)');
    return;
  }
  const got = await run(MIGRATIONS_SQL);
  if (!got.ok && got.error.sqlstate === '42501') {
    // Not a command a service may refuse: core migrates as this user, and reads this table first.
    r.fail('server', 'migrations', `schema_migrations not readable: ${said(got.error)}`, `core migrates as user "${spec.user}" and cannot read golang-migrate's table either: grant it the table (or make it the owner of core's schema)`, got.ms);
    return;
  }
  if (!got.ok) return unanswered(r, 'server', 'migrations', 'schema_migrations', got);
  const row = got.value;
  if (row.version === undefined) {
    r.ok('server', 'migrations', 'schema_migrations is empty (core migrates at its first start)', got.ms);
    return;
  }
  const version = String(row.version);
  if (row.dirty !== true) {
    r.ok('server', 'migrations', `version ${version}, clean`, got.ms);
    return;
  }
  const locks = r.blocked('session') ? undefined : await run(LOCKS_SQL);
  const held = locks?.ok ? Number(locks.value.locks) > 0 : undefined;
  const now = held === undefined ? 'whether an advisory lock is held is unknown' : held ? 'an advisory lock is held now' : 'no advisory lock is held now';
  const repair = `core fails with "Dirty database version ${version}. Fix and force version." until an operator repairs the schema and forces the version (migrate force ${version})`;
  const hint = held
    ? `another core may be migrating right now (it holds golang-migrate's advisory lock): check again once it is done; if it stays dirty, ${repair}`
    : `a migration was interrupted (a restart during core's migration): ${repair}`;
  r.fail('server', 'migrations', `version ${version}, dirty; ${now}`, hint, got.ms);
}

/**
 * Where core's migrations create their tables (current_schema()), and whether the user may: as the waiter
 * checks it before the first migration (fail), and after it a warning, since a Harbor upgrade's migrations
 * create tables too.
 */
function schema(r: DiagnosisReport, spec: PostgresSpec, row: Record<string, unknown>): void {
  const attrs = spec.targetSessionAttrs;
  if (attrs === 'read-only' || attrs === 'standby') {
    r.skip('server', 'schema', 'current_schema()', `target_session_attrs=${attrs}: core does not migrate there`);
    return;
  }
  const problem = schemaProblem(row, spec);
  const migrated = row.migrations === true;
  if (!problem) {
    const name = scrubText(String(row.schema));
    r.ok('server', 'schema', `"${name}": user "${spec.user}" may create tables in it, as core's migrations do`);
    return;
  }
  if (migrated) {
    r.warn('server', 'schema', problem.what, `core has migrated this database and starts, but the migrations of a Harbor upgrade create tables there too and would fail: ${problem.fix}`);
    return;
  }
  r.fail('server', 'schema', problem.what, `${problem.firstMigration}: ${problem.fix}`);
}

/** Client backends against the slots the user may take (a superuser all of them): warn at 90 %, fail when none is left. */
function connections(r: DiagnosisReport, spec: PostgresSpec, row: Record<string, unknown>): void {
  const used = Number(row.used);
  const max = Number(row.max);
  const superuser = Number(row.superuser);
  const reserved = row.reserved === null || row.reserved === undefined ? 0 : Number(row.reserved);
  const ordinary = Math.max(1, max - superuser - reserved);
  const isSuperuser = row.is_superuser === true;
  const limit = isSuperuser ? max : ordinary;
  const pct = Math.floor((used * 100) / limit);
  const slots = isSuperuser
    ? `user "${spec.user}" is a superuser and may take all of max_connections ${max}; ordinary roles ${ordinary}`
    : `max_connections ${max} less ${superuser} reserved for superusers${reserved > 0 ? ` and ${reserved} reserved_connections` : ''}`;
  const value = `${used} of ${limit} client connections in use (${pct}%; ${slots}; this one included)`;
  const what = "raise max_connections on the server, or lower its clients' pools (core's POSTGRESQL_MAX_OPEN_CONNS, the exporter's), or find what holds the connections in pg_stat_activity";
  if (used >= limit) r.fail('limits', 'connections', value, `no slot is left for user "${spec.user}": core's next connection fails with SQLSTATE 53300; ${what}`);
  else if (pct >= 90) r.warn('limits', 'connections', value, `few slots are left: core's pool may meet SQLSTATE 53300 (too many clients); ${what}`);
  else r.ok('limits', 'connections', value);
}

/**
 * The CONNECTION LIMIT of the role and of the database, when either has one (a superuser is subject to
 * neither): their sessions against it, this one included; fail when none is left (core's next connection
 * meets 53300 "too many connections for ..."), warn at 90 %. No finding when neither has a limit.
 */
function connectionLimits(r: DiagnosisReport, spec: PostgresSpec, row: Record<string, unknown>): void {
  if (row.is_superuser === true) return;
  const limits = [
    { what: `role "${spec.user}"`, limit: Number(row.role_limit), used: Number(row.role_used), fix: `ALTER ROLE ${ident(spec.user)} CONNECTION LIMIT <n>` },
    { what: `database "${spec.database}"`, limit: Number(row.db_limit), used: Number(row.db_used), fix: `ALTER DATABASE ${ident(spec.database)} CONNECTION LIMIT <n>` },
  ].filter((l) => Number.isFinite(l.limit) && l.limit >= 0);
  if (limits.length === 0) return;
  const value = limits.map((l) => `${l.what}: ${l.used} of its CONNECTION LIMIT ${l.limit}`).join('; ') + ' (this one included)';
  const full = limits.filter((l) => l.used >= l.limit);
  const near = limits.filter((l) => l.limit > 0 && (l.used * 100) / l.limit >= 90);
  const pools = "or lower the pools of its clients (core's POSTGRESQL_MAX_OPEN_CONNS, the exporter's)";
  if (full.length > 0) {
    r.fail('limits', 'connection limit', value, `no connection is left under the CONNECTION LIMIT of ${full.map((l) => l.what).join(' and ')}: core's next connection fails with SQLSTATE 53300; raise it (${full.map((l) => l.fix).join('; ')}; -1 for none), ${pools}`);
  } else if (near.length > 0) {
    r.warn('limits', 'connection limit', value, `few connections are left under the CONNECTION LIMIT of ${near.map((l) => l.what).join(' and ')}: core's pool may meet SQLSTATE 53300; raise it (${near.map((l) => l.fix).join('; ')}), ${pools}`);
  } else r.ok('limits', 'connection limit', value);
}

/** Skips what needs the login, after it failed; the failures it explains by themselves (3D000, 53300) are named. */
function afterFailedLogin(r: DiagnosisReport, spec: PostgresSpec, err: NotReady | undefined, why: string): void {
  r.skip('server', 'version', 'server_version', why);
  r.skip('server', 'recovery', 'pg_is_in_recovery()', why);
  if (err?.sqlstate === '3D000') {
    r.fail('server', 'database', `"${spec.database}" does not exist (SQLSTATE 3D000)`, `Harbor never creates its database (only the chart's internal database image does, on its first start): create it (CREATE DATABASE ${ident(spec.database)} OWNER ${ident(spec.user)}), or fix the database name (core: POSTGRESQL_DATABASE)`);
  } else r.skip('server', 'database', `"${spec.database}"`, why);
  r.skip('server', 'migrations', 'schema_migrations', why);
  r.skip('server', 'schema', 'current_schema()', why);
  if (err?.sqlstate === '53300') {
    const server = serverError(err.cause);
    const limit = server ? slotLimit(server, spec) : undefined;
    const what = limit && limit.limit !== 'unknown' ? `${limit.what} ` : '';
    r.fail(
      'limits',
      'connections',
      `no slot left: ${what}(SQLSTATE 53300${server ? `: ${serverSaid(server)}` : ''})`,
      `core cannot connect either; ${limit?.fix ?? 'raise max_connections, or lower the pools of the database\'s clients'}`,
    );
  } else r.skip('limits', 'connections', 'client backends against max_connections', why);
}

export async function diagnosePostgres(label: string, spec: PostgresSpec, ctx: DiagnoseContext, urlFindings: readonly Finding[] = []): Promise<TargetReport> {
  const r = new Report(label, ctx);
  const peer: Peer = { name: hostPort(spec.host, spec.port), spec };
  r.ok('url', 'url', describeSettings(spec));
  for (const f of urlFindings) r.add(f);

  const addresses = await diagnoseDns(r, spec.host);
  const open = addresses ? await diagnoseTcp(r, addresses, spec.port) : undefined;
  if (!addresses) r.skip('tcp', 'connect', peer.name, r.blocked('dns') ?? '');
  const tls = await tlsLayer(r, peer, open);

  const as = `as user "${spec.user}" to database "${spec.database}"`;
  const strict = !plansFor(spec).includes(false);
  const blocked = r.blocked('dns', 'tcp', 'tls settings', ...(strict ? ['tls'] : []));
  if (blocked) {
    r.skip('auth', 'login', as, blocked);
    afterFailedLogin(r, spec, undefined, `no login: ${blocked}`);
    return r.result();
  }
  const login = await r.step((signal, progress) => connect({ peer, ctx, signal, progress }, tls), 'connect');
  if (!login.ok) {
    r.fail('auth', 'login', loginValue(login.error), loginHint(login.error, spec), login.ms);
    afterFailedLogin(r, spec, login.error, `the login failed (${login.error.code})`);
    return r.result();
  }
  const session = login.value;
  try {
    const fellBack = spec.sslmode === 'prefer' && !session.tls ? ' (sslmode=prefer went on without it)' : spec.sslmode === 'allow' && session.tls ? ' (sslmode=allow retried with it)' : '';
    r.ok('auth', 'login', `${as}, TLS ${session.tls ? 'on' : 'off'}${fellBack}, in ${ms(login.ms)}`, login.ms);
    await serverLayers(r, peer, session);
  } finally {
    session.close();
  }
  return r.result();
}
