/**
 * Redis readiness as Harbor sees it: connect (TLS for rediss, verified), AUTH when a password is given,
 * SELECT when db ≠ 0, PING answered PONG. Sentinel: ask the sentinels in order for the master, confirm
 * with ROLE that it is one, then the same. Every command goes through ioredis, over a socket that dial()
 * opened (ioredis's `Connector` option), so DNS, TCP and TLS have the same stages, codes and address as
 * every other target. ioredis's reconnects, offline queue, ready check, client-info commands and
 * per-request retries are off: only the waiter decides when to try again, and each attempt closes the
 * clients it made on every path.
 *
 * This module is imported only when a Redis target is configured (targets/index.ts), so a run without one
 * never loads ioredis. It imports ioredis's Redis class from its own file rather than the package index,
 * which would also load its Cluster client and streams (scripts/stubs.ts lists what the bundle leaves out).
 */
import type net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';
import AbstractConnectorModule from 'ioredis/built/connectors/AbstractConnector.js';
import RedisModule from 'ioredis/built/Redis.js';
import { abortable } from '../abort.ts';
import { dial, hostPort, tlsOptions, watchWire, wireError, type Wire } from '../dial.ts';
import { classify, firstLine, NotReady, preview, type Stage } from '../errors.ts';
import type { RedisSpec } from './redis-url.ts';
import { loaded } from '../libraries.ts';
import type { Check, CheckContext, Progress, Ready } from './types.ts';

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
    throw replyError(err, wire, o.progress.stage, o.peer, 'the connection', o.spec.tls);
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
        throw replyError(err, wire as Wire, stage, o.peer, name, o.spec.tls);
      }
    },
    close,
  };
}

/**
 * Maps what a command met to NotReady, by what is known for certain: an error reply from the server (its
 * first word is the code), the wire cut off for size, the socket's own error or the peer gone (wireError),
 * or else a reply ioredis could not parse. Never includes command arguments.
 */
function replyError(err: unknown, wire: Wire, stage: Stage, peer: string, command: string, tls: boolean): NotReady {
  const hint = tls ? '' : ' (if that port speaks TLS, use rediss://)';
  if (err instanceof Error && err.name === 'ReplyError') {
    const code = /^[A-Z][A-Z_]+(?=\s|$)/.exec(err.message)?.[0] ?? 'ERR';
    const known = REPLY_REASONS[code];
    const reason = known ? `${peer} ${known}` : `${peer} answered ${command} with "${firstLine(err.message)}"`;
    return new NotReady(code === 'WRONGPASS' || code === 'NOAUTH' ? 'auth' : stage, code, reason);
  }
  if (wire.tooLarge) {
    return new NotReady(stage, 'REPLY_TOO_LARGE', `${peer} sent more than ${MAX_REPLY_BYTES} bytes without finishing a reply`);
  }
  return wireError(wire, stage, peer, hint) ?? new NotReady(stage, 'NOT_REDIS', `${peer} answered with something that is not a Redis reply, beginning "${preview(wire.head)}"${hint}`);
}

/** AUTH (when a password is given), then what `middle` adds, then SELECT (db ≠ 0) and PING. */
async function confirm(conn: Connection, spec: RedisSpec, peer: string, middle?: () => Promise<void>): Promise<void> {
  const { username, password } = spec;
  if (password !== undefined) {
    await conn.command('AUTH', 'auth', (c) => (username ? c.auth(username, password) : c.auth(password)));
  }
  await middle?.();
  if (spec.db !== 0) await conn.command('SELECT', 'response', (c) => c.select(spec.db));
  const pong = await conn.command('PING', 'response', (c) => c.ping());
  if (pong !== 'PONG') {
    throw new NotReady('response', 'UNEXPECTED_REPLY', `${peer} answered PING with something other than PONG`);
  }
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
        const reply = await conn.command('SENTINEL', 'response', (c) => c.call('SENTINEL', 'get-master-addr-by-name', name));
        if (Array.isArray(reply) && reply.length === 2) return { host: String(reply[0]), port: Number(reply[1]) };
        throw new NotReady('response', 'UNKNOWN_MASTER', `${peer} knows no master named "${name}"`);
      } finally {
        conn.close();
      }
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      last = classify(err, o.progress.stage, peer);
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
  return {
    target: label,
    async attempt(signal, progress): Promise<Ready> {
      const base = { spec, ctx, tls, signal, progress };
      if (!spec.sentinel) {
        const server = spec.hosts[0] as { host: string; port: number };
        const peer = hostPort(server.host, server.port);
        const conn = await open({ ...base, ...server, peer });
        try {
          await confirm(conn, spec, peer);
          return { address: conn.address };
        } finally {
          conn.close();
        }
      }
      const master = await findMaster(base);
      const peer = `master "${spec.masterName}" at ${hostPort(master.host, master.port)}`;
      const conn = await open({ ...base, ...master, peer });
      try {
        await confirm(conn, spec, peer, async () => {
          const role: unknown = await conn.command('ROLE', 'response', (c) => c.role());
          const kind = Array.isArray(role) ? String(role[0]) : 'unknown';
          if (kind !== 'master') {
            throw new NotReady(
              'response',
              'NOT_MASTER',
              `${peer} is a ${kind}, not a master: the sentinels' view is stale or a failover is under way`,
            );
          }
        });
        return { address: conn.address };
      } finally {
        conn.close();
      }
    },
  };
}
