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
 * only when a PostgreSQL target is configured (target.ts).
 */
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import ClientModule from 'pg/lib/client.js';
import { abortable, timeoutController } from '../../basics/abort.ts';
import { builtin } from '../../basics/builtin.ts';
import { formatDuration } from '../../basics/duration.ts';
import { dial, hostPort, watchWire, wireError, type Wire } from '../../net/dial.ts';
import { isBug, NotReady, peerText, preview, type Stage, type Progress } from '../../basics/errors.ts';
import { loaded } from '../../basics/libraries.ts';
import { scrubText } from '../../basics/redact.ts';
import { ownVerification, type PostgresSpec } from './url.ts';
import { conditionName, SQLSTATE_PATTERN, SQLSTATE_UNKNOWN } from './sqlstate-names.ts';
import type { Check, CheckContext, Ready } from '../types.ts';
import { classify, stageTimeout } from '../../net/classify.ts';

loaded('pg');

/** pg's file exports the class as module.exports; vitest's interop may hand it over as `default`. */
const Client = ((m: unknown) => (typeof m === 'function' ? m : (m as { default: unknown }).default))(ClientModule) as typeof ClientModule;
type PgClient = InstanceType<typeof ClientModule>;

/** Answers to a login and to these few queries are small; a peer sending more is not a PostgreSQL to wait for. */
const MAX_REPLY_BYTES = 1 << 20;

/**
 * The messages a server may send first after the StartupMessage, by type byte, with the least length each can
 * have: an Authentication request (R), an ErrorResponse (E), NegotiateProtocolVersion (v), a NoticeResponse (N).
 */
const FIRST_MESSAGES = new Map([
  [0x52, 8],
  [0x45, 5],
  [0x76, 12],
  [0x4e, 5],
]);

/**
 * Whether `head`, all that the peer has sent so far, can begin PostgreSQL's answer to our first message: to
 * the SSLRequest (`sslRequest`) the one byte S or N, or an ErrorResponse; to the StartupMessage one of
 * FIRST_MESSAGES, its length within bounds. `more` when too few bytes have come to tell. A text protocol (an
 * HTTP status line, an SSH or SMTP banner, a Redis reply), a TLS record or random bytes fail at the first byte
 * or at the length (four printable characters make a length of over 500 MB).
 */
export function firstReply(head: Buffer, sslRequest: boolean): 'yes' | 'no' | 'more' {
  const type = head[0];
  if (type === undefined) return 'more';
  // The server sends S or N alone and waits for the TLS handshake or the StartupMessage.
  if (sslRequest && (type === 0x53 || type === 0x4e)) return head.length === 1 ? 'yes' : 'no';
  const min = sslRequest ? (type === 0x45 ? 5 : undefined) : FIRST_MESSAGES.get(type);
  if (min === undefined) return 'no';
  if (head.length < 5) return 'more';
  const length = head.readUInt32BE(1);
  return length >= min && length <= MAX_REPLY_BYTES ? 'yes' : 'no';
}

/** NOT_POSTGRES for a peer whose first bytes are `head`. */
function notPostgres(name: string, head: Buffer, stage: Stage): NotReady {
  const tlsRecord = head[0] === 0x15 || head[0] === 0x16;
  const what = tlsRecord ? ' (a TLS record: this port speaks TLS from its first byte, which PostgreSQL never does: it asks for TLS inside its own protocol)' : '';
  return new NotReady(stage, 'NOT_POSTGRES', `${name} answered with something that is not PostgreSQL, beginning "${scrubText(preview(head))}"${what}: check the host and port`);
}

/**
 * What the server is, in one query: the version for the `ready` line, recovery for standby or primary,
 * transaction_read_only for read-write, whether golang-migrate's table is in the search path, and where core's
 * first migration would create its tables: current_schema() (the first schema of the search_path that exists
 * and may be used, where golang-migrate creates schema_migrations and the migrations their tables), whether
 * the user may create in it, its owner and the database's (for the hint).
 */
export const STATE_SQL =
  "SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS recovery, " +
  "current_setting('transaction_read_only') AS read_only, to_regclass('schema_migrations') IS NOT NULL AS migrations, " +
  "current_schema() AS schema, has_schema_privilege(current_schema(), 'CREATE') AS can_create, " +
  "current_setting('search_path') AS search_path, " +
  '(SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = current_schema()) AS schema_owner, ' +
  '(SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS database_owner';
export const MIGRATIONS_SQL = 'SELECT version, dirty FROM schema_migrations LIMIT 1';
/** golang-migrate holds an advisory lock while it migrates. */
export const LOCKS_SQL =
  "SELECT count(*) AS locks FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

export { conditionName } from './sqlstate-names.ts';

/** An error the server sent (pg-protocol's DatabaseError from an ErrorResponse): it carries a SQLSTATE. */
export interface ServerError {
  /** Five characters [0-9A-Z]: anything else is not taken for a SQLSTATE (see unexpectedError). */
  readonly code: string;
  readonly severity: string | undefined;
  readonly message: string;
  readonly detail: string | undefined;
}

/** pg-protocol reads every field of an ErrorResponse onto its DatabaseError, severity included (undefined when absent). */
function isErrorResponse(err: unknown): err is Error & Partial<Record<'code' | 'severity' | 'detail', unknown>> {
  return err instanceof Error && 'severity' in err;
}

export function serverError(err: unknown): ServerError | undefined {
  return isErrorResponse(err) && typeof err.code === 'string' && SQLSTATE_PATTERN.test(err.code) ? (err as unknown as ServerError) : undefined;
}

/** The server's message, as a reason quotes it: its first line, scrubbed. */
export function serverSaid(e: { readonly message: string }): string {
  return `"${peerText(e.message)}"`;
}

/**
 * NotReady for what the peer sent that is neither a SQLSTATE error nor a failure of the wire: an ErrorResponse
 * whose SQLSTATE is missing or malformed (SQLSTATE_UNKNOWN, its text quoted; no `sqlstate` field, which holds
 * SQLSTATEs only), or a message pg-protocol does not know (a pg-protocol DatabaseError without the fields of
 * an ErrorResponse): NOT_POSTGRES. Undefined for any other error.
 */
export function unexpectedError(err: unknown, peer: Peer, stage: Stage): NotReady | undefined {
  if (isErrorResponse(err)) {
    return new NotReady(stage, SQLSTATE_UNKNOWN, `${peer.name} answered with an error without a valid SQLSTATE: ${serverSaid(err)}`, { cause: err });
  }
  const e = err as { name?: unknown; length?: unknown } | null;
  if (err instanceof Error && e?.name === 'error' && typeof e.length === 'number') {
    return new NotReady(stage, 'NOT_POSTGRES', `${peer.name} sent a message that PostgreSQL does not send: check the host and port`, { cause: err });
  }
  return undefined;
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
  return `it says ${serverSaid(e)}`;
}

/** A name as SQL needs it: quoted unless it is a plain lower-case identifier. */
export function ident(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** Which limit a 53300 hit, and what raises it. */
export interface SlotLimit {
  /** `database`, `role`, `reserved` (the slots kept for superusers or a role), `max_connections`, or `unknown`. */
  readonly limit: 'database' | 'role' | 'reserved' | 'max_connections' | 'unknown';
  /** What is full, for a reason: `database "registry" is at its CONNECTION LIMIT`. */
  readonly what: string;
  /** What to do, naming the setting to raise. */
  readonly fix: string;
}

const POOLS = "lower the pools of the database's clients (core's POSTGRESQL_MAX_OPEN_CONNS, the exporter's), or find what holds the connections in pg_stat_activity";

/**
 * Which of the limits behind SQLSTATE 53300 the server met, read from its message (the code is the same for
 * all, as for 57P03): a database's CONNECTION LIMIT, a role's, the slots reserved for superusers
 * (superuser_reserved_connections) or for a role (reserved_connections, PostgreSQL 16+), or max_connections
 * itself. An unknown text (another language, another server) is quoted. The names in the fix are the
 * target's own database and user, never the server's words.
 */
export function slotLimit(e: ServerError, spec: PostgresSpec): SlotLimit {
  const text = e.message;
  if (/too many connections for database/.test(text)) {
    return {
      limit: 'database',
      what: `database "${spec.database}" is at its CONNECTION LIMIT`,
      fix: `raise it (ALTER DATABASE ${ident(spec.database)} CONNECTION LIMIT <n>; -1 for none; see datconnlimit in pg_database), or ${POOLS}`,
    };
  }
  if (/too many connections for role/.test(text)) {
    return {
      limit: 'role',
      what: `role "${spec.user}" is at its CONNECTION LIMIT`,
      fix: `raise it (ALTER ROLE ${ident(spec.user)} CONNECTION LIMIT <n>; -1 for none; see rolconnlimit in pg_roles), or ${POOLS}`,
    };
  }
  const reservedFor = /reserved for roles with privileges of the "([^"]{1,63})" role/.exec(text)?.[1];
  if (reservedFor !== undefined) {
    const role = scrubText(reservedFor);
    return {
      limit: 'reserved',
      what: `every slot but those reserved for roles with privileges of "${role}" (reserved_connections) is in use`,
      fix: `raise max_connections (a restart), or lower reserved_connections, or grant "${role}" to ${ident(spec.user)}, or ${POOLS}`,
    };
  }
  if (/remaining connection slots are reserved/.test(text)) {
    return {
      limit: 'reserved',
      what: 'every slot but those reserved for superusers (superuser_reserved_connections) is in use',
      fix: `raise max_connections (a restart), or lower superuser_reserved_connections, or ${POOLS}`,
    };
  }
  if (/too many clients already/.test(text)) {
    return { limit: 'max_connections', what: 'max_connections is reached', fix: `raise max_connections (a restart), or ${POOLS}` };
  }
  return { limit: 'unknown', what: `it says ${serverSaid(e)}`, fix: `raise the limit it names (max_connections, or a CONNECTION LIMIT of the database or role), or ${POOLS}` };
}

export interface Peer {
  /** `host:port` as written. */
  readonly name: string;
  readonly spec: PostgresSpec;
}

/** NotReady for an error the server sent, by its SQLSTATE. */
export function fromServer(e: ServerError, peer: Peer, tls: boolean, stage: Stage): NotReady {
  const { spec } = peer;
  const said = serverSaid(e);
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
    case '53300': {
      const limit = slotLimit(e, spec);
      const quoted = limit.limit === 'unknown' ? '' : ` (${said})`;
      return make('response', 'TOO_MANY_CONNECTIONS', `${peer.name} has no connection slot left for user "${spec.user}": ${limit.what}${quoted}; ${limit.fix}`);
    }
    default: {
      const severity = e.severity === undefined ? 'ERROR' : peerText(e.severity).slice(0, 16);
      return make(e.code.startsWith('28') ? 'auth' : stage, conditionName(e.code), `${peer.name} answered with SQLSTATE ${e.code} ${severity}: ${said}`);
    }
  }
}

/** The pgx rule for trying the next sslmode fallback: not after a wrong password, a missing database, ... */
function endsFallback(err: NotReady, tls: boolean): boolean {
  return err.sqlstate === '28P01' || err.sqlstate === '3D000' || err.sqlstate === '42501' || (err.sqlstate === '28000' && tls);
}

/**
 * The TLS options for the sslmodes that use TLS, as pgx sets them (see ownVerification). sslrootcert is the
 * only CA trusted (as pgx); without it, --ca-file's CA besides the defaults. Trust is the target's own:
 * --insecure-skip-verify (for https and rediss) never turns off what sslmode asks for, as libpq and pgx,
 * which have no such switch, never do; without a verifying sslmode there is nothing for it to turn off.
 */
export function tlsFor(spec: PostgresSpec, ctx: CheckContext): ConnectionOptions {
  const { createSecureContext, getCACertificates } = builtin('node:tls');
  const verify = ownVerification(spec) !== undefined;
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
    rejectUnauthorized: verify,
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

/**
 * Maps what a login met to NotReady: the server's error, the SSL request refused, what no PostgreSQL sends,
 * the wire, or else what pg said. (A peer whose first bytes are not PostgreSQL's is found in open(), at once.)
 */
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
  const unexpected = unexpectedError(err, o.peer, stage);
  if (unexpected) return unexpected;
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
  // The peer's first bytes say at once whether it speaks PostgreSQL: one that answers in another protocol and
  // keeps the connection open would otherwise hold the login until a timeout (pg waits for the rest of a
  // "message" whose length is four bytes of text). Watched before pg reads them; the login fails as soon as they
  // cannot be PostgreSQL's.
  const sslRequest = o.tls !== undefined;
  let reportForeign: (err: NotReady) => void = () => {};
  const foreign = new Promise<never>((_, reject) => (reportForeign = reject));
  foreign.catch(() => {});
  let first = Buffer.alloc(0);
  const judge = (chunk: Buffer) => {
    first = Buffer.concat([first, chunk]).subarray(0, 24);
    const verdict = firstReply(first, sslRequest);
    if (verdict === 'more') return;
    raw.off('data', judge);
    if (verdict === 'no') {
      reportForeign(notPostgres(o.peer.name, first, o.progress.stage));
      raw.destroy();
    }
  };
  raw.on('data', judge);
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
    await Promise.race([abortable(client.connect(), o.signal), foreign]);
  } catch (err) {
    raw.off('data', judge);
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
    throw unexpectedError(err, o.peer, 'response') ?? wireError(s.wire, 'response', o.peer.name, '') ?? classify(err, 'response', o.peer.name);
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

/**
 * Before core's first migration (no schema_migrations yet): whether the user may create the tables it will
 * create, in current_schema(). From PostgreSQL 15 only the database's owner may create in `public` (its owner
 * is pg_database_owner), so a user that does not own the database logs in and cannot migrate. Throws NotReady
 * (NO_CREATE_ON_SCHEMA, or NO_SCHEMA when no schema of the search_path can take them); the reason names the
 * GRANT or the change of owner that fixes it. Not asked for target_session_attrs read-only or standby: core
 * does not migrate there.
 */
export function checkSchema(state: Record<string, unknown>, peer: Peer): void {
  const { spec } = peer;
  if (spec.targetSessionAttrs === 'read-only' || spec.targetSessionAttrs === 'standby') return;
  const problem = schemaProblem(state, spec);
  if (problem) throw new NotReady('response', problem.code, `${problem.what}: ${problem.firstMigration}; ${problem.fix}`);
}

export interface SchemaProblem {
  readonly code: 'NO_SCHEMA' | 'NO_CREATE_ON_SCHEMA';
  /** What is wrong. */
  readonly what: string;
  /** What core's first migration would meet. */
  readonly firstMigration: string;
  /** The GRANT, owner change or schema that fixes it. */
  readonly fix: string;
}

/** What checkSchema finds wrong, or undefined. Shared with diagnose. */
export function schemaProblem(state: Record<string, unknown>, spec: PostgresSpec): SchemaProblem | undefined {
  const user = ident(spec.user);
  const database = ident(spec.database);
  if (typeof state.schema !== 'string') {
    const path = peerText(String(state.search_path ?? ''));
    return {
      code: 'NO_SCHEMA',
      what: `no schema of the search_path (${path}) exists that user "${spec.user}" may use in database "${spec.database}"`,
      firstMigration: `core's first migration would fail with "no schema has been selected to create in"`,
      fix: `as the database's owner or a superuser, connected to database "${spec.database}": CREATE SCHEMA ${user} AUTHORIZATION ${user} ("$user" comes first in the default search_path), or give the role a search_path whose first schema exists (ALTER ROLE ${user} SET search_path = ...)`,
    };
  }
  if (state.can_create === true) return undefined;
  const schema = peerText(state.schema);
  const dbOwner = typeof state.database_owner === 'string' ? ` (owned by "${scrubText(state.database_owner)}")` : '';
  const owner =
    state.schema_owner === 'pg_database_owner'
      ? `or make ${user} the database's owner, who owns this schema (its owner is pg_database_owner, as public's is from PostgreSQL 15): ALTER DATABASE ${database} OWNER TO ${user}`
      : `or make ${user} the schema's owner: ALTER SCHEMA ${ident(schema)} OWNER TO ${user}`;
  return {
    code: 'NO_CREATE_ON_SCHEMA',
    what: `user "${spec.user}" may not create tables in schema "${schema}" of database "${spec.database}"${dbOwner}`,
    firstMigration: "core's first migration creates its tables there (the first schema of the search_path) and would fail",
    fix: `as the database's owner or a superuser, connected to database "${spec.database}": GRANT USAGE, CREATE ON SCHEMA ${ident(schema)} TO ${user}; ${owner}`,
  };
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
        else checkSchema(state, peer);
        return { address: session.address, server: { version: String(state.version), primary: state.recovery !== true } };
      } finally {
        session.close();
      }
    },
  };
}
