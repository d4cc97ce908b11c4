/**
 * diagnose for Redis targets: how Harbor reads the URL; DNS, TCP and TLS to the server (or to each sentinel,
 * then to the master they name); the login as Harbor makes it (AUTH, SELECT); PING latency; and INFO read
 * one section per call (version and engine, role and master link, loading, last save, memory, clients,
 * rejected connections, evicted keys, error counts). Every command goes through the waiter's own
 * ioredis-over-dial() connection (check.ts), one bounded step at a time, and every connection is
 * closed on every path. A command of diagnose's own (INFO, CONFIG GET, ROLE) that the server refuses with
 * `unknown command` or NOPERM (a managed service, a restricted ACL user) makes its checks `skip`, never
 * `fail`; the commands Harbor itself sends (AUTH, SELECT, PING) fail when refused, as Harbor would.
 */
import type net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { hostPort, tlsOptions } from '../../net/dial.ts';
import type { NotReady, Stage } from '../../basics/errors.ts';
import { scrubText } from '../../basics/redact.ts';
import { describeReply, redisErrorCode, replyText, safeText } from './replies.ts';
import { EMPTY_PASSWORD_HINT, type RedisSpec } from './url.ts';
import { masterAddress, open, parseRoleReply, type Client, type Connection } from './check.ts';
import { ms, Report, failed, type Layer, type TargetReport } from '../../net/report.ts';
import { diagnoseDns } from '../../net/dns-findings.ts';
import { diagnoseTcp } from '../../net/tcp-findings.ts';
import { diagnoseTls, plainOnTls } from '../../net/tls-findings.ts';
import type { DiagnoseContext, DiagnosisReport } from '../types.ts';

/** How many PINGs the latency is measured over. */
const PING_SAMPLES = 5;

/** The checks read from INFO, by section, in the order they run. */
const INFO_CHECKS: ReadonlyArray<readonly [Layer, string, string]> = [
  ['server', 'version', 'server'],
  ['server', 'role', 'replication'],
  ['server', 'loading', 'persistence'],
  ['server', 'last save', 'persistence'],
  ['limits', 'memory', 'memory'],
  ['limits', 'clients', 'clients'],
  ['limits', 'rejected connections', 'stats'],
  ['limits', 'evicted keys', 'stats'],
  ['limits', 'errors', 'errorstats'],
];

/** The error counts that mean Harbor's own commands were refused, with what each says. */
const WATCHED_ERRORS: Record<string, string> = {
  OOM: 'writes refused at maxmemory',
  LOADING: 'commands refused while loading',
  MISCONF: 'writes refused after a failed save',
  READONLY: 'writes sent to a replica',
  NOAUTH: 'commands without the password',
  MASTERDOWN: 'a replica without its master',
};

/** What one command met: a reply, an error reply (the server's words), or a connection that failed. */
interface ErrorReply {
  readonly kind: 'error';
  readonly code: string;
  readonly message: string;
  readonly ms: number;
}
type Sent<T> =
  | { readonly kind: 'reply'; readonly value: T; readonly ms: number }
  | ErrorReply
  | { readonly kind: 'lost'; readonly error: NotReady; readonly ms: number };

/** A command a managed service or an ACL does not let this client run (skip, never fail). */
function refused(sent: ErrorReply): boolean {
  return sent.code === 'NOPERM' || /^ERR unknown (sub)?command/i.test(sent.message);
}

function refusal(command: string, sent: ErrorReply): string {
  const who = sent.code === 'NOPERM' ? 'this ACL user may not run it' : 'the server does not offer it (a managed service or a renamed command)';
  return `${command} was refused ("${sent.message}"): ${who}`;
}

/** One connection of the diagnosis, opened and used one step at a time. */
class Session {
  private conn: Connection | undefined;
  private head = Buffer.alloc(0);
  /** Why this connection cannot be used for further checks (it failed, or the login did), once it cannot. */
  unusable: string | undefined;
  private readonly r: DiagnosisReport;
  private readonly spec: RedisSpec;
  private readonly tls: Promise<ConnectionOptions> | undefined;
  readonly host: string;
  readonly port: number;
  /** How the peer is named: `127.0.0.1:6379`, `sentinel 10.0.0.1:26379`. */
  readonly peer: string;

  constructor(r: DiagnosisReport, spec: RedisSpec, tls: Promise<ConnectionOptions> | undefined, host: string, port: number, peer: string) {
    this.r = r;
    this.spec = spec;
    this.tls = tls;
    this.host = host;
    this.port = port;
    this.peer = peer;
  }

  /** Opens the connection (dial, TLS, ioredis); undefined when it opened, else the failure. */
  async open(): Promise<{ error: NotReady; ms: number } | undefined> {
    const keep = (socket: net.Socket) => {
      socket.on('data', (chunk: Buffer) => {
        if (this.head.length < 256) this.head = Buffer.concat([this.head, chunk]).subarray(0, 256);
      });
    };
    const step = await this.r.step(
      (signal, progress) => open({ host: this.host, port: this.port, peer: this.peer, spec: this.spec, ctx: this.r.ctx, tls: this.tls, signal, progress, onSocket: keep }),
      'connect',
    );
    if (step.ok) {
      this.conn = step.value;
      return undefined;
    }
    this.unusable = `the connection to ${this.peer} failed (${step.error.code})`;
    return { error: step.error, ms: step.ms };
  }

  /** The line a Redis at maxclients greets with before it closes, if that is what this server said first. */
  maxClients(): string | undefined {
    const text = this.head.toString('latin1');
    if (!text.startsWith('-ERR max number of clients')) return undefined;
    return replyText(text.split('\r\n', 1)[0] ?? text);
  }

  /** Sends one command in its own step; a connection that fails or times out is closed and unusable after. */
  async send<T>(name: string, stage: Stage, fn: (c: Client) => Promise<T>): Promise<Sent<T>> {
    const conn = this.conn;
    if (!conn) throw new Error(`${name} sent before the connection opened`);
    const step = await this.r.step(
      (signal, progress) =>
        conn.command(
          name,
          stage,
          async (c) => {
            try {
              return { reply: await fn(c), error: undefined };
            } catch (err) {
              // The server's own error reply: its words are the finding. Never its `command` (AUTH's arguments).
              if (err instanceof Error && err.name === 'ReplyError') return { reply: undefined, error: replyText(err.message) };
              throw err;
            }
          },
          { signal, progress },
        ),
      stage,
    );
    if (!step.ok) {
      this.unusable ??= `the connection to ${this.peer} failed during ${name} (${step.error.code})`;
      this.close();
      return { kind: 'lost', error: step.error, ms: step.ms };
    }
    const { reply, error } = step.value;
    if (error !== undefined) {
      return { kind: 'error', code: redisErrorCode(error), message: error, ms: step.ms };
    }
    return { kind: 'reply', value: reply as T, ms: step.ms };
  }

  close(): void {
    this.conn?.close();
    this.conn = undefined;
  }
}

/**
 * Parses one INFO section: `field:value` lines. The server's text enters the report here, so each value
 * that is not a plain number is scrubbed (and bounded) here.
 */
function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const value = line.slice(at + 1).trim();
    fields.set(line.slice(0, at), /^-?\d+(\.\d+)?$/.test(value) ? value : safeText(value));
  }
  return fields;
}

function num(fields: Map<string, string>, key: string): number | undefined {
  const text = fields.get(key);
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** A size for a report line: `512 B`, `1.0 MiB`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(1)} ${units[i]}`;
}

/** A number of seconds for a report line: `42 s`, `5 min`, `3 h`, `2 d`. */
function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86400)} d`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** How Harbor reads the URL, without the password. */
function urlFinding(r: DiagnosisReport, spec: RedisSpec): void {
  const scheme = `${spec.tls ? 'rediss' : 'redis'}${spec.sentinel ? '+sentinel' : ''}`;
  const transport = spec.tls ? (spec.skipVerify ? 'TLS, skip_verify=true: the certificate is not verified' : 'TLS') : 'plain text';
  const hosts = spec.hosts.map((h) => hostPort(h.host, h.port)).join(', ');
  const where = spec.sentinel ? `sentinels ${hosts}, master "${spec.masterName ?? ''}"` : hosts;
  const user = spec.username !== undefined ? `user ${spec.username}` : 'default user';
  const password =
    spec.password !== undefined
      ? `password given${spec.sentinel ? ' (for the master; none is sent to the sentinels)' : ''}`
      : spec.emptyPassword
        ? 'an empty password (no AUTH is sent, as Harbor\'s clients do)'
        : 'no password';
  r.ok('url', 'url', `${scheme} (${transport}), ${where}, db ${spec.db}, ${user}, ${password}`);
}

/** The TLS probe of one server, as the waiter's TLS options verify it. */
async function tlsLayer(r: DiagnosisReport, spec: RedisSpec, options: ConnectionOptions, host: string, address: string, port: number): Promise<boolean> {
  const { insecureSkipVerify } = r.ctx.tls;
  const reason = spec.skipVerify ? 'skip_verify=true in the URL' : insecureSkipVerify ? '--insecure-skip-verify' : undefined;
  const passed = await diagnoseTls(r, {
    host,
    address,
    port,
    options,
    verify: 'full',
    ...(reason !== undefined ? { reason } : {}),
    plainHint: `redis${spec.sentinel ? '+sentinel' : ''}://`,
  });
  return passed === true;
}

/** Runs `fn`, then names the findings it added `<name> (<tag>)`: one sentinel's or the master's DNS and TLS lines. */
async function tagged<T>(r: DiagnosisReport, tag: string | undefined, fn: () => Promise<T>): Promise<T> {
  const from = r.findings.length;
  const value = await fn();
  if (tag !== undefined) {
    for (let i = from; i < r.findings.length; i++) {
      const f = r.findings[i];
      if (f && (f.layer === 'dns' || f.layer === 'tls')) r.findings[i] = { ...f, name: `${f.name} (${tag})` };
    }
  }
  return value;
}

/** DNS, TCP and (for rediss) TLS to one server; the address to use, or why not (the findings say what failed). */
async function reach(
  r: DiagnosisReport,
  spec: RedisSpec,
  tls: Promise<ConnectionOptions> | undefined,
  host: string,
  port: number,
  tag: string | undefined,
): Promise<{ address: string } | { why: string }> {
  const addresses = await tagged(r, tag, () => diagnoseDns(r, host, spec.sentinel ? undefined : { tls: spec.tls }));
  if (!addresses) {
    r.skip('tcp', `connect ${hostPort(host, port)}`, hostPort(host, port), `${host} does not resolve`);
    return { why: `${host} does not resolve` };
  }
  const open = await diagnoseTcp(r, addresses, port);
  const first = open?.[0];
  if (first === undefined) return { why: `no address of ${hostPort(host, port)} accepted a TCP connection` };
  if (!tls) return { address: first };
  let options: ConnectionOptions;
  try {
    options = await tls;
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    r.fail('tls', 'options', `the TLS settings do not load: ${safeText(text.split('\n', 1)[0] ?? '')}`, 'check the files given with --ca-file, --cert-file and --key-file');
    return { why: 'the TLS settings do not load' };
  }
  const passed = await tagged(r, tag, () => tlsLayer(r, spec, options, host, first, port));
  if (!passed) return { why: `TLS to ${hostPort(host, port)} failed` };
  return { address: first };
}

/** Whether a failure of a plain connection could mean a TLS port. */
function maybeTlsPort(err: NotReady): boolean {
  return err.stage === 'timeout' || err.code.endsWith('TIMEOUT') || ['CONNECTION_CLOSED', 'ECONNRESET', 'NOT_REDIS'].includes(err.code);
}

/** A connection that failed before the server answered anything: the finding, and a TLS port reached in plain text. */
async function lostConnection(r: DiagnosisReport, s: Session, spec: RedisSpec, err: NotReady | undefined, took: number): Promise<void> {
  const said = s.maxClients();
  if (said !== undefined || err === undefined) {
    r.fail('auth', 'connection', `-${(said ?? '').replace(/^-/, '')}, then the server closed the connection`, 'the server is at maxclients: raise maxclients, or find the client that leaks connections (CLIENT LIST, by address and age)', took);
    s.unusable = 'the server is at maxclients and refuses new connections';
    return;
  }
  r.fail('auth', 'connection', failed(err), err.reason, took);
  if (!spec.tls && maybeTlsPort(err)) await plainOnTls(r, s.host, s.port, `rediss${spec.sentinel ? '+sentinel' : ''}://`);
}

/**
 * Opens the connection and logs in as Harbor does: AUTH when the URL gives a password (else the first PING,
 * which tells whether one is needed). Adds `connection` (on failure) and `auth`; returns the first PING's
 * result when it was sent here. Sets `s.unusable` when nothing more can be read.
 */
async function login(r: DiagnosisReport, s: Session, spec: RedisSpec): Promise<Sent<unknown> | undefined> {
  const opened = await s.open();
  if (opened) {
    await lostConnection(r, s, spec, opened.error, opened.ms);
    r.skip('auth', 'auth', spec.password !== undefined ? 'AUTH' : 'no password in the URL', s.unusable ?? '');
    return undefined;
  }
  const { username, password } = spec;
  const first =
    password !== undefined
      ? await s.send('AUTH', 'auth', (c) => (username !== undefined ? c.auth(username, password) : c.auth(password)))
      : await s.send('PING', 'response', (c) => c.ping());
  if (first.kind === 'lost' || s.maxClients() !== undefined) {
    s.close();
    await lostConnection(r, s, spec, first.kind === 'lost' ? first.error : undefined, first.ms);
    r.skip('auth', 'auth', password !== undefined ? 'AUTH' : 'no password in the URL', s.unusable ?? '');
    return undefined;
  }
  if (password === undefined) {
    if (first.kind === 'error' && (first.code === 'NOAUTH' || /^ERR operation not permitted/.test(first.message))) {
      const hint = spec.emptyPassword
        ? `the server requires a password, but the URL's is empty: ${EMPTY_PASSWORD_HINT}`
        : 'the server requires a password: write it in the URL, percent-encoded, as redis://:PASSWORD@host:port (or redis://USER:PASSWORD@host:port for an ACL user)';
      r.fail('auth', 'auth', `${spec.emptyPassword ? 'an empty password in the URL, so no AUTH' : 'no password in the URL'}; PING answered "${first.message}"`, hint, first.ms);
      s.unusable = 'the server requires a password (NOAUTH)';
      return undefined;
    }
    r.ok('auth', 'auth', `${spec.emptyPassword ? 'an empty password in the URL, so no AUTH (as Harbor)' : 'no password in the URL'}; the server requires none`, first.ms);
    return first;
  }
  const who = username !== undefined ? `as user ${username}` : 'as the default user';
  if (first.kind === 'reply') {
    r.ok('auth', 'auth', `AUTH accepted ${who}`, first.ms);
    return undefined;
  }
  if (refused(first)) {
    // A command Harbor itself sends: refused, Harbor fails (the skip rule is for diagnose's own reads).
    r.fail('auth', 'auth', `AUTH ${who}: "${first.message}"`, `${refusal('AUTH', first)}; Harbor sends AUTH when the URL has a password and fails on this reply`, first.ms);
    s.unusable = 'the login (AUTH) failed';
    return undefined;
  }
  const value = `AUTH ${who}: "${first.message}"`;
  if (first.code === 'WRONGPASS' || first.code === 'ERR' && /invalid (username-)?password/i.test(first.message)) {
    r.fail('auth', 'auth', value, `the server rejected the ${username !== undefined ? 'user name or password' : 'password'} in the URL: check the Secret it comes from (percent-encoded in the URL), and that the ACL user is "on"`, first.ms);
  } else if (/without any password configured|no password is set/i.test(first.message)) {
    r.fail('auth', 'auth', value, 'the server has no password (requirepass is unset) but the URL gives one, and Harbor fails on this reply too: remove the password from the URL, or set requirepass', first.ms);
  } else {
    r.fail('auth', 'auth', value, 'the server refused the login Harbor makes with this URL', first.ms);
  }
  s.unusable = 'the login (AUTH) failed';
  return undefined;
}

/** SELECT db, as Harbor sends it on every connection when db is not 0. */
async function selectDb(r: DiagnosisReport, s: Session, spec: RedisSpec): Promise<void> {
  if (spec.db === 0) return;
  if (s.unusable) {
    r.skip('auth', 'select', `SELECT ${spec.db}`, s.unusable);
    return;
  }
  const sent = await s.send('SELECT', 'response', (c) => c.select(spec.db));
  if (sent.kind === 'reply') r.ok('auth', 'select', `db ${spec.db} selected`, sent.ms);
  else if (sent.kind === 'lost') r.fail('auth', 'select', failed(sent.error), sent.error.reason, sent.ms);
  else if (refused(sent)) r.fail('auth', 'select', `SELECT ${spec.db}: "${sent.message}"`, `${refusal('SELECT', sent)}; Harbor sends SELECT ${spec.db} on every connection and fails on this reply: grant +select to this ACL user`, sent.ms);
  else {
    const hint = /out of range/i.test(sent.message)
      ? 'the server has fewer databases (the databases setting, 16 by default; a cluster-mode server has only db 0): use a db number it has'
      : 'Harbor sends SELECT on every connection and fails on this reply';
    r.fail('auth', 'select', `SELECT ${spec.db}: "${sent.message}"`, hint, sent.ms);
  }
}

const PING_HINTS: Record<string, string> = {
  LOADING: 'the server is loading its dataset (see loading): Harbor\'s commands fail with -LOADING until it is done (goharbor/harbor#14221)',
  MASTERDOWN: 'a replica whose link to its master is down, with replica-serve-stale-data no (see role): bring the master back or point the URL at the master',
  BUSY: 'a script or function has run too long: it has to end, or SCRIPT KILL / FUNCTION KILL stop it',
};

/** PING_SAMPLES PINGs (the first may have been sent by login): min / median / max, or what the server said instead. */
async function pingCheck(r: DiagnosisReport, s: Session, first: Sent<unknown> | undefined): Promise<void> {
  if (s.unusable) {
    r.skip('server', 'ping', 'PING', s.unusable);
    return;
  }
  const samples: number[] = [];
  let pending = first;
  for (let i = 0; i < PING_SAMPLES; i++) {
    const sent = pending ?? (await s.send('PING', 'response', (c) => c.ping()));
    pending = undefined;
    if (sent.kind === 'reply' && sent.value === 'PONG') {
      samples.push(sent.ms);
      continue;
    }
    if (sent.kind === 'lost') r.fail('server', 'ping', failed(sent.error), sent.error.reason, sent.ms);
    else if (sent.kind === 'reply') r.fail('server', 'ping', 'PING answered something other than PONG', 'this is not a Redis server as Harbor expects one: check the port', sent.ms);
    else if (refused(sent)) r.fail('server', 'ping', `-${sent.message}`, `${refusal('PING', sent)}; Harbor pings at start-up and fails on this reply: grant +ping to this ACL user`, sent.ms);
    else r.fail('server', 'ping', `-${sent.message}`, PING_HINTS[sent.code] ?? 'the server refuses PING: Harbor\'s health check and the waiter need PONG', sent.ms);
    return;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  r.ok('server', 'ping', `PONG; min ${ms(sorted[0] as number)}, median ${ms(median)}, max ${ms(sorted[sorted.length - 1] as number)} (${samples.length} samples)`, median);
}

/** One INFO section's fields, or why its checks skip. */
type Section = { readonly fields: Map<string, string> } | { readonly skip: string } | { readonly lost: NotReady; readonly ms: number };

async function readSection(s: Session, section: string): Promise<Section> {
  if (s.unusable) return { skip: s.unusable };
  const sent = await s.send('INFO', 'response', (c) => c.info(section));
  if (sent.kind === 'lost') return { lost: sent.error, ms: sent.ms };
  if (sent.kind === 'error') {
    return { skip: refused(sent) ? refusal(`INFO ${section}`, sent) : `INFO ${section} answered "${sent.message}"` };
  }
  return { fields: parseInfo(String(sent.value)) };
}

function versionCheck(r: DiagnosisReport, f: Map<string, string>, sentinelUrl: boolean): void {
  const valkey = f.get('server_name') === 'valkey' || f.has('valkey_version');
  const version = (valkey ? f.get('valkey_version') : undefined) ?? f.get('redis_version') ?? 'unknown';
  const compat = valkey && f.has('redis_version') ? `, redis_version ${f.get('redis_version')}` : '';
  const managed = /Amazon ElastiCache/i.test(f.get('os') ?? '') ? ' on Amazon ElastiCache' : '';
  const mode = f.get('server_mode') ?? f.get('redis_mode') ?? 'standalone';
  const uptime = num(f, 'uptime_in_seconds');
  const value = `${valkey ? 'Valkey' : 'Redis'} ${version}${managed} (${mode}${compat}${uptime !== undefined ? `; up ${age(uptime)}` : ''})`;
  if (mode === 'cluster') {
    r.fail('server', 'version', value, 'Harbor does not speak Redis Cluster (it follows no MOVED redirections): use a standalone server, Sentinel, or a cluster-mode-disabled ElastiCache replication group');
  } else if (mode === 'sentinel') {
    const hint = sentinelUrl
      ? 'the sentinels named a sentinel as the master: check the sentinel monitor lines'
      : 'this port is a Sentinel, not a Redis server: use redis+sentinel://HOST:PORT/MASTER-NAME, or the master\'s own port';
    r.fail('server', 'version', value, hint);
  } else r.ok('server', 'version', value);
}

function roleCheck(r: DiagnosisReport, f: Map<string, string>, sentinelUrl: boolean): void {
  const role = f.get('role');
  if (role === 'master') {
    const replicas = num(f, 'connected_slaves') ?? 0;
    r.ok('server', 'role', `master, ${plural(replicas, 'connected replica')}`);
    return;
  }
  if (role !== 'slave') {
    r.warn('server', 'role', `role ${role ?? 'unknown'}`, 'neither master nor replica: Harbor needs a master it can write to');
    return;
  }
  const master = hostPort(f.get('master_host') ?? '?', Number(f.get('master_port') ?? 0));
  const writes = sentinelUrl
    ? 'the sentinels name a replica as the master: their view is stale or a failover is under way; writes fail with -READONLY'
    : 'Harbor writes (sessions, cache, job queues) and a replica answers writes with -READONLY: the URL reaches a replica (a node endpoint after a failover, a stale DNS answer, or a kept connection); use the primary\'s endpoint, or redis+sentinel://';
  if (f.get('master_link_status') === 'down') {
    const since = num(f, 'master_link_down_since_seconds');
    const when = since === undefined ? '' : since < 0 ? ' (never connected)' : ` for ${age(since)}`;
    const sync = f.get('master_sync_in_progress') === '1' ? '; a sync is in progress' : '';
    r.fail('server', 'role', `replica of ${master}; master_link_status down${when}${sync}`, `the replica has lost its master: it serves stale data or answers -MASTERDOWN; check that ${master} is up and reachable from the replica. ${writes}`);
    return;
  }
  r.fail('server', 'role', `replica of ${master}; master_link_status ${f.get('master_link_status') ?? 'unknown'}`, writes);
}

/** The role check by ROLE, where INFO replication was refused (`infoSkip` says how); a warning when ROLE is refused too. */
async function roleByCommand(r: DiagnosisReport, s: Session, infoSkip: string): Promise<void> {
  const role = await s.send('ROLE', 'response', (c) => c.role() as Promise<unknown>);
  if (role.kind === 'lost') {
    r.fail('server', 'role', `ROLE: ${failed(role.error)}`, role.error.reason, role.ms);
    return;
  }
  if (role.kind === 'error') {
    r.warn('server', 'role', 'the role could not be confirmed', `${infoSkip}; ${refusal('ROLE', role)}: the waiter is ready with a warning; if this is a replica, Harbor's first write fails with -READONLY (grant +role or +info to this ACL user to have it checked)`, role.ms);
    return;
  }
  const parsed = parseRoleReply(role.value);
  const replica = 'Harbor writes (sessions, cache, job queues) and a replica answers writes with -READONLY: the URL reaches a replica (a node endpoint after a failover, a stale DNS answer, or a kept connection); use the primary\'s endpoint, or redis+sentinel://';
  if (parsed === undefined) {
    r.fail('server', 'role', `ROLE answered ${describeReply(role.value)}`, 'not a role (master, slave or sentinel): this is not a Redis server as Harbor expects one', role.ms);
  } else if (parsed.kind === 'master') {
    r.ok('server', 'role', 'master (by ROLE; INFO replication refused)', role.ms);
  } else if (parsed.kind === 'replica') {
    r.fail('server', 'role', `replica of ${parsed.of} (by ROLE: ${parsed.link})`, replica, role.ms);
  } else {
    r.fail('server', 'role', 'a Sentinel (by ROLE)', 'this port is a Sentinel, not a Redis server: use redis+sentinel://HOST:PORT/MASTER-NAME, or the master\'s own port', role.ms);
  }
}

function loadingCheck(r: DiagnosisReport, f: Map<string, string>): void {
  if (f.get('loading') === '1') {
    const perc = f.get('loading_loaded_perc');
    const total = num(f, 'loading_total_bytes');
    const eta = num(f, 'loading_eta_seconds');
    if (eta !== undefined) r.facts.loadingEtaSeconds = eta;
    const done = perc !== undefined ? `${Number(perc).toFixed(1)}% loaded` : 'progress unknown';
    const of = total !== undefined && total > 0 ? ` of ${bytes(total)}` : '';
    const left = eta !== undefined ? `, ETA ${age(eta)}` : '';
    r.fail('server', 'loading', `loading the dataset: ${done}${of}${left}`, 'the server answers -LOADING until the dataset is in memory (goharbor/harbor#14221): the waiter waits for it; a deadline shorter than the ETA gives up first');
    return;
  }
  if (f.get('async_loading') === '1') {
    r.warn('server', 'loading', 'async_loading: a new dataset loads while the old one is served', 'reads see the old data until the load is done');
    return;
  }
  r.ok('server', 'loading', f.has('loading') ? 'not loading' : 'no loading field (not loading)');
}

/** One setting by CONFIG GET (sent with `call`: CONFIG is not in the bundle's command table), or why it could not be read. */
async function configGet(s: Session, name: string): Promise<{ value: string } | { why: string }> {
  if (s.unusable) return { why: s.unusable };
  const sent = await s.send('CONFIG', 'response', (c) => c.call('CONFIG', 'GET', name));
  if (sent.kind === 'lost') return { why: `CONFIG GET ${name} failed: ${failed(sent.error)}` };
  if (sent.kind === 'error') return { why: refused(sent) ? refusal(`CONFIG GET ${name}`, sent) : `CONFIG GET ${name} answered "${sent.message}"` };
  const reply = sent.value;
  if (Array.isArray(reply) && reply.length === 2 && typeof reply[1] === 'string') return { value: safeText(reply[1]) };
  return { why: `CONFIG GET ${name} answered ${describeReply(reply)}` };
}

const SAVE_FIX = "check the data directory's free space and permissions (the server's log says why)";

/**
 * The last save, and whether it makes the server refuse writes, as Redis decides it
 * (server.c, writeCommandsDeniedByDiskError): a failed RDB save does only when save points are configured and
 * stop-writes-on-bgsave-error is yes; an AOF write error always does. Then writes, and PING, answer -MISCONF.
 * Those two settings are read with CONFIG GET only when the last RDB save failed.
 */
async function lastSaveCheck(r: DiagnosisReport, s: Session, f: Map<string, string>): Promise<void> {
  const rdb = f.get('rdb_last_bgsave_status') ?? 'unknown';
  const aofOn = f.get('aof_enabled') === '1';
  const aof = f.get('aof_last_write_status') ?? 'unknown';
  const value = `rdb_last_bgsave_status ${rdb}; ${aofOn ? `aof on, aof_last_write_status ${aof}` : 'aof off'}`;
  if (aofOn && aof === 'err') {
    r.fail('server', 'last save', value, `the last write to the AOF failed: writes, and PING, are refused with -MISCONF until it succeeds, so Harbor's commands fail; ${SAVE_FIX}`);
    return;
  }
  if (rdb !== 'err') {
    r.ok('server', 'last save', value);
    return;
  }
  const save = await configGet(s, 'save');
  const stop = 'value' in save && save.value !== '' ? await configGet(s, 'stop-writes-on-bgsave-error') : undefined;
  if (!('value' in save) || (stop && !('value' in stop))) {
    const why = 'why' in save ? save.why : stop && 'why' in stop ? stop.why : '';
    r.warn('server', 'last save', value, `the last RDB save failed; writes are refused with -MISCONF only when save points are configured and stop-writes-on-bgsave-error is yes (Redis's defaults), which cannot be read here (${why}): if PING answers -MISCONF, they are; ${SAVE_FIX}, then BGSAVE`);
    return;
  }
  if (save.value === '') {
    r.warn('server', 'last save', `${value}; no save points`, `the last RDB save (a BGSAVE, or a replica's full sync) failed; with no save points configured, writes are not refused (no -MISCONF), but a replica cannot sync this way; ${SAVE_FIX}, then BGSAVE`);
    return;
  }
  const points = `save "${save.value}"`;
  if (stop && 'value' in stop && stop.value === 'yes') {
    r.fail('server', 'last save', `${value}; ${points}, stop-writes-on-bgsave-error yes`, `writes, and PING, are refused with -MISCONF until a save succeeds, so Harbor's commands fail; ${SAVE_FIX}, then BGSAVE (or, to serve meanwhile, CONFIG SET stop-writes-on-bgsave-error no)`);
    return;
  }
  r.warn('server', 'last save', `${value}; ${points}, stop-writes-on-bgsave-error no`, `the last RDB save failed; writes are not refused (stop-writes-on-bgsave-error no), but no snapshot is being written; ${SAVE_FIX}, then BGSAVE`);
}

function memoryCheck(r: DiagnosisReport, f: Map<string, string>): void {
  const used = num(f, 'used_memory') ?? 0;
  const max = num(f, 'maxmemory') ?? 0;
  const policy = f.get('maxmemory_policy') ?? 'unknown';
  const frag = f.get('allocator_frag_ratio');
  const extra = frag !== undefined ? `; allocator_frag_ratio ${frag}` : '';
  if (max === 0) {
    r.ok('limits', 'memory', `${bytes(used)} used; no maxmemory limit (${policy})${extra}`);
    return;
  }
  const pct = Math.floor((used / max) * 100);
  const value = `${pct}% of ${bytes(max)} (${policy}); ${bytes(used)} used${extra}`;
  const volatile = policy.startsWith('volatile-');
  const blocks = policy === 'noeviction' || volatile;
  const volatileNote = volatile ? `; ${policy} evicts only keys with a TTL, so without TTLs it acts as noeviction (ElastiCache's default is volatile-lru)` : '';
  if (used >= max) {
    if (blocks) r.fail('limits', 'memory', value, `writes fail with -OOM: raise maxmemory or free memory${volatileNote}`);
    else r.warn('limits', 'memory', value, `at the limit, keys are evicted to make room (${policy}): Harbor's sessions and queued jobs are lost that way; raise maxmemory`);
  } else if (pct >= 90) {
    const then = blocks ? `at 100% writes fail with -OOM${volatileNote}` : `at 100% keys are evicted (${policy}), losing Harbor's sessions and queued jobs`;
    r.warn('limits', 'memory', value, `close to maxmemory: ${then}; raise maxmemory or free memory`);
  } else r.ok('limits', 'memory', value);
}

async function clientsCheck(r: DiagnosisReport, s: Session, f: Map<string, string>): Promise<void> {
  const connected = num(f, 'connected_clients') ?? 0;
  const blocked = num(f, 'blocked_clients') ?? 0;
  let max = num(f, 'maxclients');
  if (max === undefined) {
    // INFO has maxclients from Redis 6.2; before, only CONFIG GET, which managed services refuse.
    const why = s.unusable;
    const sent = why ? undefined : await s.send('CONFIG', 'response', (c) => c.call('CONFIG', 'GET', 'maxclients'));
    if (sent?.kind === 'reply' && Array.isArray(sent.value)) max = Number(sent.value[1]);
    if (max === undefined || !Number.isFinite(max)) {
      const because =
        sent === undefined ? (why ?? '') : sent.kind === 'error' ? (refused(sent) ? refusal('CONFIG GET maxclients', sent) : `CONFIG GET maxclients answered "${sent.message}"`) : sent.kind === 'lost' ? `CONFIG GET maxclients failed: ${failed(sent.error)}` : 'CONFIG GET maxclients gave no number';
      r.skip('limits', 'clients', `${connected} connected; maxclients unknown`, `INFO clients has no maxclients (Redis before 6.2) and ${because}`);
      return;
    }
  }
  const pct = Math.floor((connected / max) * 100);
  const value = `${connected} of ${max} (${pct}%, this connection included)${blocked > 0 ? `; ${blocked} blocked` : ''}`;
  if (pct >= 90) {
    r.warn('limits', 'clients', value, 'close to maxclients: new connections are refused with -ERR max number of clients reached; raise maxclients, or find the client that leaks connections (CLIENT LIST, by address and age)');
  } else r.ok('limits', 'clients', value);
}

function statsChecks(r: DiagnosisReport, f: Map<string, string>, uptime: number | undefined): void {
  const since = uptime !== undefined ? ` in ${age(uptime)} of uptime` : ' since start';
  const rejected = num(f, 'rejected_connections') ?? 0;
  if (rejected > 0) {
    r.warn('limits', 'rejected connections', `${rejected}${since}`, 'the server refused connections at maxclients: raise maxclients, or find the client that holds too many (CLIENT LIST)');
  } else r.ok('limits', 'rejected connections', `0${since}`);
  const evicted = num(f, 'evicted_keys') ?? 0;
  if (evicted > 0) {
    r.warn('limits', 'evicted keys', `${evicted}${since}`, 'keys were evicted at maxmemory: Harbor\'s sessions and job queues (jobservice) may have been lost; raise maxmemory');
  } else r.ok('limits', 'evicted keys', `0${since}`);
}

function errorsCheck(r: DiagnosisReport, f: Map<string, string>, total: number | undefined): void {
  const counts: Array<[string, number]> = [];
  for (const [key, text] of f) {
    if (!key.startsWith('errorstat_')) continue;
    const n = Number(/count=(\d+)/.exec(text)?.[1] ?? NaN);
    if (Number.isFinite(n)) counts.push([key.slice('errorstat_'.length), n]);
  }
  counts.sort((a, b) => b[1] - a[1]);
  if (counts.length === 0 && total === undefined) {
    r.skip('limits', 'errors', 'INFO errorstats', 'this server keeps no error statistics (INFO errorstats is Redis 6.2+)');
    return;
  }
  const all = total ?? counts.reduce((sum, [, n]) => sum + n, 0);
  const watched = counts.filter(([code, n]) => WATCHED_ERRORS[code] !== undefined && n > 0);
  const replies = `${plural(all, 'error reply', 'error replies')} since start`;
  if (watched.length > 0) {
    const list = watched.map(([code, n]) => `${code} ${n}`).join(', ');
    const what = watched.map(([code]) => `${code}: ${WATCHED_ERRORS[code] ?? ''}`).join('; ');
    r.warn('limits', 'errors', `${list} (of ${replies})`, `clients met replies that fail Harbor's commands (${what}); counted since start, CONFIG RESETSTAT resets them`);
    return;
  }
  const top = counts.slice(0, 5).map(([code, n]) => `${code} ${n}`).join(', ');
  r.ok('limits', 'errors', all === 0 ? 'no error replies since start' : `${replies}${top ? `: ${top}` : ''}`);
}

/** Every INFO-based check, one section per INFO call (several sections in one call need Redis 7). */
async function infoChecks(r: DiagnosisReport, s: Session, sentinelUrl: boolean): Promise<void> {
  const cache = new Map<string, Section>();
  const section = async (name: string): Promise<Section> => {
    let got = cache.get(name);
    if (!got) {
      got = await readSection(s, name);
      cache.set(name, got);
    }
    return got;
  };
  let uptime: number | undefined;
  let notServer: string | undefined;
  for (const [layer, name, from] of INFO_CHECKS) {
    if (notServer !== undefined) {
      r.skip(layer, name, `INFO ${from}`, notServer);
      continue;
    }
    const got = await section(from);
    if ('lost' in got) {
      // The first check of a section whose INFO met a broken connection fails; the rest skip.
      r.fail(layer, name, `INFO ${from}: ${failed(got.lost)}`, got.lost.reason, got.ms);
      cache.set(from, { skip: s.unusable ?? `INFO ${from} failed` });
      continue;
    }
    if ('skip' in got) {
      // Where INFO replication is refused, ROLE says the role, as the waiter reads it.
      if (name === 'role' && !sentinelUrl && !s.unusable) await roleByCommand(r, s, got.skip);
      else r.skip(layer, name, `INFO ${from}`, got.skip);
      continue;
    }
    const f = got.fields;
    switch (name) {
      case 'version':
        uptime = num(f, 'uptime_in_seconds');
        versionCheck(r, f, sentinelUrl);
        if ((f.get('server_mode') ?? f.get('redis_mode')) === 'sentinel') notServer = 'the server is a Sentinel, which keeps no data';
        break;
      case 'role':
        roleCheck(r, f, sentinelUrl);
        break;
      case 'loading':
        loadingCheck(r, f);
        break;
      case 'last save':
        await lastSaveCheck(r, s, f);
        break;
      case 'memory':
        memoryCheck(r, f);
        break;
      case 'clients':
        await clientsCheck(r, s, f);
        break;
      case 'rejected connections':
        statsChecks(r, f, uptime);
        break;
      case 'evicted keys':
        break; // with rejected connections: one INFO stats
      case 'errors': {
        const stats = cache.get('stats');
        errorsCheck(r, f, stats && 'fields' in stats ? num(stats.fields, 'total_error_replies') : undefined);
        break;
      }
    }
  }
}

/** The Redis layers on one server: login, SELECT, PING, INFO; `middle` runs between AUTH and SELECT (the master's ROLE). */
async function serverChecks(r: DiagnosisReport, s: Session, spec: RedisSpec, middle?: () => Promise<void>): Promise<void> {
  const first = await login(r, s, spec);
  await middle?.();
  await selectDb(r, s, spec);
  await pingCheck(r, s, first);
  await infoChecks(r, s, spec.sentinel);
}

/** Every check after TCP / TLS, skipped for `why`. */
function skipServer(r: DiagnosisReport, spec: RedisSpec, why: string): void {
  r.skip('auth', 'auth', spec.password !== undefined ? 'AUTH' : 'no password in the URL', why);
  if (spec.sentinel) r.skip('server', 'master role', 'ROLE', why);
  if (spec.db !== 0) r.skip('auth', 'select', `SELECT ${spec.db}`, why);
  r.skip('server', 'ping', 'PING', why);
  for (const [layer, name, from] of INFO_CHECKS) r.skip(layer, name, `INFO ${from}`, why);
}

async function direct(r: DiagnosisReport, spec: RedisSpec, tls: Promise<ConnectionOptions> | undefined): Promise<void> {
  const { host, port } = spec.hosts[0] as { host: string; port: number };
  const reached = await reach(r, spec, tls, host, port, undefined);
  if ('why' in reached) {
    skipServer(r, spec, reached.why);
    return;
  }
  const s = new Session(r, spec, tls, host, port, hostPort(host, port));
  try {
    await serverChecks(r, s, spec);
  } finally {
    s.close();
  }
}

/** What one sentinel said about the master. */
interface SentinelView {
  readonly peer: string;
  /** The master's address, when this sentinel gave one. */
  readonly master?: { host: string; port: number };
  /** Why it gave none: the finding's value and hint. */
  readonly problem?: { value: string; hint: string; unknown: boolean };
  /** Why it was not asked at all (DNS, TCP or TLS failed, and said so). */
  readonly skipped?: string;
  /** From INFO sentinel: this master's line, and TILT. */
  readonly status?: string;
  readonly replicas?: number;
  readonly sentinels?: number;
  readonly tilt?: boolean;
  readonly monitored?: readonly string[];
  readonly quorum?: Sent<unknown>;
}

async function askSentinel(r: DiagnosisReport, spec: RedisSpec, tls: Promise<ConnectionOptions> | undefined, host: string, port: number): Promise<SentinelView> {
  const name = spec.masterName as string;
  const peer = hostPort(host, port);
  const s = new Session(r, spec, tls, host, port, `sentinel ${peer}`);
  try {
    const opened = await s.open();
    if (opened) return { peer, problem: { value: failed(opened.error), hint: opened.error.reason, unknown: false } };
    const addr = await s.send('SENTINEL', 'response', (c) => c.call('SENTINEL', 'get-master-addr-by-name', name));
    const said = s.maxClients();
    if (said !== undefined) {
      return { peer, problem: { value: `-${said.replace(/^-/, '')}, then the sentinel closed the connection`, hint: 'the sentinel is at maxclients: raise its maxclients, or find the client that leaks connections to it', unknown: false } };
    }
    if (addr.kind === 'lost') return { peer, problem: { value: failed(addr.error), hint: addr.error.reason, unknown: false } };
    if (addr.kind === 'error') {
      const hint = refused(addr) && addr.code !== 'NOPERM' ? 'this port is not a Sentinel (a Redis server?): use redis:// for a server, or the sentinels\' port (26379 by default)' : 'Harbor asks the sentinels SENTINEL get-master-addr-by-name and fails on this reply';
      return { peer, problem: { value: `SENTINEL get-master-addr-by-name: "${addr.message}"`, hint, unknown: false } };
    }
    const info = await s.send('INFO', 'response', (c) => c.info('sentinel'));
    const fields = info.kind === 'reply' ? parseInfo(String(info.value)) : new Map<string, string>();
    const monitored: string[] = [];
    let line: Map<string, string> | undefined;
    for (const [key, text] of fields) {
      if (!/^master\d+$/.test(key)) continue;
      const parts = new Map(text.split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as [string, string]));
      monitored.push(parts.get('name') ?? '?');
      if (parts.get('name') === name) line = parts;
    }
    const extra = {
      ...(line?.get('status') !== undefined ? { status: line.get('status') as string } : {}),
      ...(line?.get('slaves') !== undefined ? { replicas: Number(line.get('slaves')) } : {}),
      ...(line?.get('sentinels') !== undefined ? { sentinels: Number(line.get('sentinels')) } : {}),
      ...(fields.has('sentinel_tilt') ? { tilt: fields.get('sentinel_tilt') === '1' } : {}),
      monitored,
    };
    const reply = addr.value;
    if (reply === null) {
      const names = monitored.length > 0 ? `it monitors ${monitored.map((m) => `"${m}"`).join(', ')}` : 'it monitors no master';
      return { peer, ...extra, problem: { value: `knows no master named "${name}"`, hint: `${names}: check the master name in the URL's path (redis+sentinel://host:26379/NAME)`, unknown: true } };
    }
    const master = masterAddress(reply);
    if (!master) {
      return { peer, ...extra, problem: { value: `SENTINEL get-master-addr-by-name answered ${describeReply(reply)}`, hint: `UNEXPECTED_REPLY: not the address of master "${name}" (a host and a port 1-65535); Harbor cannot connect to what this sentinel names`, unknown: false } };
    }
    const quorum = s.unusable ? undefined : await s.send('SENTINEL', 'response', (c) => c.call('SENTINEL', 'ckquorum', name));
    return { peer, master, ...extra, ...(quorum ? { quorum } : {}) };
  } finally {
    s.close();
  }
}

/** One finding per sentinel: its view of the master; a warning where they disagree. */
function sentinelFindings(r: DiagnosisReport, spec: RedisSpec, views: readonly SentinelView[], chosen: { host: string; port: number } | undefined): void {
  const anyKnows = chosen !== undefined;
  for (const v of views) {
    const name = `sentinel ${v.peer}`;
    if (v.skipped !== undefined) {
      r.skip('server', name, `SENTINEL get-master-addr-by-name ${spec.masterName ?? ''}`, v.skipped);
      continue;
    }
    if (v.problem) {
      if (v.problem.unknown && anyKnows) r.warn('server', name, v.problem.value, `${v.problem.hint}; the other sentinels know it`);
      else r.fail('server', name, v.problem.value, v.problem.hint);
      continue;
    }
    const master = v.master as { host: string; port: number };
    const at = scrubText(hostPort(master.host, master.port));
    const details = [
      v.status !== undefined ? `status ${v.status}` : 'INFO sentinel not read',
      ...(v.replicas !== undefined ? [plural(v.replicas, 'replica')] : []),
      ...(v.sentinels !== undefined ? [plural(v.sentinels, 'sentinel')] : []),
      ...(v.tilt ? ['TILT'] : []),
    ].join(', ');
    const value = `master "${spec.masterName ?? ''}" at ${at} (${details})`;
    if (chosen && (chosen.host !== master.host || chosen.port !== master.port)) {
      r.warn('server', name, value, `the sentinels disagree: the first to answer (whom Harbor asks first) says ${scrubText(hostPort(chosen.host, chosen.port))}: a failover is under way, or this sentinel is cut off or stale`);
    } else if (v.status === 'odown') {
      r.fail('server', name, value, 'the sentinels agree the master is down (odown): a failover should follow; if none does, check quorum and the replicas');
    } else if (v.status === 'sdown') {
      r.warn('server', name, value, 'this sentinel cannot reach the master (sdown): check the network between them');
    } else if (v.tilt) {
      r.warn('server', name, value, 'the sentinel is in TILT mode (its clock jumped or it stalled): it acts on nothing for 30 s');
    } else r.ok('server', name, value);
  }
}

function quorumFinding(r: DiagnosisReport, spec: RedisSpec, views: readonly SentinelView[]): void {
  const v = views.find((x) => x.quorum !== undefined);
  const command = `SENTINEL CKQUORUM ${spec.masterName ?? ''}`;
  const q = v?.quorum;
  if (!v || !q) {
    r.skip('server', 'quorum', command, 'no sentinel gave the master\'s address');
    return;
  }
  const from = ` (asked sentinel ${v.peer})`;
  if (q.kind === 'reply') r.ok('server', 'quorum', `${typeof q.value === 'string' ? safeText(q.value) : describeReply(q.value)}${from}`, q.ms);
  else if (q.kind === 'lost') r.fail('server', 'quorum', failed(q.error), q.error.reason, q.ms);
  else if (refused(q)) r.skip('server', 'quorum', command, refusal(command, q));
  else if (q.code === 'NOQUORUM') {
    r.fail('server', 'quorum', `${q.message}${from}`, 'the sentinels cannot authorize a failover: if the master fails, no replica is promoted; run more sentinels (a majority must reach each other) or lower the quorum in "sentinel monitor"', q.ms);
  } else r.fail('server', 'quorum', `${q.message}${from}`, 'the sentinel cannot confirm a quorum for this master', q.ms);
}

async function viaSentinels(r: DiagnosisReport, spec: RedisSpec, tls: Promise<ConnectionOptions> | undefined): Promise<void> {
  const views: SentinelView[] = [];
  for (const { host, port } of spec.hosts) {
    const peer = hostPort(host, port);
    const reached = await reach(r, spec, tls, host, port, `sentinel ${peer}`);
    if ('why' in reached) {
      views.push({ peer, skipped: reached.why });
      continue;
    }
    views.push(await askSentinel(r, spec, tls, host, port));
  }
  const chosen = views.find((v) => v.master)?.master;
  sentinelFindings(r, spec, views, chosen);
  quorumFinding(r, spec, views);
  if (!chosen) {
    skipServer(r, spec, `no sentinel gave the address of master "${spec.masterName ?? ''}"`);
    return;
  }
  const reached = await reach(r, spec, tls, chosen.host, chosen.port, 'master');
  if ('why' in reached) {
    skipServer(r, spec, reached.why);
    return;
  }
  const peer = scrubText(hostPort(chosen.host, chosen.port));
  const s = new Session(r, spec, tls, chosen.host, chosen.port, `master "${spec.masterName ?? ''}" at ${peer}`);
  try {
    await serverChecks(r, s, spec, async () => {
      if (s.unusable) {
        r.skip('server', 'master role', 'ROLE', s.unusable);
        return;
      }
      const role = await s.send('ROLE', 'response', (c) => c.role() as Promise<unknown>);
      if (role.kind === 'lost') r.fail('server', 'master role', failed(role.error), role.error.reason, role.ms);
      else if (role.kind === 'error') {
        if (refused(role)) r.skip('server', 'master role', 'ROLE', `${refusal('ROLE', role)}; the role check below reads INFO replication instead`);
        else r.fail('server', 'master role', `ROLE: "${role.message}"`, 'the server the sentinels name does not answer ROLE as a master', role.ms);
      } else {
        const parsed = parseRoleReply(role.value);
        const reply = role.value as unknown[];
        if (parsed === undefined) {
          r.fail('server', 'master role', `ROLE answered ${describeReply(role.value)}`, 'UNEXPECTED_REPLY: not a role (master, slave or sentinel): the server the sentinels name is not a Redis server as Harbor expects one', role.ms);
        } else if (parsed.kind === 'master') {
          const replicas = Array.isArray(reply[2]) ? reply[2].length : 0;
          r.ok('server', 'master role', `${peer} is a master (${plural(replicas, 'replica')})`, role.ms);
        } else {
          const what = parsed.kind === 'replica' ? `a replica of ${parsed.of} (${parsed.link})` : 'a Sentinel';
          r.fail('server', 'master role', `${peer} is ${what}`, 'the sentinels name a server that is not a master: their view is stale, or a failover is under way; Harbor\'s writes would fail with -READONLY', role.ms);
        }
      }
    });
  } finally {
    s.close();
  }
}

export async function diagnoseRedis(label: string, spec: RedisSpec, ctx: DiagnoseContext): Promise<TargetReport> {
  const r = new Report(label, ctx);
  urlFinding(r, spec);
  const tls = spec.tls ? tlsOptions(ctx.tls, spec.skipVerify) : undefined;
  tls?.catch(() => {}); // a failure is reported where it is awaited
  if (spec.sentinel) await viaSentinels(r, spec, tls);
  else await direct(r, spec, tls);
  return r.result();
}
