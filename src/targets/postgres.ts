/**
 * PostgreSQL readiness as Harbor core needs it (shared/harbor-facts.md §4): the connection opens, TLS is
 * negotiated as pgx applies `sslmode`, the login succeeds as core's user with core's password, the database
 * exists, `SELECT 1` answers, the server takes writes (unless target_session_attrs says otherwise), and
 * golang-migrate's `schema_migrations` is not left dirty. Every failure is named by its SQLSTATE, never by
 * the message's text.
 *
 * The protocol is node-postgres's Client, imported from its own file (not the package index, which would
 * load its Pool too), speaking on a socket dial() opened: pg's `stream` option. So DNS and TCP have the same
 * stages, codes and address as every other target. pg asks the server for TLS itself, with the TLS options
 * set here explicitly from sslmode (never from pg's own reading of a connection string, which takes
 * sslmode=require for verify-full). One client per connection, closed on every path. This module is loaded
 * only when a PostgreSQL target is configured (targets/index.ts).
 */
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import ClientModule from 'pg/lib/client.js';
import { abortable, timeoutController } from '../abort.ts';
import { stageTimeout } from '../attempt.ts';
import { builtin } from '../builtin.ts';
import { formatDuration } from '../duration.ts';
import { dial, hostPort, watchWire, wireError, type Wire } from '../dial.ts';
import { classify, firstLine, isBug, NotReady, preview, type Stage } from '../errors.ts';
import { loaded } from '../libraries.ts';
import type { PostgresSpec } from './postgres-url.ts';
import { SQLSTATES } from './sqlstates.ts';
import type { Check, CheckContext, Progress, Ready } from './types.ts';

loaded('pg');

/** pg's file exports the class as module.exports; vitest's interop may hand it over as `default`. */
const Client = ((m: unknown) => (typeof m === 'function' ? m : (m as { default: unknown }).default))(ClientModule) as typeof ClientModule;
type PgClient = InstanceType<typeof ClientModule>;

/** Answers to a login and to these few queries are small; a peer sending more is not a PostgreSQL to wait for. */
const MAX_REPLY_BYTES = 1 << 20;

/** The first byte of a message a server sends before the login is over (or its answer to the SSL request). */
const LOGIN_MESSAGE_TYPES = new Set('REKSZNv'.split('').map((c) => c.charCodeAt(0)));

/**
 * What the server is, in one query: the version for the `ready` line, recovery for standby or primary,
 * transaction_read_only for read-write, and whether golang-migrate's table is in the search path.
 */
export const STATE_SQL =
  "SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS recovery, " +
  "current_setting('transaction_read_only') AS read_only, to_regclass('schema_migrations') IS NOT NULL AS migrations";
export const MIGRATIONS_SQL = 'SELECT version, dirty FROM schema_migrations LIMIT 1';
/** golang-migrate holds an advisory lock while it migrates. */
export const LOCKS_SQL =
  "SELECT count(*) AS locks FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

let conditionNames: Map<string, string> | undefined;

/** The condition name of a SQLSTATE, upper-cased (`INVALID_PASSWORD`); its class's for a code newer than the table. */
export function conditionName(sqlstate: string): string {
  conditionNames ??= new Map(
    SQLSTATES.trim()
      .split('\n')
      .map((line) => [line.slice(0, 5), line.slice(6).toUpperCase()]),
  );
  return conditionNames.get(sqlstate) ?? conditionNames.get(`${sqlstate.slice(0, 2)}000`) ?? `SQLSTATE_${sqlstate}`;
}

/** An error the server sent (pg-protocol's DatabaseError): it carries a SQLSTATE. */
export interface ServerError {
  readonly code: string;
  readonly severity: string | undefined;
  readonly message: string;
  readonly detail: string | undefined;
}

export function serverError(err: unknown): ServerError | undefined {
  const e = err as Partial<ServerError> | null;
  return err instanceof Error && typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && 'severity' in err
    ? (err as unknown as ServerError)
    : undefined;
}

/**
 * What a 57P03 says, for the reason: the server's message kind, read from its text (the code is the same for
 * all). An unknown text (another language, a newer server) is quoted.
 */
export function cannotConnectKind(e: ServerError): string {
  const text = `${e.message} ${e.detail ?? ''}`;
  if (/starting up/.test(text)) return 'it is starting up';
  if (/shutting down/.test(text)) return 'it is shutting down';
  if (/recovery mode/.test(text)) return 'it is in recovery mode (after a crash, or restoring)';
  if (/[Hh]ot standby mode is disabled/.test(text)) {
    return 'it is a standby with hot_standby = off, which never accepts connections: point core at the primary';
  }
  if (/consistent recovery state/i.test(text) || /not yet accepting/.test(text)) {
    return 'it is a hot standby that has not yet reached a consistent state';
  }
  return `it says "${firstLine(e.message)}"`;
}

export interface Peer {
  /** `host:port` as written. */
  readonly name: string;
  readonly spec: PostgresSpec;
}

/** NotReady for an error the server sent, by its SQLSTATE. */
export function fromServer(e: ServerError, peer: Peer, tls: boolean, stage: Stage): NotReady {
  const { spec } = peer;
  const said = `"${firstLine(e.message)}"`;
  const make = (s: Stage, code: string, reason: string) => new NotReady(s, code, reason, { cause: e, sqlstate: e.code });
  switch (e.code) {
    case '57P03':
      return make('response', 'CANNOT_CONNECT_NOW', `${peer.name} does not accept connections yet: ${cannotConnectKind(e)}`);
    case '28P01':
      return make('auth', 'INVALID_PASSWORD', `${peer.name} rejected the password of user "${spec.user}" (${said})`);
    case '28000':
      return make(
        'auth',
        'INVALID_AUTHORIZATION_SPECIFICATION',
        `${peer.name} refused user "${spec.user}" for database "${spec.database}" ${tls ? 'over SSL' : 'without SSL'} (${said}): check that pg_hba.conf has a line for this user, database, client address and ${tls ? 'hostssl' : 'host or hostnossl'}, and that the role exists`,
      );
    case '3D000':
      return make(
        'response',
        'INVALID_CATALOG_NAME',
        `database "${spec.database}" does not exist on ${peer.name}: Harbor never creates it (only the chart's internal database image does, on its first start); create it, or fix the database name`,
      );
    case '53300':
      return make('response', 'TOO_MANY_CONNECTIONS', `${peer.name} has no connection slot left (${said}): max_connections is reached`);
    default:
      return make(e.code.startsWith('28') ? 'auth' : stage, conditionName(e.code), `${peer.name} answered with SQLSTATE ${e.code} ${e.severity ?? 'ERROR'}: ${said}`);
  }
}

/** The pgx rule for trying the next sslmode fallback: not after a wrong password, a missing database, ... */
function endsFallback(err: NotReady, tls: boolean): boolean {
  return err.sqlstate === '28P01' || err.sqlstate === '3D000' || err.sqlstate === '42501' || (err.sqlstate === '28000' && tls);
}

/**
 * The TLS options for the sslmodes that use TLS, as pgx sets them: require checks nothing (verify-ca when
 * sslrootcert is given), verify-ca checks the chain, verify-full the chain and the host name. sslrootcert is
 * the only CA trusted (as pgx); without it, --ca-file's CA besides the defaults.
 */
export function tlsFor(spec: PostgresSpec, ctx: CheckContext): ConnectionOptions {
  const { createSecureContext, getCACertificates } = builtin('node:tls');
  const verify = spec.sslmode === 'verify-ca' || spec.sslmode === 'verify-full' || (spec.sslmode === 'require' && spec.rootCert !== undefined);
  const root = spec.rootCert;
  const ca = root === 'system' ? getCACertificates('default') : root ? [root.pem] : ctx.tls.ca !== undefined ? [...getCACertificates('default'), ctx.tls.ca] : undefined;
  const client = spec.clientCert
    ? { cert: spec.clientCert.cert.pem, key: spec.clientCert.key.pem }
    : ctx.tls.cert !== undefined
      ? { cert: ctx.tls.cert, key: ctx.tls.key }
      : {};
  const secureContext = createSecureContext({ ...(ca ? { ca } : {}), ...client, minVersion: 'TLSv1.2' });
  return {
    secureContext,
    rejectUnauthorized: verify && !ctx.tls.insecureSkipVerify,
    ...(spec.sslmode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
  };
}

/** The connections sslmode makes, in order: TLS or not. allow and prefer fall back to the other, as pgx. */
export function plansFor(spec: PostgresSpec): boolean[] {
  if (spec.sslmode === 'disable') return [false];
  if (spec.sslmode === 'allow') return [false, true];
  if (spec.sslmode === 'prefer') return [true, false];
  return [true];
}

export interface Session {
  readonly client: PgClient;
  readonly address: string;
  readonly tls: boolean;
  wire: Wire;
  close(): void;
}

export interface OpenOptions {
  readonly peer: Peer;
  readonly ctx: CheckContext;
  readonly tls: ConnectionOptions | undefined;
  readonly signal: AbortSignal;
  readonly progress: Progress;
}

/** Maps what a login met to NotReady: the server's error, the SSL request refused, the wire, or else what pg said. */
function loginError(err: unknown, raw: Wire, wire: Wire, o: OpenOptions): NotReady {
  if (err instanceof NotReady) return err;
  const tls = o.tls !== undefined;
  const stage = o.progress.stage;
  const server = serverError(err);
  if (server) return fromServer(server, o.peer, tls && raw.head[0] === 0x53, stage);
  const mode = o.peer.spec.sslmode;
  if (tls && raw.received === 1 && raw.head[0] === 0x4e) {
    return new NotReady(
      'tls',
      'SSL_REFUSED',
      `${o.peer.name} refused SSL (ssl is off on the server), but sslmode=${mode} requires it: turn ssl on there, or use sslmode=disable or prefer as the server allows`,
    );
  }
  if (raw.received > 0 && !LOGIN_MESSAGE_TYPES.has(raw.head[0] as number)) {
    return new NotReady(
      stage,
      'NOT_POSTGRES',
      `${o.peer.name} answered with something that is not PostgreSQL, beginning "${preview(raw.head)}"`,
    );
  }
  if (wire.tooLarge || raw.tooLarge) {
    return new NotReady(stage, 'REPLY_TOO_LARGE', `${o.peer.name} sent more than ${MAX_REPLY_BYTES} bytes during the login`);
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return classify(err, stage, o.peer.name);
  return wireError(wire, stage, o.peer.name, tls ? '' : ' (a TLS-only port? PostgreSQL asks for TLS inside its own protocol: use sslmode=require)') ?? classify(err, stage, o.peer.name);
}

/** Opens one connection (TLS or not) and logs in; the session is the caller's to close. */
export async function open(o: OpenOptions): Promise<Session> {
  const { spec } = o.peer;
  const dialed = await dial({ host: spec.host, port: spec.port, lookup: o.ctx.lookup, signal: o.signal, progress: o.progress });
  const raw = dialed.socket;
  const rawWire = watchWire(raw, MAX_REPLY_BYTES);
  let wire = rawWire;
  // pg calls connect() on the socket it is given and waits for 'connect': this one is connected already.
  Object.defineProperty(raw, 'connect', {
    value: () => {
      process.nextTick(() => raw.emit('connect'));
      return raw;
    },
  });
  const client = new Client({
    host: spec.host,
    port: spec.port,
    user: spec.user,
    database: spec.database,
    password: async () => {
      if (spec.password === undefined) {
        throw new NotReady('auth', 'PASSWORD_REQUIRED', `${o.peer.name} asks user "${spec.user}" for a password, but none is given`);
      }
      return spec.password;
    },
    application_name: spec.applicationName,
    client_encoding: 'UTF8',
    sslnegotiation: 'postgres',
    ssl: o.tls ?? false,
    stream: () => raw as Duplex,
    keepAlive: false,
    connectionTimeoutMillis: 0,
  });
  // pg falls back to PGOPTIONS and PGREPLICATION for what it is not given: harbor-wait sends only these settings.
  Object.assign(client.connectionParameters, { options: undefined, replication: undefined });
  // Every failure reaches the attempt through the call that met it; the event would only be printed.
  client.on('error', () => {});
  let secure: Duplex | undefined;
  client.connection.once('sslconnect', () => {
    secure = client.connection.stream;
    wire = watchWire(secure as never, MAX_REPLY_BYTES);
    secure.once('secureConnect', () => (o.progress.stage = 'auth'));
  });
  const close = () => {
    secure?.destroy();
    raw.destroy();
  };
  // Once the server has accepted the login, what follows (the database, the connection slots) is its answer.
  client.connection.once('authenticationOk', () => (o.progress.stage = 'response'));
  o.progress.stage = o.tls ? 'tls' : 'auth';
  try {
    await abortable(client.connect(), o.signal);
  } catch (err) {
    close();
    if (o.signal.aborted) throw o.signal.reason;
    if (isBug(err)) throw err;
    throw loginError(err, rawWire, wire, o);
  }
  return {
    client,
    address: dialed.address,
    tls: secure !== undefined,
    get wire() {
      return wire;
    },
    close() {
      // Terminate, as a client that is done says, and the server closes; the sockets go within a second regardless.
      client.end().catch(() => {});
      setTimeout(close, 1000).unref();
    },
  };
}

/** Runs one query on the session; a failure is NotReady for stage `response`. */
export async function query(s: Session, text: string, o: OpenOptions): Promise<Record<string, unknown>> {
  try {
    return (await abortable(s.client.query(text), o.signal)).rows[0] ?? {};
  } catch (err) {
    if (o.signal.aborted) throw o.signal.reason;
    if (isBug(err)) throw err;
    const server = serverError(err);
    if (server) throw fromServer(server, o.peer, s.tls, 'response');
    throw wireError(s.wire, 'response', o.peer.name, '') ?? classify(err, 'response', o.peer.name);
  }
}

/** Logs in as sslmode says: each connection of its plan in turn, as long as pgx would try the next. */
export async function login(o: Omit<OpenOptions, 'tls'>, tls: ConnectionOptions | undefined): Promise<Session> {
  let last: NotReady | undefined;
  for (const useTls of plansFor(o.peer.spec)) {
    try {
      return await open({ ...o, tls: useTls ? tls : undefined });
    } catch (err) {
      if (o.signal.aborted || !(err instanceof NotReady)) throw err;
      last = err;
      if (endsFallback(last, useTls)) break;
    }
  }
  throw last as NotReady;
}

/**
 * The login as core makes it: login() bounded by connect_timeout (the whole login, fallbacks included, as in
 * pgx), which then fails as a timeout of the stage it cut short. The waiter's attempt and diagnose both log in
 * through here.
 */
export async function connect(o: Omit<OpenOptions, 'tls'>, tls: ConnectionOptions | undefined): Promise<Session> {
  const { spec } = o.peer;
  const limit = spec.connectTimeoutMs > 0 ? timeoutController(spec.connectTimeoutMs, () => 'connect_timeout') : undefined;
  try {
    return await login({ ...o, signal: limit ? AbortSignal.any([o.signal, limit.signal]) : o.signal }, tls);
  } catch (err) {
    if (!o.signal.aborted && limit?.signal.aborted) {
      throw stageTimeout(o.progress.stage, `the ${formatDuration(spec.connectTimeoutMs)} connect_timeout`);
    }
    throw err;
  } finally {
    limit?.clear();
  }
}

/** The session attributes target_session_attrs asks for, checked as libpq checks them. */
export function checkSession(state: Record<string, unknown>, peer: Peer): void {
  const readOnly = state.read_only === 'on';
  const recovery = state.recovery === true;
  const attrs = peer.spec.targetSessionAttrs;
  const why = recovery ? 'it is a standby, in recovery' : 'default_transaction_read_only is on';
  if (attrs === 'read-write' && readOnly) {
    throw new NotReady(
      'response',
      'READ_ONLY',
      `${peer.name} is read-only (${why}): core's writes would fail there (goharbor/harbor#15972); point it at the primary, or add target_session_attrs=any to accept it`,
    );
  }
  if (attrs === 'read-only' && !readOnly) throw new NotReady('response', 'NOT_READ_ONLY', `${peer.name} accepts writes, but target_session_attrs=read-only`);
  if (attrs === 'primary' && recovery) throw new NotReady('response', 'NOT_PRIMARY', `${peer.name} is a standby, in recovery, but target_session_attrs=primary`);
  if (attrs === 'standby' && !recovery) throw new NotReady('response', 'NOT_STANDBY', `${peer.name} is a primary, but target_session_attrs=standby`);
}

/** schema_migrations' row, as golang-migrate leaves it: dirty means core's next start fails. */
async function checkMigrations(s: Session, o: OpenOptions): Promise<void> {
  const row = await query(s, MIGRATIONS_SQL, o);
  if (row.dirty !== true) return;
  const version = String(row.version);
  const locks = Number((await query(s, LOCKS_SQL, o)).locks);
  const now = locks > 0 ? 'an advisory lock is held in this database now, so that is likely' : 'no advisory lock is held now, so that is unlikely';
  throw new NotReady(
    'response',
    'DIRTY_SCHEMA',
    `schema_migrations in database "${o.peer.spec.database}" says version ${version} is dirty: either another core is migrating right now (${now}), or a migration was interrupted and core will fail with "Dirty database version ${version}. Fix and force version." until an operator repairs the schema and forces the version (migrate force ${version})`,
  );
}

export function createPostgresCheck(label: string, spec: PostgresSpec, ctx: CheckContext): Check {
  const peer: Peer = { name: hostPort(spec.host, spec.port), spec };
  let tls: ConnectionOptions | undefined;
  return {
    target: label,
    async attempt(signal, progress): Promise<Ready> {
      // Built at the first attempt, so that a certificate or key the TLS library refuses fails each attempt, as other TLS failures do.
      if (plansFor(spec).includes(true)) tls ??= tlsFor(spec, ctx);
      const o = { peer, ctx, signal, progress };
      const session = await connect(o, tls);
      const run = { ...o, tls: session.tls ? tls : undefined };
      try {
        progress.stage = 'response';
        await query(session, 'SELECT 1', run);
        const state = await query(session, STATE_SQL, run);
        checkSession(state, peer);
        if (state.migrations === true) await checkMigrations(session, run);
        return { address: session.address, server: { version: String(state.version), primary: state.recovery !== true } };
      } finally {
        session.close();
      }
    },
  };
}
