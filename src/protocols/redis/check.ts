/**
 * Redis readiness as Harbor sees it: connect (TLS for rediss, verified), AUTH when a non-empty password is
 * given, SELECT when db ≠ 0, PING answered PONG, and the server a master (ROLE, or INFO replication where
 * ROLE is refused): Harbor writes, and a replica answers its first write with READONLY. Sentinel: ask the
 * sentinels in order for the master, confirm its role the same way, then the same. Every command goes through ioredis, over a socket that dial()
 * opened (ioredis's `Connector` option), so DNS, TCP and TLS have the same stages, codes and address as
 * every other target. ioredis's reconnects, offline queue, ready check, client-info commands and
 * per-request retries are off: only the waiter decides when to try again, and each attempt closes the
 * clients it made on every path.
 *
 * This module is imported only when a Redis target is configured (target.ts), so a run without one
 * never loads ioredis. It imports ioredis's Redis class from its own file rather than the package index,
 * which would also load its Cluster client and streams (scripts/stubs.ts lists what the bundle leaves out).
 */
import type net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';
import AbstractConnectorModule from 'ioredis/built/connectors/AbstractConnector.js';
import RedisModule from 'ioredis/built/Redis.js';
import { abortable } from '../../basics/abort.ts';
import { builtin } from '../../basics/builtin.ts';
import { dial, hostPort, tlsOptions, watchWire, wireError, type Wire } from '../../net/dial.ts';
import { NotReady, preview, type Stage, type Progress } from '../../basics/errors.ts';
import { scrubText } from '../../basics/redact.ts';
import { describeReply, redisErrorCode, replyText, safeText } from './replies.ts';
import { EMPTY_PASSWORD_HINT, type RedisSpec } from './url.ts';
import { hostProblem } from '../url.ts';
import { loaded } from '../../basics/libraries.ts';
import type { Check, CheckContext, Ready } from '../types.ts';
import { classify } from '../../net/classify.ts';

loaded('ioredis');

/**
 * A class that a CommonJS file exports as `exports.default`. Node (and esbuild, following it) hands an ES
 * import the whole `module.exports`; vitest's interop hands over `exports.default` itself.
 */
function defaultClass<T>(m: { default: T } | T): T {
  return typeof m === 'function' ? (m as T) : (m as { default: T }).default;
}
const Redis = defaultClass(RedisModule);
const AbstractConnector = defaultClass(AbstractConnectorModule);
export type Client = InstanceType<typeof Redis>;

/** Replies to AUTH, SELECT, PING, ROLE and SENTINEL are small; a peer sending more is not a Redis to wait for. */
const MAX_REPLY_BYTES = 1 << 20;

/** Reasons for the replies that mean "not ready"; anything else quotes the server's first line. */
const REPLY_REASONS: Record<string, string> = {
  LOADING: 'is loading its dataset into memory',
  BUSY: 'is busy running a script or function',
  MASTERDOWN: "is a replica whose link to its master is down",
  NOAUTH: 'requires a password, but the URL gives none (write it as redis://:PASSWORD@host)',
  WRONGPASS: 'rejected the user name or password in the URL',
  NOPERM: 'refused the command for this ACL user',
  TRYAGAIN: 'asked to try again',
  CLUSTERDOWN: 'reports its cluster down',
  MISCONF:
    "refuses writes, and PING, because its last save to disk failed (save points with stop-writes-on-bgsave-error, or an AOF write error): Harbor's writes would fail too; check the data directory's free space and permissions (the server's log says why)",
  DENIED:
    'is in protected mode (no password set, not bound to this interface) and refuses clients from other hosts: set a password (and give it in the URL), or protected-mode no',
  OOM: 'is at maxmemory and refuses the command',
};

/**
 * ioredis as a one-connection client that never acts on its own: no reconnect, no queue, no ready check
 * (INFO), no CLIENT SETINFO, RESP2 (AUTH, SELECT and PING as Harbor sends them, no HELLO), and no command
 * retried. `lazyConnect`, so nothing happens until the attempt calls connect().
 */
const CLIENT_OPTIONS: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  enableReadyCheck: false,
  enableAutoPipelining: false,
  autoResubscribe: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
  reconnectOnError: () => false,
  disableClientInfo: true,
  protocol: 2,
  connectTimeout: 0,
};

export interface Connection {
  readonly address: string;
  /**
   * Sends one command through ioredis and returns its reply; a failure becomes NotReady for `stage`. `bound`
   * bounds it by another signal than the one the connection was opened with (diagnose: one per step).
   */
  command<T>(name: string, stage: Stage, send: (client: Client) => Promise<T>, bound?: { signal: AbortSignal; progress: Progress }): Promise<T>;
  close(): void;
}

export interface OpenOptions {
  readonly host: string;
  readonly port: number;
  /** How the peer is named in reasons, e.g. `sentinel 10.0.0.1:26379`. */
  readonly peer: string;
  readonly spec: RedisSpec;
  readonly ctx: CheckContext;
  /** For rediss: the TLS options, built once per check. */
  readonly tls: Promise<ConnectionOptions> | undefined;
  readonly signal: AbortSignal;
  readonly progress: Progress;
  /** Called with the dialed socket before ioredis reads it (diagnose reads the server's greeting beside it). */
  readonly onSocket?: (socket: net.Socket) => void;
}

/** Opens one connection through ioredis: dial() hands it the socket, ioredis speaks RESP on it. */
export async function open(o: OpenOptions): Promise<Connection> {
  let address = '';
  let wire: Wire | undefined;
  const dialOptions = { host: o.host, port: o.port, tls: await o.tls, lookup: o.ctx.lookup, signal: o.signal, progress: o.progress };
  class Connector extends AbstractConnector {
    constructor() {
      super(0);
    }
    override async connect() {
      this.connecting = true;
      const dialed = await dial(dialOptions);
      address = dialed.address;
      wire = watchWire(dialed.socket, MAX_REPLY_BYTES);
      o.onSocket?.(dialed.socket);
      this.stream = dialed.socket;
      return dialed.socket;
    }
    // At once: an attempt that is over has nothing more to say to the server.
    override disconnect(): void {
      this.connecting = false;
      this.stream?.destroy();
    }
  }
  const client = new Redis({ ...CLIENT_OPTIONS, Connector });
  // Every failure reaches the attempt through the call that met it; the event would only be printed.
  client.on('error', () => {});
  const close = () => client.disconnect();
  try {
    await abortable(client.connect(), o.signal);
  } catch (err) {
    close();
    if (o.signal.aborted) throw o.signal.reason;
    // Before the hand-over, dial() has said what failed; after it, the connection was lost on the way to ready.
    if (!wire) throw classify(err, o.progress.stage, o.peer);
    throw replyError(err, wire, o.progress.stage, o.peer, 'the connection', o.spec);
  }
  return {
    address,
    async command(name, stage, send, bound) {
      const signal = bound?.signal ?? o.signal;
      (bound?.progress ?? o.progress).stage = stage;
      try {
        return await abortable(send(client), signal);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw replyError(err, wire as Wire, stage, o.peer, name, o.spec);
      }
    },
    close,
  };
}

/**
 * Maps what a command met to NotReady, by what is known for certain: an error reply from the server (its
 * code from Redis's own closed list, replies.ts), the wire cut off for size, the socket's own error or
 * the peer gone (wireError), or else a reply ioredis could not parse. Never includes command arguments; the
 * server's words are scrubbed before they enter the reason.
 */
function replyError(err: unknown, wire: Wire, stage: Stage, peer: string, command: string, spec: RedisSpec): NotReady {
  const hint = spec.tls ? '' : ' (if that port speaks TLS, use rediss://)';
  if (err instanceof Error && err.name === 'ReplyError') return errorReply(err, stage, peer, command, spec);
  if (wire.tooLarge) {
    return new NotReady(stage, 'REPLY_TOO_LARGE', `${peer} sent more than ${MAX_REPLY_BYTES} bytes without finishing a reply`);
  }
  return wireError(wire, stage, peer, hint) ?? new NotReady(stage, 'NOT_REDIS', `${peer} answered with something that is not a Redis reply, beginning "${scrubText(preview(wire.head))}"${hint}`);
}

/** An error reply as NotReady: its code from the closed list, a reason of ours for the known ones, else the server's first line. */
function errorReply(err: Error, stage: Stage, peer: string, command: string, spec: RedisSpec): NotReady {
  const code = redisErrorCode(err.message);
  const known = REPLY_REASONS[code];
  let reason = known ? `${peer} ${known}` : `${peer} answered ${command} with "${replyText(err.message)}"`;
  if (code === 'NOAUTH' && spec.emptyPassword) {
    reason = `${peer} requires a password, but the URL's password is empty, so none was sent: ${EMPTY_PASSWORD_HINT}`;
  }
  return new NotReady(code === 'WRONGPASS' || code === 'NOAUTH' ? 'auth' : stage, code, reason);
}

/** AUTH, when the URL gives a (non-empty) password, as Harbor's clients send it. */
async function login(conn: Connection, spec: RedisSpec): Promise<void> {
  const { username, password } = spec;
  if (password !== undefined) {
    await conn.command('AUTH', 'auth', (c) => (username ? c.auth(username, password) : c.auth(password)));
  }
}

/** SELECT (db ≠ 0) and PING, as Harbor sends them on every connection. */
async function selectAndPing(conn: Connection, spec: RedisSpec, peer: string): Promise<void> {
  if (spec.db !== 0) await conn.command('SELECT', 'response', (c) => c.select(spec.db));
  const pong: unknown = await conn.command('PING', 'response', (c) => c.ping());
  if (pong !== 'PONG') {
    throw new NotReady('response', 'UNEXPECTED_REPLY', `${peer} answered PING with ${describeReply(pong)}, not PONG`);
  }
}

/** What a server is, by ROLE or INFO replication. `of` and `link` are the replica's master and link state. */
export type Role = { readonly kind: 'master' } | { readonly kind: 'replica'; readonly of: string; readonly link: string } | { readonly kind: 'sentinel' };

/** A ROLE reply (`["master", offset, [...]]`, `["slave", host, port, state, offset]`, `["sentinel", [...]]`); undefined for any other shape. */
export function parseRoleReply(reply: unknown): Role | undefined {
  if (!Array.isArray(reply) || reply.length === 0) return undefined;
  const [kind, host, port, state] = reply as unknown[];
  if (kind === 'master' || kind === 'sentinel') return { kind };
  if (kind !== 'slave' && kind !== 'replica') return undefined;
  const at = typeof host === 'string' && host !== '' ? hostPort(safeText(host, 100), Number(port)) : 'an unknown master';
  return { kind: 'replica', of: at, link: typeof state === 'string' ? safeText(state, 20) : 'unknown' };
}

/** The role in an INFO replication reply (`role:master`, `role:slave` with `master_host`, ...); undefined without one. */
export function parseInfoRole(reply: unknown): Role | undefined {
  if (typeof reply !== 'string') return undefined;
  const field = (name: string) => new RegExp(`^${name}:(.*?)\\r?$`, 'm').exec(reply)?.[1];
  const role = field('role');
  if (role === 'master') return { kind: 'master' };
  if (role !== 'slave') return undefined;
  const host = field('master_host');
  const at = host ? hostPort(safeText(host, 100), Number(field('master_port'))) : 'an unknown master';
  return { kind: 'replica', of: at, link: safeText(field('master_link_status') ?? 'unknown', 20) };
}

/** Error replies that say what state the server is in (not ready), rather than that it refuses a command. */
const STATE_CODES: ReadonlySet<string> = new Set(['LOADING', 'BUSY', 'MASTERDOWN', 'NOAUTH', 'WRONGPASS', 'MISCONF', 'TRYAGAIN', 'CLUSTERDOWN', 'DENIED']);

/**
 * Sends a command of harbor-wait's own (ROLE, INFO), which Harbor never sends: its reply, or the server's words
 * when it refuses it (a renamed command, an ACL without it, a proxy that does not offer it). An error reply
 * about the server's state is NotReady like any other.
 */
async function own(conn: Connection, name: string, peer: string, spec: RedisSpec, send: (c: Client) => Promise<unknown>): Promise<{ reply: unknown } | { refused: string }> {
  const got = await conn.command(name, 'response', async (c): Promise<{ reply: unknown } | { error: Error }> => {
    try {
      return { reply: await send(c) };
    } catch (err) {
      if (err instanceof Error && err.name === 'ReplyError') return { error: err };
      throw err;
    }
  });
  if ('reply' in got) return { reply: got.reply };
  if (STATE_CODES.has(redisErrorCode(got.error.message))) throw errorReply(got.error, 'response', peer, name, spec);
  return { refused: replyText(got.error.message) };
}

/**
 * The server's role, by ROLE or, where ROLE is refused, INFO replication; a reply of another shape is
 * UNEXPECTED_REPLY quoting it. Undefined `role` when the server refuses both, with what each said.
 */
async function roleOf(conn: Connection, peer: string, spec: RedisSpec): Promise<{ role: Role; via: string } | { unconfirmed: string }> {
  const role = await own(conn, 'ROLE', peer, spec, (c) => c.role());
  if ('reply' in role) {
    const parsed = parseRoleReply(role.reply);
    if (!parsed) {
      throw new NotReady('response', 'UNEXPECTED_REPLY', `${peer} answered ROLE with ${describeReply(role.reply)}, not a role (master, slave or sentinel)`);
    }
    return { role: parsed, via: 'ROLE' };
  }
  const info = await own(conn, 'INFO', peer, spec, (c) => c.info('replication'));
  if ('reply' in info) {
    const parsed = parseInfoRole(info.reply);
    if (!parsed) {
      throw new NotReady('response', 'UNEXPECTED_REPLY', `${peer} refused ROLE ("${role.refused}") and answered INFO replication with ${describeReply(info.reply)}, which names no role`);
    }
    return { role: parsed, via: 'INFO replication' };
  }
  return { unconfirmed: `ROLE was refused ("${role.refused}") and so was INFO replication ("${info.refused}")` };
}

/**
 * Confirms that the server is a master, as Harbor needs one: it writes (sessions, cache, job queues), and a
 * replica answers the first write with READONLY. When the server refuses both ROLE and INFO replication, it
 * stays ready with a warning (returned) that the role could not be confirmed.
 */
async function confirmMaster(conn: Connection, peer: string, spec: RedisSpec): Promise<string | undefined> {
  const found = await roleOf(conn, peer, spec);
  if ('unconfirmed' in found) {
    return `the role of ${peer} could not be confirmed: ${found.unconfirmed}; if it is a replica, Harbor's first write fails with READONLY`;
  }
  const { role, via } = found;
  if (role.kind === 'master') return undefined;
  if (role.kind === 'sentinel') {
    throw new NotReady(
      'response',
      'NOT_MASTER',
      spec.sentinel
        ? `${peer} is a Sentinel, not a master: check the sentinels' "sentinel monitor" lines`
        : `${peer} is a Sentinel, not a Redis server: use redis+sentinel://HOST:PORT/MASTER-NAME, or the master's own address`,
    );
  }
  const what = `${peer} is a replica (${via}: slave) of ${role.of}, link ${role.link}`;
  throw new NotReady(
    'response',
    'NOT_MASTER',
    spec.sentinel
      ? `${what}, not a master: the sentinels' view is stale or a failover is under way; Harbor's first write would fail with READONLY`
      : `${what}: Harbor's first write would fail with READONLY; point the URL at the primary (not a replica's or a reader endpoint's address), or use redis+sentinel://`,
  );
}

/**
 * The master's address in a reply to SENTINEL get-master-addr-by-name: `[host, port]`, the host an IP address
 * or a host name and the port 1-65535; undefined for any other shape.
 */
export function masterAddress(reply: unknown): { host: string; port: number } | undefined {
  if (!Array.isArray(reply) || reply.length !== 2) return undefined;
  const [host, port] = reply as unknown[];
  if (typeof host !== 'string' || (typeof port !== 'string' && typeof port !== 'number')) return undefined;
  const text = String(port);
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) return undefined;
  const valid = host.includes(':') ? builtin('node:net').isIPv6(host) : hostProblem(host) === undefined;
  return valid ? { host, port: Number(text) } : undefined;
}

/** Asks the sentinels in order for the master's address (no AUTH, as Harbor); the next on any failure. */
async function findMaster(o: Omit<OpenOptions, 'host' | 'port' | 'peer'>): Promise<{ host: string; port: number }> {
  const name = o.spec.masterName as string;
  let last: NotReady | undefined;
  for (const s of o.spec.hosts) {
    const peer = `sentinel ${hostPort(s.host, s.port)}`;
    try {
      const conn = await open({ ...o, host: s.host, port: s.port, peer });
      try {
        const reply: unknown = await conn.command('SENTINEL', 'response', (c) => c.call('SENTINEL', 'get-master-addr-by-name', name));
        if (reply === null) throw new NotReady('response', 'UNKNOWN_MASTER', `${peer} knows no master named "${name}"`);
        const master = masterAddress(reply);
        if (master) return master;
        throw new NotReady(
          'response',
          'UNEXPECTED_REPLY',
          `${peer} answered SENTINEL get-master-addr-by-name with ${describeReply(reply)}, not the address of master "${name}" (a host and a port 1-65535)`,
        );
      } finally {
        conn.close();
      }
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      last = classify(err, o.progress.stage, peer);
      if (last.code === 'NOAUTH') {
        // The URL's credentials are the master's: a sentinel that wants a password gets none, from Harbor either.
        last = new NotReady(last.stage, last.code, `${peer} requires a password, but Harbor sends none to the sentinels (goharbor/harbor#14757): they must not require one`);
      }
    }
  }
  const tried = o.spec.hosts.length;
  if (last && tried > 1) {
    throw new NotReady(last.stage, last.code, `none of ${tried} sentinels gave the master; last: ${last.reason}`);
  }
  throw last as NotReady;
}

export function createRedisCheck(label: string, spec: RedisSpec, ctx: CheckContext): Check {
  const tls = spec.tls ? tlsOptions(ctx.tls, spec.skipVerify) : undefined;
  tls?.catch(() => {}); // a failure surfaces when an attempt awaits it
  const ready = (address: string, warning: string | undefined): Ready => ({ address, ...(warning !== undefined ? { warning } : {}) });
  return {
    target: label,
    async attempt(signal, progress): Promise<Ready> {
      const base = { spec, ctx, tls, signal, progress };
      if (!spec.sentinel) {
        // As Harbor: AUTH, SELECT, PING; then the role, so that a loading or stale server says so first.
        const server = spec.hosts[0] as { host: string; port: number };
        const peer = hostPort(server.host, server.port);
        const conn = await open({ ...base, ...server, peer });
        try {
          await login(conn, spec);
          await selectAndPing(conn, spec, peer);
          return ready(conn.address, await confirmMaster(conn, peer, spec));
        } finally {
          conn.close();
        }
      }
      const master = await findMaster(base);
      const peer = `master "${spec.masterName}" at ${scrubText(hostPort(master.host, master.port))}`;
      const conn = await open({ ...base, ...master, peer });
      try {
        await login(conn, spec);
        const warning = await confirmMaster(conn, peer, spec);
        await selectAndPing(conn, spec, peer);
        return ready(conn.address, warning);
      } finally {
        conn.close();
      }
    },
  };
}
